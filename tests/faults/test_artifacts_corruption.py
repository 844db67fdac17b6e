"""Faults: damaged objects and pack indexes name what the user stored, and stop nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.linear_model import LinearRegression
from typer.testing import CliRunner

import mloop
from mloop.cli.app import app
from mloop.errors import IntegrityError
from mloop.tracking.connection import connect
from mloop.tracking.gc import collect_garbage


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def _loose(home: Path, digest: str) -> Path:
    return home / "artifacts" / "objects" / digest[:2] / digest[2:]


def _packs(home: Path, suffix: str) -> list[Path]:
    return sorted((home / "artifacts" / "packs").glob(f"*{suffix}"))


def test_a_damaged_run_artifact_names_the_run_and_path_and_leaves_no_partial_download(
    home: Path, tmp_path: Path
) -> None:
    with mloop.start_run() as run:
        mloop.log_text("first", "reports/a.txt")
        mloop.log_text("second", "reports/b.txt")
        mloop.log_text("third", "reports/c.txt")
    digest = mloop.Client().list_artifacts(run.info.run_id, "reports/b.txt")[0].digest
    assert digest is not None
    _flip_last_byte(_loose(home, digest))
    target = tmp_path / "out"
    with pytest.raises(IntegrityError) as caught:
        mloop.Client().download_artifacts(run.info.run_id, "reports", target)
    assert run.info.run_id in str(caught.value)
    assert "reports/b.txt" in str(caught.value)
    assert not target.exists() or not any(target.rglob("*"))  # nothing half-downloaded
    assert [p.name for p in tmp_path.iterdir()] in ([], ["home"], ["out"])


def test_a_download_into_an_existing_folder_keeps_its_files(home: Path, tmp_path: Path) -> None:
    with mloop.start_run() as run:
        mloop.log_text("first", "reports/a.txt")
    target = tmp_path / "out"
    target.mkdir()
    (target / "mine.txt").write_text("kept")
    path = mloop.Client().download_artifacts(run.info.run_id, "reports", target)
    assert Path(path, "a.txt").read_text() == "first"
    assert (target / "mine.txt").read_text() == "kept"
    assert sorted(p.name for p in target.iterdir()) == ["mine.txt", "reports"]


def test_a_damaged_dataset_file_names_the_version_and_file(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "part1.csv").write_text("a\n1\n")
    mloop.data.add(folder, "ds")
    (pack,) = _packs(home, ".pack")
    _flip_last_byte(pack)
    with pytest.raises(IntegrityError) as caught:
        _ = mloop.data.get("ds@1").path
    assert "ds@1" in str(caught.value)
    assert "part1.csv" in str(caught.value)
    assert pack.name in str(caught.value)


def test_a_damaged_model_file_names_the_model(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "m"
    mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    mloop.models.register(path, "credit")
    for pack in _packs(home, ".pack"):
        _flip_last_byte(pack)
    with pytest.raises(IntegrityError) as caught:
        mloop.models.load("models:/credit/1")
    assert "credit/1" in str(caught.value)


def test_gc_reports_a_damaged_pack_index_and_collects_the_rest(home: Path, tmp_path: Path) -> None:
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "f.txt").write_text(name)
        with mloop.start_run():
            mloop.log_artifacts(folder)
    loose = mloop.Client().content.put_bytes(b"nobody points here")
    damaged, _ = _packs(home, ".idx")
    damaged.write_bytes(damaged.read_bytes()[:-3])
    backend = connect(mloop.Client().settings)
    report = collect_garbage(backend.stores, backend.content, grace_seconds=0)
    assert loose in report.deleted_objects
    assert len(report.problems) == 1
    assert damaged.name in report.problems[0]
    assert damaged.exists()  # reported, never removed


def test_the_gc_command_names_a_damaged_index_and_exits_non_zero(
    home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "f.txt").write_text("one")
    with mloop.start_run():
        mloop.log_artifacts(folder)
    (index,) = _packs(home, ".idx")
    index.write_bytes(b"garbage")
    result = CliRunner().invoke(app, ["gc", "--grace-period", "0"])
    assert result.exit_code == 6
    assert index.name in result.output


def test_a_damaged_logged_model_names_the_run_package(home: Path, tmp_path: Path) -> None:
    info = mloop.models.log_model(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), "model")
    client = mloop.Client()
    manifest = next(
        a for a in client.list_artifacts(info.run_id, "model") if a.path.endswith(".yaml")
    )
    assert manifest.digest is not None
    for pack in _packs(home, ".pack"):
        _flip_last_byte(pack)
    loose = _loose(home, manifest.digest)
    if loose.exists():
        _flip_last_byte(loose)
    mloop.models.clear_cache()
    with pytest.raises(IntegrityError) as caught:
        mloop.models.load(info.model_uri)
    assert info.run_id in str(caught.value)
