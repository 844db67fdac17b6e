"""Faults: local copies of datasets and models that were changed or removed behind mloop's back."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from sklearn.linear_model import LinearRegression
from typer.testing import CliRunner

import mloop
from mloop.cli.app import app
from mloop.data.api import check_local_copies
from mloop.data.versioning import copy_folder_name
from mloop.errors import IntegrityError


@pytest.fixture
def dataset(home: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "part1.csv").write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    version = mloop.data.add(folder, "ds").info
    return home / "datasets" / "ds" / copy_folder_name(version) / "part1.csv"


def _writable(path: Path) -> None:
    path.chmod(0o644)


def test_a_row_appended_to_a_dataset_copy_is_not_trusted(
    dataset: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(mloop.data.get("ds@1").to_pandas()) == 100
    _writable(dataset)
    with dataset.open("a") as handle:
        handle.write("100\n")
    with caplog.at_level(logging.WARNING):
        assert len(mloop.data.get("ds@1").to_pandas()) == 100
    assert "part1.csv" in caplog.text
    assert "fetched again" in caplog.text


def test_an_edit_with_the_same_size_and_mtime_is_not_trusted(dataset: Path) -> None:
    _ = mloop.data.get("ds@1").path
    before = os.stat(dataset)
    _writable(dataset)
    dataset.write_text(dataset.read_text().replace("42", "24"))
    os.utime(dataset, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "42" in (mloop.data.get("ds@1").path / "part1.csv").read_text()


def test_a_deleted_dataset_copy_is_fetched_again(dataset: Path) -> None:
    _ = mloop.data.get("ds@1").path
    shutil.rmtree(dataset.parent)
    assert len(mloop.data.get("ds@1").to_pandas()) == 100


def _model(home: Path, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "m"
    mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    version = mloop.models.register(path, "credit")
    mloop.models.load("models:/credit/1")
    mloop.models.clear_cache()
    return home / "models" / version.digest, version.digest


def test_a_deleted_model_copy_is_fetched_again(home: Path, tmp_path: Path) -> None:
    folder, _ = _model(home, tmp_path)
    assert folder.is_dir()
    shutil.rmtree(folder)
    assert mloop.models.load("models:/credit/1").predict([[3.0]])[0] == pytest.approx(3.0)


def test_a_damaged_model_copy_is_reported_and_repaired_by_verify(
    home: Path, tmp_path: Path
) -> None:
    folder, digest = _model(home, tmp_path)
    damaged = next(p for p in folder.rglob("*") if p.is_file() and p.name != "mloop-model.yaml")
    _writable(damaged)
    damaged.write_bytes(b"\0" * damaged.stat().st_size)
    # Damage a stat cannot see (bit rot): the copy's recorded fingerprint is made to match.
    marker = folder.parent / f".{digest}.complete"
    record = json.loads(marker.read_text())
    st = damaged.stat()
    record["files"][damaged.relative_to(folder).as_posix()] = [
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
    ]
    marker.write_text(json.dumps(record))
    with pytest.raises(IntegrityError):
        mloop.models.load("models:/credit/1")
    report = mloop.models.verify("credit/1")
    assert report.repaired == [damaged.relative_to(folder).as_posix()]
    assert mloop.models.load("models:/credit/1").predict([[3.0]])[0] == pytest.approx(3.0)


def test_models_verify_says_the_local_copy_was_repaired(home: Path, tmp_path: Path) -> None:
    folder, _ = _model(home, tmp_path)
    (folder / "extra.py").write_text("print('not in the package')")
    result = CliRunner().invoke(app, ["models", "verify", "credit/1"])
    assert result.exit_code == 0, result.output
    assert "the local copy was damaged" in result.output
    assert "extra.py" in result.output
    assert not (folder / "extra.py").exists()


def test_two_stores_sharing_a_home_never_read_each_others_copies(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOOP_ARTIFACTS_URI")  # each store keeps its artifacts beside it
    rows = {"a": "rows of store a\n", "b": "store b has other rows\n"}
    copies = {}
    for store, text in rows.items():
        mloop.set_tracking_uri(f"sqlite:///{tmp_path}/{store}.db")
        folder = tmp_path / f"source-{store}"
        folder.mkdir()
        (folder / "rows.txt").write_text(text)
        copies[store] = mloop.data.add(folder, "ds").path
    for store, text in rows.items():  # a's copy, handed out first, still holds a's rows
        assert (copies[store] / "rows.txt").read_text() == text
    for store, text in rows.items():
        mloop.set_tracking_uri(f"sqlite:///{tmp_path}/{store}.db")
        assert (mloop.data.get("ds@1").path / "rows.txt").read_text() == text
        assert check_local_copies() == {}
    assert len(list((home / "datasets" / "ds").iterdir())) == 2
