"""Objects as files under a local folder: written to ``tmp/``, synced, renamed into place.

A rename is atomic, so a reader sees a whole object or none; the file is
synced before it gets its final name and its folder after (:mod:`mloop.disk`),
so a power cut cannot leave a valid name on bytes that never reached the disk.
Plain ``os`` calls throughout: fsspec's per-call overhead dominates when a
folder of many small files is stored.

Example:
    >>> import tempfile
    >>> objects = LocalObjects(tempfile.mkdtemp())
    >>> objects.put_bytes("objects/ab/cd", b"bytes")
    >>> objects.get_bytes("objects/ab/cd")
    b'bytes'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from mloop.artifacts.objects.base import ObjectInfo
from mloop.disk import sync_file, sync_folder, sync_path

TEMP = "tmp"
"""The folder (and key prefix) of writes in progress; ``mloop gc`` removes what is left."""


class LocalObjects:
    """An :class:`~mloop.artifacts.objects.base.ObjectStore` over a local folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.url = os.fspath(root)
        self._base = os.path.abspath(os.fspath(root))

    def _path(self, key: str) -> str:
        return f"{self._base}/{key}"

    def location(self, key: str) -> str:
        """The file that holds ``key``.

        Example:
            >>> LocalObjects("/data/artifacts").location("objects/ab/cd")
            '/data/artifacts/objects/ab/cd'
        """
        return self._path(key)

    def scratch_dir(self) -> Path:
        """The store's own ``tmp/`` folder: renames from there into place are atomic."""
        return Path(self._base) / TEMP

    def begin(self, key: str | None = None) -> _LocalWriter:
        """A write into a new file of ``tmp/``, renamed into place on commit."""
        return _LocalWriter(self, key)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` through a synced temporary file and a rename."""
        writer = self.begin(key)
        try:
            writer.write(data)
            writer.commit(key)
        except BaseException:
            writer.abort()
            raise

    def get_bytes(self, key: str) -> bytes:
        """The whole file of ``key``."""
        with open(self._path(key), "rb") as handle:
            return handle.read()

    def open(self, key: str) -> IO[bytes]:
        """The file of ``key``, open for reading."""
        return open(self._path(key), "rb")

    def read_range(self, key: str, offset: int, size: int) -> bytes:
        """``size`` bytes of ``key`` from ``offset``."""
        with open(self._path(key), "rb") as handle:
            handle.seek(offset)
            return handle.read(size)

    def exists(self, key: str) -> bool:
        """True when the file of ``key`` exists."""
        return os.path.isfile(self._path(key))

    def info(self, key: str) -> ObjectInfo | None:
        """Size and modification time of the file of ``key``."""
        try:
            st = os.stat(self._path(key))
        except FileNotFoundError:
            return None
        return ObjectInfo(key, st.st_size, st.st_mtime)

    def touch(self, key: str) -> bool:
        """Set the file's modification time to now."""
        try:
            os.utime(self._path(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        """Remove the file of ``key``."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every file under the folder ``prefix``, with its size and modification time."""
        folders = [self._path(prefix.rstrip("/"))]
        while folders:
            folder = folders.pop()
            try:
                entries = list(os.scandir(folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # removed since the listing
                    continue
                key = entry.path[len(self._base) + 1 :].replace(os.sep, "/")
                yield ObjectInfo(key, st.st_size, st.st_mtime)

    def _temp(self) -> str:
        return self._path(f"{TEMP}/{uuid.uuid4().hex}")

    def _place(self, temp: str, key: str) -> None:
        target = self._path(key)
        folder = os.path.dirname(target)
        try:
            os.replace(temp, target)
        except FileNotFoundError:  # the first object under this prefix
            os.makedirs(folder, exist_ok=True)
            sync_folder(os.path.dirname(folder))
            os.replace(temp, target)
        sync_folder(folder)


def _create(path: str) -> IO[bytes]:
    try:
        return open(path, "wb")
    except FileNotFoundError:  # the tmp folder was removed (e.g. by hand): recreate it
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "wb")


class _LocalWriter:
    """Bytes going into a temporary file of the store, renamed into place on commit."""

    def __init__(self, store: LocalObjects, key: str | None) -> None:
        self._store = store
        self._key = key
        self._temp = store._temp()
        self._handle: IO[bytes] | None = None
        self._copied = False

    def write(self, data: bytes) -> None:
        if self._handle is None:
            self._handle = _create(self._temp) if not self._copied else open(self._temp, "ab")  # noqa: SIM115
        self._handle.write(data)

    def write_file(self, source: Path) -> None:
        # The kernel copies a whole file (sendfile): no bytes pass through Python.
        if self._handle is not None or self._copied:
            with open(source, "rb") as reader:
                while chunk := reader.read(1 << 20):
                    self.write(chunk)
            return
        try:
            shutil.copyfile(source, self._temp)
        except FileNotFoundError:
            if not os.path.exists(source):
                raise
            os.makedirs(os.path.dirname(self._temp), exist_ok=True)
            shutil.copyfile(source, self._temp)
        self._copied = True

    def commit(self, key: str) -> None:
        if self._key is not None and key != self._key:
            raise ValueError(f"write begun for {self._key!r} committed as {key!r}")
        if self._handle is not None:
            sync_file(self._handle)  # one sync per object (per pack), before its name
            self._handle.close()
            self._handle = None
        elif self._copied:
            sync_path(self._temp)
        else:
            with _create(self._temp) as empty:
                sync_file(empty)
        self._store._place(self._temp, key)

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp)
