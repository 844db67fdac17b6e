"""Faults: concurrent writers that store the same content twice; gc keeps one copy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import mloop
from mloop.artifacts.cas import ContentStore
from mloop.tracking.connection import connect
from mloop.tracking.gc import collect_garbage

_ADD = """
import pathlib, sys, time
import mloop
from mloop.artifacts import cas

folder, go, ready, name = sys.argv[1:]
commit = cas.ContentStore._commit_pack


def commit_together(self, temp, entries):
    # The race made certain: no writer's pack is visible before every writer has written its own.
    pathlib.Path(ready + ".sealing").touch()
    deadline = time.monotonic() + 20
    while len(list(pathlib.Path(ready).parent.glob("*.sealing"))) < 3:
        assert time.monotonic() < deadline, "the other writers never came"
        time.sleep(0.001)
    commit(self, temp, entries)


cas.ContentStore._commit_pack = commit_together
pathlib.Path(ready).touch()
deadline = time.monotonic() + 20
while not pathlib.Path(go).exists() and time.monotonic() < deadline:
    time.sleep(0.001)
mloop.data.add(folder, name)
"""


def _copies(content: ContentStore) -> Counter[str]:
    return Counter(o.digest for o in content.iter_objects())


def _collect(home: Path) -> tuple[ContentStore, list[str]]:
    backend = connect(mloop.Client().settings)
    report = collect_garbage(backend.stores, backend.content, grace_seconds=0)
    assert report.problems == []
    assert report.deleted_objects == []  # every object is referenced: only copies went
    return backend.content, report.duplicate_copies


def test_three_concurrent_adds_of_the_same_folder_leave_one_copy_after_gc(
    home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "same"
    folder.mkdir()
    for i in range(400):
        (folder / f"f{i:03d}.txt").write_text(f"row {i}\n" * 20)
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = []
    for n in range(3):
        ready = tmp_path / f"ready{n}"
        args = [sys.executable, "-c", _ADD, str(folder), str(go), str(ready), f"same{n}"]
        procs.append((subprocess.Popen(args, env=env), ready))
    deadline = time.monotonic() + 20
    while not all(ready.exists() for _, ready in procs) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    for proc, _ in procs:
        assert proc.wait(timeout=30) == 0
    content = ContentStore(str(home / "artifacts"))
    before = _copies(content)
    assert len(before) == 400
    assert sum(before.values()) == 1200  # three identical packs
    content, dropped = _collect(home)
    assert sum(before.values()) - len(before) == len(dropped)
    after = _copies(content)
    assert set(after) == set(before) and set(after.values()) == {1}
    for n in range(3):
        path = mloop.data.get(f"same{n}@1").path
        assert (path / "f123.txt").read_text() == "row 123\n" * 20


def test_loose_and_packed_copies_of_one_object_are_reduced_to_one(
    home: Path, tmp_path: Path
) -> None:
    content = mloop.Client().content
    data = [f"object {i}".encode() for i in range(10)]
    for _ in range(2):  # two packs holding the same objects, as racing writers leave them
        with content.batch() as batch:
            for item in data:
                batch.put_bytes(item, dedupe=False)
    loose = tmp_path / "loose.bin"
    loose.write_bytes(data[0])
    content.put_file(loose, likely_new=True)  # and a file of its own for one of them
    folder = tmp_path / "ds"
    folder.mkdir()
    for i, item in enumerate(data):
        (folder / f"{i}.txt").write_bytes(item)
    mloop.data.add(folder, "ds")  # references them all (and stores nothing new)
    assert sum(_copies(content).values()) == 21
    reader = ContentStore(str(home / "artifacts"))  # a reader that found the copies before gc
    digests = sorted(_copies(content))
    assert [reader.get_bytes(d) for d in digests]
    content, dropped = _collect(home)
    assert len(dropped) == 11
    assert set(_copies(content).values()) == {1}
    assert sorted(reader.get_bytes(d) for d in digests) == sorted(data)


def _stored_twice(home: Path, payload: bytes) -> tuple[ContentStore, list[Path]]:
    """A logged object, plus a packed copy (as racing writers leave); the packs, then the files."""
    with mloop.start_run():
        mloop.log_text(payload.decode(), "w.txt")
    content = mloop.Client().content
    with content.batch() as batch:
        batch.put_bytes(payload, dedupe=False)
    packs = sorted((home / "artifacts" / "packs").glob("*.pack"))
    loose = sorted((home / "artifacts" / "objects").glob("*/*"))
    return content, packs + loose


def _damage(path: Path, payload: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[data.find(payload[:8])] ^= 0xFF
    path.write_bytes(bytes(data))


def test_gc_keeps_the_whole_copy_not_the_first_one(home: Path) -> None:
    payload = b"precious model weights " * 10
    content, places = _stored_twice(home, payload)
    assert sum(_copies(content).values()) == 2
    _damage(places[0], payload)  # the first packed copy: the one gc kept without looking
    backend = connect(mloop.Client().settings)
    report = collect_garbage(backend.stores, backend.content, grace_seconds=0)
    assert len(report.duplicate_copies) == 1 and report.deleted_objects == []
    [digest] = _copies(content)
    assert sum(_copies(content).values()) == 1
    assert ContentStore(str(home / "artifacts")).get_bytes(digest) == payload


def test_gc_drops_no_copy_when_none_is_whole(home: Path) -> None:
    payload = b"precious model weights " * 10
    content, places = _stored_twice(home, payload)
    for place in places:
        _damage(place, payload)
    backend = connect(mloop.Client().settings)
    report = collect_garbage(backend.stores, backend.content, grace_seconds=0)
    assert report.duplicate_copies == []
    assert any("no copy matches its digest" in p for p in report.problems)
    assert sum(_copies(content).values()) == 2
