from __future__ import annotations

from pathlib import Path

import pytest

from mloop.errors import InvalidInput
from mloop.importing.mlflow.artifacts import ArtifactFile, ArtifactReader, local_path, proxy_path


def test_a_local_folder_is_listed_and_read_in_place(tmp_path: Path) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.csv").write_text("x\n")
    (tmp_path / "notes.txt").write_text("hi")
    reader = ArtifactReader()
    for uri in (str(tmp_path), tmp_path.as_uri()):
        assert reader.list_files(uri) == [
            ArtifactFile("notes.txt", 2),
            ArtifactFile("plots/a.csv", 2),
        ]
    assert (
        reader.fetch(tmp_path.as_uri(), "plots/a.csv", tmp_path / "x") == tmp_path / "plots/a.csv"
    )


def test_a_missing_or_absent_location_has_no_files(tmp_path: Path) -> None:
    reader = ArtifactReader()
    assert reader.list_files(str(tmp_path / "none")) == []
    assert reader.list_files("") == []


def test_cloud_storage_is_refused_with_what_to_do() -> None:
    with pytest.raises(InvalidInput, match=r"in s3: storage.*--serve-artifacts"):
        ArtifactReader().check("s3://bucket/1/abc/artifacts")


def test_proxied_artifacts_need_a_server() -> None:
    with pytest.raises(InvalidInput, match="--server http://HOST:PORT"):
        ArtifactReader().check("mlflow-artifacts:/1/abc/artifacts")


def test_uris_to_paths() -> None:
    assert local_path("file:///tmp/m%20l/x") == Path("/tmp/m l/x")
    assert local_path("relative/mlruns") == Path("relative/mlruns")
    assert proxy_path("mlflow-artifacts:/1/abc/artifacts") == "1/abc/artifacts"
