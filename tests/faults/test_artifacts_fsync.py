"""Faults: a power cut must not leave a valid object name on bytes that never reached the disk.

What the disk sees cannot be tested without cutting the power; what can be is the
order of the system calls: every file is synced before it is renamed into place,
and its folder after.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mloop.artifacts.cas import ContentStore


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        seen.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        real_replace(src, dst)
        seen.append(("rename", f"{src} -> {dst}"))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return seen


def _check_order(calls: list[tuple[str, str]]) -> int:
    renames = [
        (i, detail.split(" -> ")) for i, (kind, detail) in enumerate(calls) if kind == "rename"
    ]
    assert renames
    for at, (src, dst) in renames:
        synced = [i for i, (kind, path) in enumerate(calls) if kind == "fsync" and path == src]
        assert synced and synced[0] < at, f"{src} was renamed before it was synced"
        folder = [
            i
            for i, (kind, path) in enumerate(calls)
            if kind == "fsync" and path == os.path.dirname(dst) and i > at
        ]
        assert folder, f"the folder of {dst} was not synced after the rename"
    return len(renames)


@pytest.mark.parametrize("size", [10, 2 << 20])
def test_an_object_is_synced_before_and_after_its_rename(
    tmp_path: Path, calls: list[tuple[str, str]], size: int
) -> None:
    store = ContentStore(str(tmp_path / "store"))
    store.put_bytes(os.urandom(size))
    source = tmp_path / "f"
    source.write_bytes(os.urandom(size))
    store.put_file(source, likely_new=True)
    assert _check_order(calls) == 2


def test_a_pack_and_its_index_are_synced_once_per_pack(
    tmp_path: Path, calls: list[tuple[str, str]]
) -> None:
    store = ContentStore(str(tmp_path / "store"))
    with store.batch() as batch:
        for i in range(200):
            batch.put_bytes(f"object {i}".encode())
    assert _check_order(calls) == 2  # the pack, then its index
    assert sum(kind == "fsync" for kind, _ in calls) <= 5  # and the new packs/ folder


def test_a_large_file_copied_by_the_kernel_is_synced(
    tmp_path: Path, calls: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mloop.artifacts.cas.PARALLEL_COPY_SIZE", 1024)
    store = ContentStore(str(tmp_path / "store"))
    source = tmp_path / "big"
    source.write_bytes(os.urandom(4096))
    store.put_file(source, likely_new=True)
    assert _check_order(calls) == 1
