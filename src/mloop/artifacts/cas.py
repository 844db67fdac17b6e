"""Content-addressed object store over fsspec.

Every object lives at ``objects/<first 2 hex>/<remaining 62 hex>`` of its
SHA-256, under a root that is a local path or any fsspec URL (``memory://``,
``s3://…``, ``gs://…``). Writes go to ``tmp/`` first and are renamed into place,
so a reader never sees half an object; identical content is stored once;
every read verifies the hash, and large files stream in fixed-size chunks.

Storing many files at once (:meth:`ContentStore.batch`) puts the small ones
in pack files (see :mod:`mloop.artifacts.packs`) instead of one file each:
creating files, not writing bytes, is what costs when a folder holds
thousands of small ones. Reads find an object wherever it lives.

On a local disk every object, pack and pack index is synced before it is
renamed into place, and its folder after (:mod:`mloop.disk`), so a
power cut cannot leave a valid name on bytes that never reached the disk.

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
import io
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs

from mloop.artifacts.batch import StoreBatch
from mloop.artifacts.packs import PACK_OBJECT_LIMIT as PACK_OBJECT_LIMIT
from mloop.artifacts.packs import PackEntry, decode_index, encode_index
from mloop.disk import sync_file, sync_folder, sync_path
from mloop.errors import IntegrityError, InvalidInput, MissingExtra, NotFound

_log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
PARALLEL_COPY_SIZE = 32 << 20
"""Local files from this size are hashed on one thread while the kernel copies them."""
_TOUCH_INTERVAL = 10.0
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object in the store: digest, size in bytes, last-modified time (epoch seconds).

    ``pack`` names the pack holding it, or is None for an object in a file of its own.
    """

    digest: str
    size: int
    modified: float
    pack: str | None = None


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


_LOOSE_REMEDY = (
    "restore it from a backup, or delete that file and store the same content again "
    "(mloop.log_artifact of the same file rewrites a missing object)"
)
_PACKED_REMEDY = "restore that pack file from a backup"


class _VerifyingReader:
    """A file-like reader that hashes as it reads and raises at EOF on a mismatch."""

    def __init__(
        self, handle: IO[bytes], digest: str, location: str, remedy: str = _LOOSE_REMEDY
    ) -> None:
        self._handle = handle
        self._digest = digest
        self._location = location
        self._remedy = remedy
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
                    f"{actual}, not {self._digest}; {self._remedy}"
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
        # What the pack indexes say, loaded on first need and re-read on a miss.
        self._packs_lock = threading.Lock()
        self._packed: dict[str, tuple[str, PackEntry]] = {}
        self._pack_names: set[str] = set()
        self._damaged: set[str] = set()  # packs whose index cannot be read
        self._packs_listed = False
        self._touched: dict[str, float] = {}

    def _object_path(self, digest: str) -> str:
        return f"{self._base}/objects/{digest[:2]}/{digest[2:]}"

    def _pack_path(self, name: str, suffix: str) -> str:
        return f"{self._base}/packs/{name}{suffix}"

    def local_temp_dir(self) -> Path | None:
        """The store's own temporary folder when the store is local, else None.

        Files made there are on the same file system as the objects, so they
        can be renamed into place; ``mloop gc`` removes what is left there.

        Example:
            >>> ContentStore("/data/artifacts").local_temp_dir()
            PosixPath('/data/artifacts/tmp')
            >>> ContentStore("memory://cas-temp-doc").local_temp_dir() is None
            True
        """
        return Path(self._base) / "tmp" if self._local else None

    def location(self, digest: str) -> str:
        """Where an object lives when it has a file of its own, for messages."""
        return self._object_path(_check_digest(digest))

    def exists(self, digest: str) -> bool:
        """True when the object is stored, in a file of its own or in a pack."""
        digest = _check_digest(digest)
        if self.fs.exists(self._object_path(digest)):
            return True
        return self._find_packed(digest, refresh=True) is not None

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
                pass
            else:
                return True
        elif self.fs.exists(path):
            return True
        found = self._find_packed(digest, refresh=False)
        return found is not None and self._touch_pack(found[0])

    def _touch_pack(self, name: str) -> bool:
        # Object stores have no cheap touch: there a pack's age is its upload time.
        if not self._local:
            return True
        now = time.monotonic()
        if now - self._touched.get(name, -_TOUCH_INTERVAL) < _TOUCH_INTERVAL:
            return True
        try:
            os.utime(self._pack_path(name, ".pack"))
        except FileNotFoundError:  # rewritten by `mloop gc` since the indexes were read
            with self._packs_lock:
                self._reset_packs()
            return False
        self._touched[name] = now
        return True

    # -- packs -------------------------------------------------------------------

    def _find_packed(self, digest: str, *, refresh: bool) -> tuple[str, PackEntry] | None:
        with self._packs_lock:
            if not self._packs_listed:
                self._load_packs()
                self._packs_listed = True
                refresh = False
            found = self._packed.get(digest)
            if found is None and refresh:  # another process may have written a pack since
                self._load_packs()
                found = self._packed.get(digest)
            return found

    def _reset_packs(self) -> None:
        self._packed.clear()
        self._pack_names.clear()
        self._damaged.clear()
        self._packs_listed = False

    def _load_packs(self) -> None:
        # A damaged index hides its own pack's objects, never the rest of the store.
        for name in sorted(self._list_pack_names() - self._pack_names - self._damaged):
            where = self._pack_path(name, ".idx")
            try:
                entries = decode_index(self._read_whole(where), where)
            except FileNotFoundError:  # removed by `mloop gc` since the listing
                continue
            except IntegrityError as err:
                _log.warning("%s; its objects cannot be read until it is repaired", err)
                self._damaged.add(name)
                continue
            for entry in entries:
                self._packed.setdefault(entry.digest, (name, entry))
            self._pack_names.add(name)

    def _missing(self, digest: str) -> NotFound:
        message = f"artifact object {digest} is missing from {self.root}"
        if self._damaged:
            indexes = ", ".join(self._pack_path(n, ".idx") for n in sorted(self._damaged))
            message += (
                f"; the damaged pack index(es) {indexes} may list it: run `mloop fsck --repair` "
                "to rebuild them from their packs"
            )
        return NotFound(message)

    def _list_pack_names(self, suffix: str = ".idx") -> set[str]:
        directory = f"{self._base}/packs"
        try:
            if self._local:
                names = os.listdir(directory)
            else:
                names = [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(directory, False)]
        except FileNotFoundError:
            return set()
        return {n.removesuffix(suffix) for n in names if n.endswith(suffix)}

    def _read_whole(self, path: str) -> bytes:
        if self._local:
            with open(path, "rb") as handle:
                return handle.read()
        return bytes(self.fs.cat_file(path))

    def _read_packed(self, digest: str) -> tuple[bytes, str] | None:
        for _ in range(2):
            found = self._find_packed(digest, refresh=True)
            if found is None:
                return None
            name, entry = found
            where = self._pack_path(name, ".pack")
            try:
                data = self._read_range(where, entry)
            except FileNotFoundError:  # rewritten by `mloop gc`: read the indexes again
                with self._packs_lock:
                    self._reset_packs()
                continue
            return data, f"{where} (bytes {entry.offset}-{entry.offset + entry.size})"
        return None

    def _commit_pack(self, temp: str, entries: list[tuple[str, int, int]]) -> None:
        # The pack goes in place first, its index last: an index always finds its pack.
        name = uuid.uuid4().hex
        pack, index = self._pack_path(name, ".pack"), self._pack_path(name, ".idx")
        index_temp = self._temp_path()
        data = encode_index(entries)
        if self._local:
            with self._open_temp(index_temp) as writer:
                writer.write(data)
                sync_file(writer)
            try:
                os.replace(temp, pack)
            except FileNotFoundError:  # the first pack
                os.makedirs(os.path.dirname(pack), exist_ok=True)
                sync_folder(self._base)
                os.replace(temp, pack)
            # The pack's name is on the disk before its index's: an index always finds its pack.
            sync_folder(os.path.dirname(pack))
            os.replace(index_temp, index)
            sync_folder(os.path.dirname(index))
        else:
            self.fs.pipe_file(index_temp, data)
            self.fs.makedirs(f"{self._base}/packs", exist_ok=True)
            self.fs.mv(temp, pack)
            self.fs.mv(index_temp, index)
        with self._packs_lock:
            for digest, offset, size in entries:
                self._packed.setdefault(digest, (name, PackEntry(digest, offset, size)))
            self._pack_names.add(name)

    # -- maintenance (mloop fsck) ----------------------------------------------------

    def pack_names(self, suffix: str = ".idx") -> set[str]:
        """Names of the packs that have a file ending in ``suffix`` (``.idx`` or ``.pack``)."""
        return self._list_pack_names(suffix)

    def pack_path(self, name: str, suffix: str) -> str:
        """Where a pack's ``.pack`` or ``.idx`` file lives, for reading and messages."""
        return self._pack_path(name, suffix)

    def read_path(self, path: str) -> bytes:
        """The whole content of a file of the store (a pack or an index), unverified."""
        return self._read_whole(path)

    def write_pack_index(self, name: str, entries: list[tuple[str, int, int]]) -> None:
        """Replace a pack's index (to repair a damaged one), synced before it is used."""
        index, temp = self._pack_path(name, ".idx"), self._temp_path()
        data = encode_index(entries)
        if self._local:
            with self._open_temp(temp) as writer:
                writer.write(data)
                sync_file(writer)
            os.replace(temp, index)
            sync_folder(os.path.dirname(index))
        else:
            self.fs.pipe_file(temp, data)
            self.fs.mv(temp, index)
        with self._packs_lock:
            self._reset_packs()

    def remove_pack(self, name: str) -> None:
        """Remove a pack and its index (for a repair that keeps every object elsewhere)."""
        for suffix in (".idx", ".pack"):
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(self._pack_path(name, suffix))
        with self._packs_lock:
            self._reset_packs()

    @contextlib.contextmanager
    def batch(self) -> Iterator[StoreBatch]:
        """Store many objects at once: small ones share pack files, large ones get their own.

        The objects are readable once the ``with`` block ends; if it raises, the
        pack being written is discarded. The batch may be used from several threads.

        Example:
            >>> store = ContentStore("memory://cas-batch-doc")
            >>> with store.batch() as batch:
            ...     digest = batch.put_bytes(b"small")
            >>> store.get_bytes(digest)
            b'small'
        """
        batch = StoreBatch(self)
        try:
            yield batch
        except BaseException:
            batch.abort()
            raise
        batch.finish()

    def rewrite_pack(self, name: str, keep: set[str]) -> None:
        """Keep only the objects ``keep`` names of pack ``name`` (for garbage collection).

        The kept objects are verified and move to a new pack before the old one
        is removed, so a reader always finds them.

        Raises:
            IntegrityError: a kept object's bytes no longer match its digest.
        """
        index = self._pack_path(name, ".idx")
        pack = self._pack_path(name, ".pack")
        live = [e for e in decode_index(self._read_whole(index), index) if e.digest in keep]
        if live:
            with self.batch() as batch:
                for entry in live:
                    data = self._read_range(pack, entry)
                    if hashlib.sha256(data).hexdigest() != entry.digest:
                        raise IntegrityError(
                            f"artifact object {entry.digest} in {pack} is corrupted; "
                            f"{_PACKED_REMEDY}"
                        )
                    batch.put_bytes(data, dedupe=False)
        for path in (index, pack):
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(path)
        with self._packs_lock:
            self._reset_packs()

    def _read_range(self, path: str, entry: PackEntry) -> bytes:
        end = entry.offset + entry.size
        if self._local:
            with open(path, "rb") as handle:
                handle.seek(entry.offset)
                return handle.read(entry.size)
        return bytes(self.fs.cat_file(path, start=entry.offset, end=end))

    # -- objects of their own ----------------------------------------------------

    def _commit(self, temp: str, digest: str) -> None:
        target = self._object_path(digest)
        if self._local:
            self._commit_local(temp, target, digest)
        elif self.fs.exists(target):
            self.fs.rm(temp)
            self._reuse(digest)  # restart its garbage-collection grace period
        else:
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            self.fs.mv(temp, target)

    def _commit_local(self, temp: str, target: str, digest: str) -> None:
        # Plain os calls: fsspec's per-call overhead dominates when storing many small files.
        if os.path.exists(target):
            os.unlink(temp)
            self._reuse(digest)  # restart its garbage-collection grace period
            return
        folder = os.path.dirname(target)
        try:
            os.replace(temp, target)
        except FileNotFoundError:  # first object under this prefix
            os.makedirs(folder, exist_ok=True)
            sync_folder(os.path.dirname(folder))
            os.replace(temp, target)
        sync_folder(folder)

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

    def _sync(self, writer: IO[bytes]) -> None:
        # A remote store makes an upload visible only once it is complete: nothing to sync.
        if self._local:
            sync_file(writer)

    def put_file(
        self, path: str | os.PathLike[str], *, likely_new: bool = False
    ) -> tuple[str, int]:
        """Store a local file by streaming it; returns ``(digest, size)``.

        By default the file is hashed first, so content already stored is never
        copied. With ``likely_new`` (the caller knows it has not seen this file
        before), the file is read once, hashed while it is copied, and the copy
        is dropped if the object turns out to exist. A large local file is
        hashed on a second thread while the kernel copies it.

        Raises:
            NotFound: no such file.
            IntegrityError: the file changed while it was being stored.
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
        if self._local and source.stat().st_size >= PARALLEL_COPY_SIZE:
            digest, size = self._copy_hashing(source, temp)
        else:
            digest, size = self._stream_hashing(source, temp)
        if expected is not None and digest != expected:
            self.delete_path(temp)
            raise IntegrityError(f"{str(source)!r} changed while it was being stored; log it again")
        self._commit(temp, digest)
        return digest, size

    def _stream_hashing(self, source: Path, temp: str) -> tuple[str, int]:
        hasher = hashlib.sha256()
        size = 0
        with source.open("rb") as reader, self._open_temp(temp) as writer:
            while chunk := reader.read(CHUNK_SIZE):
                hasher.update(chunk)
                writer.write(chunk)
                size += len(chunk)
            self._sync(writer)
        return hasher.hexdigest(), size

    def _copy_hashing(self, source: Path, temp: str) -> tuple[str, int]:
        # Hashing is the slow half of storing a big file: it runs on a thread of
        # its own while the kernel copies the bytes (sendfile, no user-space copy).
        # The file must look the same before and after, or the copy is refused: a
        # rewrite can put the mtime back, but not the change time or the inode.
        before = os.stat(source)
        hashed: list[tuple[str, int]] = []
        failed: list[BaseException] = []

        def hash_source() -> None:
            try:
                hashed.append(hash_file(source))
            except BaseException as err:  # re-raised by the caller
                failed.append(err)

        thread = threading.Thread(target=hash_source, name="mloop-hash", daemon=True)
        thread.start()
        try:
            try:
                shutil.copyfile(source, temp)
            except FileNotFoundError:  # the tmp folder was removed (e.g. by hand): recreate it
                os.makedirs(os.path.dirname(temp), exist_ok=True)
                shutil.copyfile(source, temp)
            sync_path(temp)
        finally:
            thread.join()
        after = os.stat(source)
        if failed:
            self.delete_path(temp)
            raise failed[0]
        digest, size = hashed[0]
        if _stamp(before) != _stamp(after) or size != after.st_size:
            self.delete_path(temp)
            raise IntegrityError(f"{str(source)!r} changed while it was being stored; log it again")
        return digest, size

    def put_bytes(self, data: bytes) -> str:
        """Store bytes; returns the digest."""
        digest = hashlib.sha256(data).hexdigest()
        if self._reuse(digest):
            return digest
        temp = self._temp_path()
        with self._open_temp(temp) as writer:
            writer.write(data)
            self._sync(writer)
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
        remedy = _LOOSE_REMEDY
        handle: IO[bytes]
        try:
            handle = open(location, "rb") if self._local else self.fs.open(location, "rb")  # noqa: SIM115
        except FileNotFoundError:
            packed = self._read_packed(digest)
            if packed is None:
                raise self._missing(digest) from None
            data, location = packed
            handle, remedy = io.BytesIO(data), _PACKED_REMEDY
        with _VerifyingReader(handle, digest, location, remedy) as reader:
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

    def iter_objects(
        self, on_damaged: Callable[[str, IntegrityError], None] | None = None
    ) -> Iterator[StoredObject]:
        """Every stored object with its size and modification time (a packed one: its pack's).

        A damaged pack index raises, or with ``on_damaged`` is passed to it (with
        the index's path) and its pack skipped.
        """
        root = f"{self._base}/objects"
        if self.fs.exists(root):
            for path, info in self.fs.find(root, detail=True).items():
                parts = path.rstrip("/").split("/")
                digest = parts[-2] + parts[-1]
                if _DIGEST.match(digest):
                    yield StoredObject(digest, int(info.get("size") or 0), _modified(info))
        for name in sorted(self._list_pack_names()):
            index = self._pack_path(name, ".idx")
            try:
                modified = _modified(self.fs.info(self._pack_path(name, ".pack")))
                entries = decode_index(self._read_whole(index), index)
            except FileNotFoundError:  # removed since the listing
                continue
            except IntegrityError as err:
                if on_damaged is None:
                    raise
                on_damaged(index, err)
                continue
            for entry in entries:
                yield StoredObject(entry.digest, entry.size, modified, name)

    def copy_intact(self, digest: str, pack: str | None = None) -> bool:
        """True when one copy of an object, its own file or its entry in ``pack``, is whole.

        False when that copy's bytes do not match the digest, or it is gone. An
        object stored twice (two packs, or a pack and a file of its own) has
        copies that can differ: this reads the named one only.

        Example:
            >>> store = ContentStore("memory://cas-intact-doc")
            >>> store.copy_intact(store.put_bytes(b"abc"))
            True
        """
        digest = _check_digest(digest)
        hasher = hashlib.sha256()
        try:
            if pack is None:
                location = self._object_path(digest)
                with open(location, "rb") if self._local else self.fs.open(location, "rb") as f:
                    while chunk := f.read(CHUNK_SIZE):
                        hasher.update(chunk)
            else:
                index = self._pack_path(pack, ".idx")
                entries = decode_index(self._read_whole(index), index)
                entry = next((e for e in entries if e.digest == digest), None)
                if entry is None:
                    return False
                hasher.update(self._read_range(self._pack_path(pack, ".pack"), entry))
        except (FileNotFoundError, IntegrityError):
            return False
        return hasher.hexdigest() == digest

    def iter_temp(self) -> Iterator[tuple[str, float]]:
        """Leftovers of interrupted writes, with their modified time.

        Those are temporary files, and packs whose index was never written.
        """
        root = f"{self._base}/tmp"
        if self.fs.exists(root):
            for path, info in self.fs.find(root, detail=True).items():
                yield path, _modified(info)
        for name in sorted(self._list_pack_names(".pack") - self._list_pack_names()):
            path = self._pack_path(name, ".pack")
            with contextlib.suppress(FileNotFoundError):
                yield path, _modified(self.fs.info(path))

    def delete(self, digest: str) -> None:
        """Remove an object that has a file of its own (used by garbage collection only)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._object_path(_check_digest(digest)))

    def delete_path(self, path: str) -> None:
        """Remove a leftover temporary file."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path)


def _stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino


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
