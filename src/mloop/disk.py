"""Making local writes durable before they become visible, and writing a file once.

A rename is atomic, but on its own it says nothing about the bytes: after a
power cut, a file renamed into place may exist under its final name with
content that never reached the disk. So a file is synced (``fsync``) before it
gets its final name, and the folder that received the name is synced after,
so the name itself survives.

Files that must never be replaced once they exist (an artifact root's
identity, the pseudonymization key, a new SQLite store) are written under a
temporary name and hard-linked into place: the link fails if the name exists,
so the first writer wins, and a reader sees a whole file or none. Where the
file system has no hard links, an exclusive create (``O_EXCL``) still lets
only one writer win, but the file is visible (empty) for a moment before its
bytes are written: :func:`read_written` waits that moment out.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_once(folder / "key", b"first"), write_once(folder / "key", b"second")
    (True, False)
    >>> (folder / "key").read_bytes()
    b'first'
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
import uuid
from typing import IO

# link() errors that mean "no hard links here", not "no such folder" or "no space".
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


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


def write_once(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o666) -> bool:
    """Create ``path`` holding ``data``, durably, unless it exists; True when this call made it.

    Never overwrites: of several processes racing to create one file, exactly
    one gets True and every reader sees that one's bytes. ``mode`` is the new
    file's permissions (less the umask); missing folders are created.

    Raises:
        OSError: the folder cannot be created or written.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sub" / "id.json"
        >>> write_once(path, b"{}", mode=0o600)
        True
        >>> oct(path.stat().st_mode & 0o777)
        '0o600'
    """
    target = os.fspath(path)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    temp = _temp_name(target)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            sync_file(handle)
        return link_once(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def link_once(temp: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Give the finished, synced file ``temp`` the name ``path`` unless it exists; True if given.

    ``temp`` stays where it is (the caller removes it); it must be in the same
    folder as ``path``. Without hard links, ``path`` is created exclusively and
    ``temp`` copied into it.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "t").write_bytes(b"x")
        >>> link_once(folder / "t", folder / "f"), link_once(folder / "t", folder / "f")
        (True, False)
    """
    target = os.fspath(path)
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError as err:
        if err.errno not in _NO_LINKS:
            raise
        if not _copy_exclusive(temp, target):
            return False
    sync_folder(os.path.dirname(target) or ".")
    return True


def read_written(path: str | os.PathLike[str], *, wait: float = 5.0) -> bytes:
    """Read a file made by :func:`write_once`, waiting while it is still empty.

    Where the file system has no hard links, the file appears (empty) before its
    bytes are written: a reader coming in between waits up to ``wait`` seconds
    for them. An empty file after that is returned as it is (empty), for the
    caller to report.

    Raises:
        FileNotFoundError: no such file.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "key"
        >>> _ = write_once(path, b"k")
        >>> read_written(path)
        b'k'
    """
    deadline = time.monotonic() + wait
    while True:
        with open(path, "rb") as handle:
            data = handle.read()
        if data or time.monotonic() >= deadline:
            return data
        time.sleep(0.005)


def _copy_exclusive(temp: str | os.PathLike[str], target: str) -> bool:
    mode = os.stat(temp).st_mode & 0o777
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle, open(temp, "rb") as source:
            shutil.copyfileobj(source, handle)
            sync_file(handle)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)  # a half-written file must not win
        raise
    return True


def _temp_name(target: str) -> str:
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
