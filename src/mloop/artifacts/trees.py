"""Stored objects copied into a local, read-only folder once, for readers that need files.

Example:
    >>> import tempfile, pathlib
    >>> from mloop.artifacts.cas import ContentStore
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> store = ContentStore(str(root / "store"))
    >>> digest = store.put_bytes(b"rows")
    >>> folder = materialize(store, [("t.csv", digest)], root / "copy", root / ".copy.done", "v1")
    >>> (folder / "t.csv").read_text()
    'rows'
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from mloop.artifacts.cas import ContentStore

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def materialize(
    content: ContentStore,
    entries: Iterable[tuple[str, str]],
    target: Path,
    marker: Path,
    stamp: str,
) -> Path:
    """``(relative path, digest)`` entries as read-only files under ``target``, fetched once.

    A finished copy is marked by ``marker`` holding ``stamp``, written last, so an
    interrupted copy is redone, never used. Every object is verified as it is read.
    """
    if marker.exists() and marker.read_text() == stamp:
        return target
    for path, digest in entries:
        destination = target / path
        if destination.exists():
            destination.chmod(stat.S_IRUSR | stat.S_IWUSR)
        content.get_file(digest, destination)
        destination.chmod(_READ_ONLY)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(stamp)
    return target
