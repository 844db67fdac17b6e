from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.trees import materialize, verify_copy
from mloop.errors import IntegrityError


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    return ContentStore(str(tmp_path / "store"))


def test_copies_once_read_only_and_marks_it_done(store: ContentStore, tmp_path: Path) -> None:
    entries = [("a.txt", store.put_bytes(b"a")), ("sub/b.txt", store.put_bytes(b"b"))]
    target, marker = tmp_path / "copy", tmp_path / ".copy.done"
    assert materialize(store, entries, target, marker, "v1") == target
    assert (target / "sub" / "b.txt").read_bytes() == b"b"
    assert stat.S_IMODE((target / "a.txt").stat().st_mode) & stat.S_IWUSR == 0
    assert json.loads(marker.read_text())["stamp"] == "v1"
    before = (target / "sub" / "b.txt").stat().st_ino
    (target / "a.txt").unlink()
    materialize(store, entries, target, marker, "v1")  # a missing file is fetched again
    assert (target / "a.txt").read_bytes() == b"a"
    assert (target / "sub" / "b.txt").stat().st_ino == before  # an intact one is not
    materialize(store, entries, target, marker, "v2")  # another stamp: copied again
    assert (target / "sub" / "b.txt").stat().st_ino != before


def test_verify_copy_rereads_every_byte_and_removes_extras(
    store: ContentStore, tmp_path: Path
) -> None:
    entries = [("a.txt", store.put_bytes(b"a")), ("b.txt", store.put_bytes(b"b"))]
    target, marker = tmp_path / "copy", tmp_path / ".copy.done"
    assert verify_copy(store, entries, target, marker, "v1") == []  # no copy: nothing to check
    materialize(store, entries, target, marker, "v1")
    (target / "b.txt").chmod(0o644)
    (target / "b.txt").write_bytes(b"x")
    (target / "extra.txt").write_text("not listed")
    assert verify_copy(store, entries, target, marker, "v1") == ["b.txt", "extra.txt"]
    assert (target / "b.txt").read_bytes() == b"b"
    assert not (target / "extra.txt").exists()
    assert verify_copy(store, entries, target, marker, "v1") == []


def test_a_corrupted_object_leaves_no_marker(store: ContentStore, tmp_path: Path) -> None:
    digest = store.put_bytes(b"payload")
    location = Path(store.location(digest))
    location.chmod(0o644)
    location.write_bytes(b"tampered")
    marker = tmp_path / ".done"
    with pytest.raises(IntegrityError):
        materialize(store, [("f", digest)], tmp_path / "copy", marker, "v1")
    assert not marker.exists()
    assert not (tmp_path / "copy" / "f").exists()
