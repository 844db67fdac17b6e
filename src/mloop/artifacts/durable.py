"""Making local writes durable before they become visible.

A rename is atomic, but on its own it says nothing about the bytes: after a
power cut, a file renamed into place may exist under its final name with
content that never reached the disk. So every object, pack and pack index is
synced (``fsync``) before it is renamed into place, and the folder that
received the new name is synced after, so the name itself survives. Object
stores reached through fsspec (S3, GCS) make an upload visible only once it is
complete, and need neither.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with open(folder / "f", "wb") as handle:
    ...     _ = handle.write(b"bytes")
    ...     sync_file(handle)
    >>> sync_folder(folder)
"""

from __future__ import annotations

import os
from typing import IO


def sync_file(handle: IO[bytes]) -> None:
    """Flush a local file's buffers and wait until its bytes are on the disk."""
    handle.flush()
    os.fsync(handle.fileno())


def sync_path(path: str | os.PathLike[str]) -> None:
    """Wait until the bytes of a closed local file are on the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(path: str | os.PathLike[str]) -> None:
    """Wait until a folder's entries (names renamed into it) are on the disk.

    A platform that cannot open a folder (Windows) has nothing to sync: skipped.
    """
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except (PermissionError, IsADirectoryError):
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
