"""A local cache of file digests keyed by (path, size, mtime, ctime, inode), as DVC keeps one.

Re-adding a folder whose files did not change then costs a ``stat`` per file
instead of reading every byte. A file whose size, modification time, change
time or inode changed is hashed again; a stale entry is never trusted. The
change time (``st_ctime``) matters because a user cannot set it: an edit that
keeps the size and restores the modification time (``os.utime``, ``rsync -t``,
``touch -r``) still moves it. Callers pass the stat taken *before* a file was
hashed, so a file modified while it was being read is hashed again next time.

Example:
    >>> import os, pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> f = root / "x"; _ = f.write_text("hi")
    >>> key = file_key(str(f), os.stat(f))
    >>> cache = HashCache(root / "hashes.db")
    >>> cache.lookup([key])
    {}
    >>> cache.record([(key, "ab" * 32)])
    >>> cache.lookup([key]) == {str(f): "ab" * 32}
    True
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

FileKey = tuple[str, int, int, int, int]
"""``(absolute path, size, mtime_ns, ctime_ns, inode)`` of a local file."""

_VERSION = 2  # 1 keyed on (path, size, mtime, inode): its entries are dropped, not trusted
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, size INTEGER, "
    "mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER, digest TEXT)"
)
_MANY = 900  # above this, one range query over the common folder beats many IN lists


def file_key(path: str, st: os.stat_result) -> FileKey:
    """What the cache matches a file on, from a stat taken before the file is read.

    Example:
        >>> import os
        >>> st = os.stat("/")
        >>> file_key("/", st) == ("/", st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        True
    """
    return (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class HashCache:
    """Digests of local files, valid while size, mtime, ctime and inode are unchanged."""

    def __init__(self, location: Path) -> None:
        self.location = location

    def _connect(self) -> sqlite3.Connection:
        self.location.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.location, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        if connection.execute("PRAGMA user_version").fetchone()[0] != _VERSION:
            with connection:
                connection.execute("DROP TABLE IF EXISTS hashes")
                connection.execute(_SCHEMA)
                connection.execute(f"PRAGMA user_version = {_VERSION}")
        return connection

    def lookup(self, keys: Sequence[FileKey]) -> dict[str, str]:
        """Cached digests, by path, of the files whose key still matches."""
        if not keys:
            return {}
        wanted = {key[0]: key for key in keys}
        connection = self._connect()
        try:
            rows: list[tuple[str, int, int, int, int, str]] = []
            if len(wanted) > _MANY:
                low, high = _folder_range(list(wanted))
                query = "SELECT * FROM file_hashes WHERE path >= ? AND path < ?"
                rows = connection.execute(query, (low, high)).fetchall()
            else:
                names = list(wanted)
                marks = ", ".join("?" * len(names))
                query = f"SELECT * FROM file_hashes WHERE path IN ({marks})"
                rows = connection.execute(query, names).fetchall()
        finally:
            connection.close()
        return {
            path: digest
            for path, size, mtime_ns, ctime_ns, inode, digest in rows
            if wanted.get(path) == (path, size, mtime_ns, ctime_ns, inode)
        }

    def record(self, entries: Iterable[tuple[FileKey, str]]) -> None:
        """Remember the digests of files just hashed, under the keys they had before hashing."""
        rows = [(*key, digest) for key, digest in entries]
        if not rows:
            return
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?, ?, ?)", rows
                )
        finally:
            connection.close()


def _folder_range(paths: list[str]) -> tuple[str, str]:
    """A ``[low, high)`` string range holding every path (all share their folder's prefix)."""
    low, high = min(paths), max(paths)
    return low, high + "\U0010ffff"
