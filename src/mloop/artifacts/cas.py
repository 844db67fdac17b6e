"""Content-addressed object store over fsspec.

Every object lives at ``objects/<first 2 hex>/<remaining 62 hex>`` of its
SHA-256, under a root that is a local path or any fsspec URL (``memory://``,
``s3://…``, ``gs://…``). Writes go to ``tmp/`` first and are renamed into place,
so a reader never sees half an object; identical content is stored once;
every read verifies the hash, and large files stream in fixed-size chunks.

Example:
    >>> store = ContentStore("memory://cas-doc")
    >>> digest = store.put_bytes(b"hello")
    >>> store.get_bytes(digest)
    b'hello'
    >>> store.put_bytes(b"hello") == digest   # stored once
    True
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs

from mloop.errors import IntegrityError, InvalidInput, MissingExtra, NotFound

CHUNK_SIZE = 1 << 20
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object in the store: its digest, size in bytes and last-modified time (epoch seconds)."""

    digest: str
    size: int
    modified: float


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 hex digest and size of a local file, read in chunks.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "f"; _ = p.write_bytes(b"abc")
        >>> hash_file(p)[0][:12]
        'ba7816bf8f01'
    """
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def _check_digest(digest: str) -> str:
    if not _DIGEST.match(digest):
        raise InvalidInput(f"{digest!r} is not a SHA-256 hex digest (64 lowercase hex characters)")
    return digest


class _VerifyingReader:
    """A file-like reader that hashes as it reads and raises at EOF on a mismatch."""

    def __init__(self, handle: IO[bytes], digest: str, location: str) -> None:
        self._handle = handle
        self._digest = digest
        self._location = location
        self._hasher = hashlib.sha256()
        self._checked = False

    def read(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None or size < 0 else size
        chunk = self._handle.read(limit)
        self._hasher.update(chunk)
        at_end = limit < 0 or (not chunk and limit != 0)
        if at_end and not self._checked:
            self._checked = True
            actual = self._hasher.hexdigest()
            if actual != self._digest:
                raise IntegrityError(
                    f"artifact object {self._location} is corrupted: its content hashes to "
                    f"{actual}, not {self._digest}; delete that file and log the same content "
                    "again (or restore it from a backup)"
                )
        return chunk

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> _VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ContentStore:
    """Objects by SHA-256 over an fsspec filesystem."""

    def __init__(self, root: str) -> None:
        scheme = root.split("://", 1)[0] if "://" in root else "file"
        try:
            fs, path = url_to_fs(root)
        except ImportError:
            extra = _EXTRAS.get(scheme, "all")
            raise MissingExtra(f"the filesystem for {scheme}://", extra=extra) from None
        except ValueError as err:
            raise InvalidInput(f"artifact store root {root!r} is not usable: {err}") from None
        self.root = root
        self.fs: fsspec.AbstractFileSystem = fs
        self._base = path.rstrip("/")
        self._local = scheme == "file"
        self._temp_ready = False

    def _object_path(self, digest: str) -> str:
        return f"{self._base}/objects/{digest[:2]}/{digest[2:]}"

    def location(self, digest: str) -> str:
        """Where an object lives, for messages."""
        return self._object_path(_check_digest(digest))

    def exists(self, digest: str) -> bool:
        """True when the object is stored."""
        return bool(self.fs.exists(self._object_path(_check_digest(digest))))

    def claim(self, digest: str) -> bool:
        """True when the object is stored; it then survives `mloop gc` for another grace period.

        For callers that already know a file's digest (from a hash cache) and
        want to skip storing it again.
        """
        return self._reuse(_check_digest(digest))

    def _reuse(self, digest: str) -> bool:
        # Content already stored is not copied again. Touching a local object
        # restarts its garbage-collection grace period, so `mloop gc` cannot
        # remove it between this check and the caller recording a reference.
        path = self._object_path(digest)
        if self._local:
            try:
                os.utime(path)
            except FileNotFoundError:
                return False
            return True
        return bool(self.fs.exists(path))

    def _commit(self, temp: str, digest: str) -> None:
        target = self._object_path(digest)
        if self._local:
            self._commit_local(temp, target, digest)
        elif self.fs.exists(target):
            self.fs.rm(temp)
            self._reuse(digest)  # restart its garbage-collection grace period
        else:
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            if self._local:
                os.replace(temp, target)
            else:
                self.fs.mv(temp, target)

    def _commit_local(self, temp: str, target: str, digest: str) -> None:
        # Plain os calls: fsspec's per-call overhead dominates when storing many small files.
        if os.path.exists(target):
            os.unlink(temp)
            self._reuse(digest)  # restart its garbage-collection grace period
            return
        try:
            os.replace(temp, target)
        except FileNotFoundError:  # first object under this prefix
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(temp, target)

    def _temp_path(self) -> str:
        if not self._temp_ready:
            self.fs.makedirs(f"{self._base}/tmp", exist_ok=True)
            self._temp_ready = True
        return f"{self._base}/tmp/{uuid.uuid4().hex}"

    def _open_temp(self, temp: str) -> IO[bytes]:
        if self._local:
            try:
                return open(temp, "wb")
            except FileNotFoundError:  # the tmp folder was removed (e.g. by hand): recreate it
                os.makedirs(os.path.dirname(temp), exist_ok=True)
                return open(temp, "wb")
        return self.fs.open(temp, "wb")  # type: ignore[no-any-return]

    def put_file(
        self, path: str | os.PathLike[str], *, likely_new: bool = False
    ) -> tuple[str, int]:
        """Store a local file by streaming it; returns ``(digest, size)``.

        By default the file is hashed first, so content already stored is never
        copied. With ``likely_new`` (the caller knows it has not seen this file
        before), the file is read once, hashed while it is copied, and the copy
        is dropped if the object turns out to exist.

        Raises:
            NotFound: no such file.
        """
        source = Path(path)
        if not source.is_file():
            raise NotFound(f"cannot log {str(source)!r}: no such file")
        expected = None
        if not likely_new:
            expected, size = hash_file(source)
            if self._reuse(expected):
                return expected, size
        temp = self._temp_path()
        hasher = hashlib.sha256()
        size = 0
        with source.open("rb") as reader, self._open_temp(temp) as writer:
            while chunk := reader.read(CHUNK_SIZE):
                hasher.update(chunk)
                writer.write(chunk)
                size += len(chunk)
        digest = hasher.hexdigest()
        if expected is not None and digest != expected:
            self.fs.rm(temp)
            raise IntegrityError(f"{str(source)!r} changed while it was being stored; log it again")
        self._commit(temp, digest)
        return digest, size

    def put_bytes(self, data: bytes) -> str:
        """Store bytes; returns the digest."""
        digest = hashlib.sha256(data).hexdigest()
        if self._reuse(digest):
            return digest
        temp = self._temp_path()
        with self.fs.open(temp, "wb") as writer:
            writer.write(data)
        self._commit(temp, digest)
        return digest

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[_VerifyingReader]:
        """Open an object for streaming reads; the hash is checked when the end is reached.

        Raises:
            NotFound: no such object.
            IntegrityError: (at EOF) the bytes do not match the digest.
        """
        location = self._object_path(_check_digest(digest))
        try:
            handle = self.fs.open(location, "rb")
        except FileNotFoundError:
            raise NotFound(f"artifact object {digest} is missing from {self.root}") from None
        with _VerifyingReader(handle, digest, location) as reader:
            yield reader

    def get_bytes(self, digest: str) -> bytes:
        """Read a whole object, verified."""
        with self.open(digest) as reader:
            return reader.read()

    def get_file(self, digest: str, destination: str | os.PathLike[str]) -> None:
        """Stream an object to a local file, verified before the file appears at ``destination``."""
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as writer, self.open(digest) as reader:
                while chunk := reader.read(CHUNK_SIZE):
                    writer.write(chunk)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def iter_objects(self) -> Iterator[StoredObject]:
        """Every stored object with its size and modification time."""
        root = f"{self._base}/objects"
        if not self.fs.exists(root):
            return
        for path, info in self.fs.find(root, detail=True).items():
            parts = path.rstrip("/").split("/")
            digest = parts[-2] + parts[-1]
            if _DIGEST.match(digest):
                yield StoredObject(digest, int(info.get("size") or 0), _modified(info))

    def iter_temp(self) -> Iterator[tuple[str, float]]:
        """Leftover temporary uploads (path, modified time)."""
        root = f"{self._base}/tmp"
        if not self.fs.exists(root):
            return
        for path, info in self.fs.find(root, detail=True).items():
            yield path, _modified(info)

    def delete(self, digest: str) -> None:
        """Remove an object (used by garbage collection only)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._object_path(_check_digest(digest)))

    def delete_path(self, path: str) -> None:
        """Remove a leftover temporary file."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path)


def _modified(info: dict[str, Any]) -> float:
    for key in ("mtime", "LastModified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, int | float):
            return float(value)
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
    return time.time()
