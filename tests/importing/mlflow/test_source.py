from __future__ import annotations

from pathlib import Path

import pytest

from mloop.errors import InvalidInput, NotFound
from mloop.importing.mlflow.source import open_source, source_kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mlruns", "folder"),
        ("file:///tmp/mlruns", "folder"),
        ("sqlite:///mlflow.db", "database"),
        ("postgresql+psycopg://u@h/db", "database"),
        ("https://mlflow.example.com", "server"),
    ],
)
def test_the_kind_of_source(text: str, kind: str) -> None:
    assert source_kind(text) == kind


def test_an_unknown_kind_of_source_hides_credentials() -> None:
    with pytest.raises(InvalidInput, match="cannot import from 'ftp://u:\\*\\*\\*@host/x'"):
        source_kind("ftp://u:pw@host/x")


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such folder"):
        open_source(str(tmp_path / "mlruns"))


def test_a_bad_artifact_server_url(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="http"):
        open_source(str(tmp_path), server="localhost:5000")
