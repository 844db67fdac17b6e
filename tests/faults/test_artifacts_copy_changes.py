"""A file rewritten while the kernel copies it is refused, even when its mtime is put back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mloop.artifacts.cas import ContentStore
from mloop.errors import IntegrityError


def test_a_rewrite_that_restores_the_mtime_is_still_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mloop.artifacts.cas.PARALLEL_COPY_SIZE", 1024)
    source = tmp_path / "weights.bin"
    source.write_bytes(b"a" * 4096)
    stamp = source.stat()
    real_copy = shutil.copyfile

    def copy_then_rewrite(src: str, dst: str) -> str:
        result = real_copy(src, dst)
        # Same size, same mtime: only the change time (and a new inode) tell.
        replacement = tmp_path / "replacement"
        replacement.write_bytes(b"b" * 4096)
        os.utime(replacement, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        os.replace(replacement, source)
        return result

    monkeypatch.setattr("mloop.artifacts.objects.local.shutil.copyfile", copy_then_rewrite)
    store = ContentStore(str(tmp_path / "store"))
    with pytest.raises(IntegrityError, match="changed while it was being stored"):
        store.put_file(source, likely_new=True)


def test_an_in_place_rewrite_that_restores_the_mtime_is_still_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mloop.artifacts.cas.PARALLEL_COPY_SIZE", 1024)
    source = tmp_path / "weights.bin"
    source.write_bytes(b"a" * 4096)
    stamp = source.stat()
    real_copy = shutil.copyfile

    def copy_then_rewrite(src: str, dst: str) -> str:
        result = real_copy(src, dst)
        with open(source, "r+b") as handle:
            handle.write(b"b")
        os.utime(source, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        return result

    monkeypatch.setattr("mloop.artifacts.objects.local.shutil.copyfile", copy_then_rewrite)
    store = ContentStore(str(tmp_path / "store"))
    with pytest.raises(IntegrityError, match="changed while it was being stored"):
        store.put_file(source, likely_new=True)
