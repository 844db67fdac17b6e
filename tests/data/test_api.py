from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import mloop
from mloop.artifacts.cas import ContentStore, StoreBatch
from mloop.errors import InvalidInput, NotFound, StoreError
from mloop.tracking.connection import connect
from mloop.tracking.gc import collect_garbage


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    (root / "sub").mkdir(parents=True)
    (root / "a.csv").write_text("x,y\n1,2\n")
    (root / "sub" / "b.json").write_text('{"k": 1}\n')
    return root


def test_add_folder_then_get_it_back(home: Path, folder: Path) -> None:
    v1 = mloop.data.add(folder, name="raw", description="first drop")
    assert (v1.ref, v1.version, len(v1.files)) == ("raw@1", 1, 2)
    assert [f.path for f in v1.files] == ["a.csv", "sub/b.json"]
    assert v1.info.total_bytes == sum(f.size for f in v1.files)
    local = mloop.data.get("raw@1").path
    assert (local / "sub" / "b.json").read_text() == '{"k": 1}\n'
    assert not os.access(local / "a.csv", os.W_OK) or os.geteuid() == 0
    assert stat.S_IMODE((local / "a.csv").stat().st_mode) & 0o222 == 0  # read-only
    assert mloop.data.get("raw@1").path == local  # cached


def test_unchanged_content_returns_the_existing_version(home: Path, folder: Path) -> None:
    first = mloop.data.add(folder, name="raw")
    assert mloop.data.add(folder, name="raw").ref == first.ref
    (folder / "a.csv").write_text("x,y\n1,2\n3,4\n")
    second = mloop.data.add(folder, name="raw", tags=["prod"])
    assert second.ref == "raw@2"
    assert mloop.data.get("raw").ref == "raw@2"
    assert mloop.data.get("raw@prod").ref == "raw@2"
    mloop.data.tag("raw@1", "prod")
    assert mloop.data.get("raw@prod").ref == "raw@1"
    assert [v.version for v in mloop.data.versions("raw")] == [1, 2]
    assert [d.ref for d in mloop.data.datasets()] == ["raw@2"]
    # the unchanged file was stored once across both versions
    objects = [o.digest for o in ContentStore(str(home / "artifacts")).iter_objects()]
    assert len(objects) == 3


def test_single_file(home: Path, folder: Path) -> None:
    version = mloop.data.add(folder / "a.csv", name="one")
    assert [f.path for f in version.files] == ["a.csv"]


def test_lineage_inside_a_run(home: Path, folder: Path) -> None:
    with mloop.start_run() as run:
        produced = mloop.data.add(folder, name="raw")
    with mloop.start_run() as consumer:
        mloop.log_input(mloop.data.get("raw@1"), context="training")
    assert produced.run_id == run.info.run_id
    outputs = mloop.get_run(run.info.run_id).outputs
    assert [(o.digest, o.kind) for o in outputs] == [(produced.digest, "dataset")]
    inputs = mloop.get_run(consumer.info.run_id).inputs
    assert [(i.digest, i.context) for i in inputs] == [(produced.digest, "training")]


def test_gc_keeps_dataset_objects(home: Path, folder: Path) -> None:
    version = mloop.data.add(folder, name="raw")
    backend = connect(mloop.Client().settings)
    report = collect_garbage(backend.stores, backend.content, grace_seconds=0)
    assert report.deleted_objects == []
    assert all(backend.content.exists(f.digest) for f in version.files)


def test_bad_input_writes_nothing(home: Path, tmp_path: Path, folder: Path) -> None:
    with pytest.raises(NotFound):
        mloop.data.add(tmp_path / "missing", name="x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="no files"):
        mloop.data.add(tmp_path / "empty", name="x")
    (folder / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(InvalidInput, match="broken symbolic link"):
        mloop.data.add(folder, name="x")
    (folder / "dangling").unlink()
    for bad_name in ("", "has space", "@x", "-lead"):
        with pytest.raises(InvalidInput):
            mloop.data.add(folder, name=bad_name)
    with pytest.raises(InvalidInput):
        mloop.data.add(folder, name="x", tags=["1abc"])
    with pytest.raises(NotFound):
        mloop.data.get("x")
    with pytest.raises(InvalidInput):
        mloop.data.get("x@0")


def test_interrupted_add_leaves_no_version(
    home: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = StoreBatch.put_file
    calls = []

    def failing(self: StoreBatch, path: str, **options: bool) -> tuple[str, int]:
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, path, **options)

    with monkeypatch.context() as patch:
        patch.setattr(StoreBatch, "put_file", failing)
        with pytest.raises(StoreError, match="disk full"):
            mloop.data.add(folder, name="raw")
    with pytest.raises(NotFound):
        mloop.data.get("raw")
    # the pack being written was discarded, not left half-written
    content = ContentStore(str(home / "artifacts"))
    assert list(content.iter_temp()) == []
    assert list(content.iter_objects()) == []
    assert mloop.data.add(folder, name="raw").ref == "raw@1"


def test_re_adding_unchanged_files_reads_nothing(
    home: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = mloop.data.add(folder, name="raw")
    with monkeypatch.context() as patch:

        def no_reading(self: StoreBatch, path: str, **options: bool) -> tuple[str, int]:
            raise AssertionError(f"{path} was read again")

        patch.setattr(StoreBatch, "put_file", no_reading)
        assert mloop.data.add(folder, name="raw").ref == first.ref
    # a changed file (new size and mtime) is hashed again, never taken from the cache
    (folder / "a.csv").write_text("x,y\n9,9\n7,7\n")
    second = mloop.data.add(folder, name="raw")
    assert second.ref == "raw@2"
    assert (second.path / "a.csv").read_text() == "x,y\n9,9\n7,7\n"


def test_a_cached_digest_whose_object_is_gone_is_stored_again(home: Path, folder: Path) -> None:
    first = mloop.data.add(folder, name="raw")
    backend = connect(mloop.Client().settings)
    for item in first.files:
        backend.content.delete(item.digest)
    again = mloop.data.add(folder, name="other")
    assert all(backend.content.exists(f.digest) for f in again.files)


def test_progress_callback(home: Path, folder: Path) -> None:
    seen: list[tuple[int, int]] = []
    mloop.data.add(folder, name="raw", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2, 2)
