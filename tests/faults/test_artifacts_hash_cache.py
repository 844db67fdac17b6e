"""Faults: an edit that keeps a file's size and restores its modification time."""

from __future__ import annotations

import os
from pathlib import Path

import mloop


def test_an_edit_with_a_restored_mtime_is_a_new_version(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "rows"
    folder.mkdir()
    data = folder / "part.csv"
    data.write_text("a,b\n1,2\n")
    first = mloop.data.add(folder, "rows")
    before = os.stat(data)
    data.write_text("a,b\n9,9\n")  # the same size
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `rsync -t` does
    assert os.stat(data).st_mtime_ns == before.st_mtime_ns
    second = mloop.data.add(folder, "rows")
    assert second.version == first.version + 1
    assert (second.path / "part.csv").read_text() == "a,b\n9,9\n"
