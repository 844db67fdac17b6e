"""Objects on any fsspec filesystem (S3, GCS, Azure…), and in memory.

An object store has no rename, so a write goes straight to its final key:
bytes stream into a multipart upload opened with ``autocommit=False`` and the
object appears when the upload is completed (``commit``), whole; an aborted
write is discarded and nothing appears. A write whose key is known only at
the end (a file hashed while it is read) is spooled to a local temporary file
first. No temporary keys are ever made in the store.

Endpoints and credentials come from the filesystem's own configuration chain;
for S3 that is botocore's: ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``),
``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``~/.aws``
and instance roles. mloop never puts any of them in code. A failure of the
store itself (no credentials, no such bucket, no network) is a
:class:`~mloop.errors.StoreError` naming the root and the bucket, with
credentials masked.

Example:
    >>> objects = MemoryObjects("memory://remote-doc")
    >>> writer = objects.begin()
    >>> writer.write(b"spooled")
    >>> objects.exists("k")
    False
    >>> writer.commit("k")
    >>> objects.get_bytes("k")
    b'spooled'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import fsspec

from mloop.artifacts.objects.base import ObjectInfo
from mloop.errors import StoreError
from mloop.masking import mask_text, mask_uri

log = logging.getLogger(__name__)

RENEW_AFTER = 600.0
"""Seconds: a remote object reused sooner than this after its last write is not renewed."""

_SPOOL_IN_MEMORY = 8 << 20
"""A spooled write stays in memory up to this size, then moves to a local temporary file."""
_CHUNK = 1 << 20


class FsspecObjects:
    """An :class:`~mloop.artifacts.objects.base.ObjectStore` over an fsspec filesystem.

    The filesystem's files must honour ``autocommit=False`` (s3fs, gcsfs and
    adlfs do): that is what makes a streamed write atomic.
    """

    streams = True
    """Whether a write can stream to its final key and appear only when committed."""

    def __init__(self, url: str, fs: fsspec.AbstractFileSystem, base: str) -> None:
        self.url = url
        self.fs = fs
        self._base = base.rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self._base}/{key}"

    def location(self, key: str) -> str:
        """The URL of ``key``.

        Example:
            >>> MemoryObjects("memory://remote-location-doc").location("objects/ab/cd")
            'memory://remote-location-doc/objects/ab/cd'
        """
        return f"{self.url.rstrip('/')}/{key}"

    def scratch_dir(self) -> Path | None:
        """None: nothing local is on the same file system as the objects."""
        return None

    def begin(self, key: str | None = None) -> _StreamWriter | _SpoolWriter:
        """A write straight to ``key`` (visible on commit), or spooled when ``key`` is None."""
        if key is None:
            return _SpoolWriter(self)
        with self._guard("write", key):
            handle = self.fs.open(self._path(key), "wb", autocommit=False)
        return _StreamWriter(self, key, handle)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` in one upload."""
        with self._guard("write", key):
            self.fs.pipe_file(self._path(key), data)

    def get_bytes(self, key: str) -> bytes:
        """The whole content of ``key``."""
        with self._guard("read", key):
            return bytes(self.fs.cat_file(self._path(key)))

    def open(self, key: str) -> IO[bytes]:
        """A streaming reader over ``key``."""
        with self._guard("read", key):
            return self.fs.open(self._path(key), "rb")  # type: ignore[no-any-return]

    def read_range(self, key: str, offset: int, size: int) -> bytes:
        """``size`` bytes of ``key`` from ``offset``, in one ranged request."""
        with self._guard("read", key):
            return bytes(self.fs.cat_file(self._path(key), start=offset, end=offset + size))

    def exists(self, key: str) -> bool:
        """True when ``key`` holds an object."""
        with self._guard("read", key):
            return bool(self.fs.isfile(self._path(key)))

    def info(self, key: str) -> ObjectInfo | None:
        """Size and last-modified time of ``key``, or None."""
        try:
            with self._guard("read", key):
                found = self.fs.info(self._path(key))
        except FileNotFoundError:
            return None
        return ObjectInfo(key, int(found.get("size") or 0), modified_time(found))

    def touch(self, key: str) -> bool:
        """Restart the age of ``key`` if it is old enough to need it; False if it is gone.

        An object store has no ``utime``: renewing an object rewrites its
        metadata in place (S3's CopyObject), which costs a server-side copy. So
        an object written or renewed in the last :data:`RENEW_AFTER` seconds is
        left as it is (garbage collection keeps objects younger than its grace
        period, an hour by default), and an object the store cannot copy in one
        request (over 5 GB on S3) keeps its age, with a warning.
        """
        found = self.info(key)
        if found is None:
            return False
        if time.time() - found.modified < RENEW_AFTER:
            return True
        path = self._path(key)
        setxattr = getattr(self.fs, "setxattr", None) or getattr(self.fs, "setxattrs", None)
        if setxattr is None:
            return True
        try:
            with self._guard("write", key):
                setxattr(path, mloop_claimed=str(int(time.time())))
                self.fs.invalidate_cache(path)
        except FileNotFoundError:
            return False
        except StoreError as err:
            log.warning("could not renew the age of %s (%s); it keeps its age", key, err)
        return True

    def delete(self, key: str) -> None:
        """Remove ``key`` if it is there."""
        with contextlib.suppress(FileNotFoundError), self._guard("delete", key):
            self.fs.rm_file(self._path(key))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, with size and modified time from the listing."""
        root = self._path(prefix.rstrip("/"))
        try:
            with self._guard("list", prefix):
                found = self.fs.find(root, detail=True)
        except FileNotFoundError:
            return
        start = len(self._base) + 1
        for path, info in sorted(found.items()):
            if info.get("type", "file") == "file":
                size = int(info.get("size") or 0)
                yield ObjectInfo(path.rstrip("/")[start:], size, modified_time(info))

    @contextlib.contextmanager
    def _guard(self, doing: str, key: str) -> Iterator[None]:
        # A missing object stays a FileNotFoundError (the caller's business);
        # anything the store itself refuses becomes one clear, masked error.
        try:
            yield
        except FileNotFoundError as err:
            if _error_code(err) == "NoSuchBucket":
                raise self._failure(doing, key, err, "the bucket does not exist") from None
            raise
        except (StoreError, ValueError):
            raise
        except PermissionError as err:
            raise self._failure(doing, key, err, "access denied") from None
        except Exception as err:
            if isinstance(err, OSError) or type(err).__module__.split(".")[0] in _CLIENTS:
                raise self._failure(doing, key, err, type(err).__name__) from None
            raise

    def _failure(self, doing: str, key: str, err: BaseException, what: str) -> StoreError:
        bucket = self._base.split("/", 1)[0]
        cause = mask_text(str(err))[:300]
        return StoreError(
            f"cannot {doing} {key!r} in the artifact store {mask_uri(self.url)!r} (bucket "
            f"{bucket!r}): {what}: {cause}. Check that the bucket exists and that the "
            "credentials in effect may use it: the endpoint and credentials come from the "
            "standard settings (AWS_ENDPOINT_URL, AWS_PROFILE, AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, ~/.aws) and MLOOP_ARTIFACTS_URI names the bucket"
        )


_CLIENTS = {"botocore", "aiobotocore", "google", "aiohttp", "azure"}


def _error_code(err: BaseException) -> str | None:
    response = getattr(err.__cause__, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def modified_time(info: dict[str, Any]) -> float:
    """The last-modified time (epoch seconds) in an fsspec ``info`` record.

    Example:
        >>> modified_time({"mtime": 12.5})
        12.5
    """
    for key in ("mtime", "LastModified", "updated", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
    return time.time()


class MemoryObjects(FsspecObjects):
    """Objects in fsspec's process-wide memory filesystem (``memory://``), for tests and docs.

    Every store of one ``memory://`` root in a process sees the same objects.
    """

    streams = False  # the memory filesystem shows a file as soon as it is opened

    def __init__(self, url: str) -> None:
        fs = fsspec.filesystem("memory")
        super().__init__(url, fs, fs._strip_protocol(url))

    def begin(self, key: str | None = None) -> _SpoolWriter:
        """A write kept in memory and stored whole on commit."""
        return _SpoolWriter(self, key)

    def touch(self, key: str) -> bool:
        """Set the object's modified time to now."""
        found = self.fs.store.get(self._path(key))
        if found is None:
            return False
        found.modified = dt.datetime.now(tz=dt.UTC)
        return True

    def info(self, key: str) -> ObjectInfo | None:
        """Size and modified time of ``key``, or None."""
        found = self.fs.store.get(self._path(key))
        if found is None:
            return None
        return ObjectInfo(key, found.size, found.modified.timestamp())

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, with its modified time."""
        start = self._path(prefix)
        for path, found in sorted(self.fs.store.items()):
            if path.startswith(start):
                key = path[len(self._base) + 1 :]
                yield ObjectInfo(key, found.size, found.modified.timestamp())


class _StreamWriter:
    """Bytes streamed straight to their final key; the object appears on commit."""

    def __init__(self, store: FsspecObjects, key: str, handle: Any) -> None:
        self._store = store
        self._key = key
        self._handle = handle

    def write(self, data: bytes) -> None:
        with self._store._guard("write", self._key):
            self._handle.write(data)

    def write_file(self, source: Path) -> None:
        with open(source, "rb") as reader:
            while chunk := reader.read(_CHUNK):
                self.write(chunk)

    def commit(self, key: str) -> None:
        if key != self._key:
            raise ValueError(f"write begun for {self._key!r} committed as {key!r}")
        with self._store._guard("write", key):
            self._handle.close()  # uploads the last part; the object is not there yet
            self._handle.commit()  # completes the upload: now it is, whole
            self._store.fs.invalidate_cache(self._store._path(key))

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._handle.discard()  # aborts the multipart upload
        self._handle.closed = True


class _SpoolWriter:
    """Bytes kept locally (in memory, then a temporary file) until their key is known."""

    def __init__(self, store: FsspecObjects, key: str | None = None) -> None:
        self._store = store
        self._key = key
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115

    def write(self, data: bytes) -> None:
        self._spool.write(data)

    def write_file(self, source: Path) -> None:
        with open(source, "rb") as reader:
            shutil.copyfileobj(reader, self._spool, _CHUNK)

    def commit(self, key: str) -> None:
        if self._key is not None and key != self._key:
            raise ValueError(f"write begun for {self._key!r} committed as {key!r}")
        try:
            size = self._spool.seek(0, io.SEEK_END)
            self._spool.seek(0)
            if size <= _SPOOL_IN_MEMORY or not self._store.streams:
                self._store.put_bytes(key, self._spool.read())  # one request
                return
            writer = FsspecObjects.begin(self._store, key)
            try:
                while chunk := self._spool.read(_CHUNK):
                    writer.write(chunk)
                writer.commit(key)
            except BaseException:
                writer.abort()
                raise
        finally:
            self._spool.close()

    def abort(self) -> None:
        self._spool.close()
