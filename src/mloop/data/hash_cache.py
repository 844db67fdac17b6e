"""A local cache of file digests keyed by (path, size, mtime, inode), as DVC keeps one.

Re-adding a folder whose files did not change then costs a ``stat`` per file
instead of reading every byte. A file whose size, modification time or inode
changed is hashed again; a stale entry is never trusted.

Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> f = root / "x"; _ = f.write_text("hi")
    >>> cache = HashCache(root / "hashes.db")
    >>> cache.lookup([f])
    {}
    >>> cache.record([(f, "ab" * 32)])
    >>> cache.lookup([f])[f][0] == "ab" * 32
    True
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER, "
    "mtime_ns INTEGER, inode INTEGER, digest TEXT)"
)


def _key(path: Path) -> tuple[str, int, int, int]:
    st = os.stat(path)
    return os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino


class HashCache:
    """Digests of local files, valid while size, mtime and inode are unchanged."""

    def __init__(self, location: Path) -> None:
        self.location = location

    def _connect(self) -> sqlite3.Connection:
        self.location.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.location, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(_SCHEMA)
        return connection

    def lookup(self, paths: Sequence[Path]) -> dict[Path, tuple[str, int]]:
        """Cached ``(digest, size)`` of the files that did not change since they were recorded."""
        keys = {_key(p): p for p in paths}
        found: dict[Path, tuple[str, int]] = {}
        connection = self._connect()
        try:
            by_path = {k[0]: k for k in keys}
            names = list(by_path)
            for start in range(0, len(names), 900):
                part = names[start : start + 900]
                marks = ", ".join("?" * len(part))
                query = (
                    "SELECT path, size, mtime_ns, inode, digest FROM hashes "
                    f"WHERE path IN ({marks})"
                )
                rows = connection.execute(query, part).fetchall()
                for path, size, mtime_ns, inode, digest in rows:
                    key = by_path[path]
                    if key == (path, size, mtime_ns, inode):
                        found[keys[key]] = (digest, size)
        finally:
            connection.close()
        return found

    def record(self, entries: Iterable[tuple[Path, str]]) -> None:
        """Remember the digests of files just hashed."""
        rows = [(*_key(path), digest) for path, digest in entries]
        if not rows:
            return
        connection = self._connect()
        try:
            with connection:
                connection.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?)", rows)
        finally:
            connection.close()
