from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from mloop.data.hash_cache import FileKey, HashCache, file_key


def key_of(path: Path) -> FileKey:
    return file_key(str(path), os.stat(path))


def test_many_files_are_found_with_one_range_query(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    (folder / "sub").mkdir(parents=True)
    paths = [folder / ("sub" if i % 2 else "") / f"f{i:04d}" for i in range(1500)]
    for path in paths:
        path.write_text(path.name)
    neighbour = tmp_path / "many-other"  # shares the folder's name as a prefix
    neighbour.write_text("x")
    cache = HashCache(tmp_path / "hashes.db")
    cache.record([(key_of(p), f"{i:064x}") for i, p in enumerate(paths)])
    cache.record([(key_of(neighbour), "f" * 64)])
    found = cache.lookup([key_of(p) for p in paths])
    assert found == {str(p): f"{i:064x}" for i, p in enumerate(paths)}


def test_a_changed_file_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("one")
    cache = HashCache(tmp_path / "hashes.db")
    cache.record([(key_of(path), "a" * 64)])
    before = key_of(path)
    path.write_text("two!")  # new size and mtime
    assert cache.lookup([key_of(path)]) == {}
    os.utime(path, ns=(before[2], before[2]))
    path.write_text("one")  # the same size; mtime moves again
    assert cache.lookup([key_of(path)]) == {}
    replaced = tmp_path / "g"
    replaced.write_text("one")
    os.replace(replaced, path)  # a new inode at the same path
    assert cache.lookup([key_of(path)]) == {}


def test_empty_lookups_and_records(tmp_path: Path) -> None:
    cache = HashCache(tmp_path / "deep" / "hashes.db")
    assert cache.lookup([]) == {}
    cache.record([])
    assert not (tmp_path / "deep").exists()  # nothing to remember: nothing created


def test_entries_of_the_old_key_are_dropped_not_trusted(tmp_path: Path) -> None:
    location = tmp_path / "hashes.db"
    path = tmp_path / "f"
    path.write_text("one")
    st = os.stat(path)
    old = sqlite3.connect(location)
    with old:
        old.execute(
            "CREATE TABLE hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
            "inode INTEGER, digest TEXT)"
        )
        old.execute(
            "INSERT INTO hashes VALUES (?, ?, ?, ?, ?)",
            (str(path), 3, st.st_mtime_ns, st.st_ino, "a" * 64),
        )
    old.close()
    cache = HashCache(location)
    assert cache.lookup([key_of(path)]) == {}
    cache.record([(key_of(path), "b" * 64)])
    assert cache.lookup([key_of(path)]) == {str(path): "b" * 64}
