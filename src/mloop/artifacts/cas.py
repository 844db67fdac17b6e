"""Content-addressed objects over an object store (a local folder, memory, S3, GCS…).

Every object lives at ``objects/<first 2 hex>/<remaining 62 hex>`` of its
SHA-256, in an :class:`~mloop.artifacts.objects.base.ObjectStore` picked by the
root's URL scheme (:func:`~mloop.artifacts.objects.schemes.open_object_store`).
The object store makes every write atomic: a local one through a synced
temporary file and a rename, a remote one by uploading straight to the final
key, which appears only when the upload completes. Since the key is the
digest, a write can never change what a reader sees. Identical content is
stored once; every read verifies the hash; large files stream in fixed-size
chunks.

Storing many files at once (:meth:`ContentStore.batch`) puts the small ones
in pack files (see :mod:`mloop.artifacts.packs`) instead of one file each:
creating files, not writing bytes, is what costs when a folder holds
thousands of small ones. Reads find an object wherever it lives.

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
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from mloop.artifacts.batch import StoreBatch as StoreBatch
from mloop.artifacts.objects.base import ObjectStore, ObjectWriter
from mloop.artifacts.objects.local import TEMP
from mloop.artifacts.objects.schemes import open_object_store
from mloop.artifacts.packed import PackShelf, pack_key
from mloop.artifacts.packs import PACK_OBJECT_LIMIT as PACK_OBJECT_LIMIT
from mloop.artifacts.packs import PackEntry
from mloop.artifacts.reading import CHUNK_SIZE as CHUNK_SIZE
from mloop.artifacts.reading import (
    LOOSE_REMEDY,
    PACKED_REMEDY,
    VerifyingReader,
    check_digest,
    is_digest,
)
from mloop.artifacts.reading import StoredObject as StoredObject
from mloop.artifacts.reading import hash_file as hash_file
from mloop.errors import IntegrityError, NotFound

PARALLEL_COPY_SIZE = 32 << 20
"""Files from this size are hashed on one thread while another copies them."""
OBJECTS = "objects"


def object_key(digest: str) -> str:
    """The key of an object stored in a file of its own.

    Example:
        >>> object_key("ab" + "0" * 62)
        'objects/ab/00000000000000000000000000000000000000000000000000000000000000'
    """
    return f"{OBJECTS}/{digest[:2]}/{digest[2:]}"


class ContentStore:
    """Objects by SHA-256 over an object store."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.objects: ObjectStore = open_object_store(root)
        self._packs = PackShelf(self.objects)

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
        return self.objects.scratch_dir()

    def location(self, digest: str) -> str:
        """Where an object lives when it has a file of its own, for messages."""
        return self.objects.location(object_key(check_digest(digest)))

    def exists(self, digest: str) -> bool:
        """True when the object is stored, in a file of its own or in a pack."""
        if self.objects.exists(object_key(check_digest(digest))):
            return True
        return self._packs.find(digest, refresh=True) is not None

    def claim(self, digest: str) -> bool:
        """True when the object is stored; it then survives `mloop gc` for another grace period.

        For callers that already know a file's digest (from a hash cache) and
        want to skip storing it again.
        """
        return self._reuse(check_digest(digest))

    def _reuse(self, digest: str) -> bool:
        # Content already stored is not copied again. Touching it restarts its
        # garbage-collection grace period, so `mloop gc` cannot remove it
        # between this check and the caller recording a reference.
        if self.objects.touch(object_key(digest)):
            return True
        found = self._packs.find(digest, refresh=False)
        return found is not None and self._packs.touch(found[0])

    # -- packs ----------------------------------------------------------------------

    def _find_packed(self, digest: str, *, refresh: bool) -> tuple[str, PackEntry] | None:
        return self._packs.find(digest, refresh=refresh)

    def _pack_path(self, name: str, suffix: str) -> str:
        return self.objects.location(pack_key(name, suffix))

    def _begin_pack(self) -> tuple[str, ObjectWriter]:
        return self._packs.begin()

    def _commit_pack(
        self, pending: tuple[str, ObjectWriter], entries: list[tuple[str, int, int]]
    ) -> None:
        self._packs.commit(*pending, entries)

    def pack_names(self, suffix: str = ".idx") -> set[str]:
        """Names of the packs that have a file ending in ``suffix`` (``.idx`` or ``.pack``)."""
        return self._packs.names(suffix)

    def pack_path(self, name: str, suffix: str) -> str:
        """Where a pack's ``.pack`` or ``.idx`` file lives, for messages."""
        return self._pack_path(name, suffix)

    def read_pack(self, name: str, suffix: str) -> bytes:
        """The whole of a pack's ``.pack`` or ``.idx`` file, unverified.

        Raises:
            FileNotFoundError: that file is gone.
        """
        return self.objects.get_bytes(pack_key(name, suffix))

    def write_pack_index(self, name: str, entries: list[tuple[str, int, int]]) -> None:
        """Replace a pack's index (to repair a damaged one), synced before it is used."""
        self._packs.write_index(name, entries)

    def remove_pack(self, name: str) -> None:
        """Remove a pack and its index (for a repair that keeps every object elsewhere)."""
        self._packs.remove(name)

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
        key = pack_key(name, ".pack")
        live = [e for e in self._packs.entries(name) if e.digest in keep]
        if live:
            with self.batch() as batch:
                for entry in live:
                    data = self.objects.read_range(key, entry.offset, entry.size)
                    if hashlib.sha256(data).hexdigest() != entry.digest:
                        raise IntegrityError(
                            f"artifact object {entry.digest} in {self.objects.location(key)} "
                            f"is corrupted; {PACKED_REMEDY}"
                        )
                    batch.put_bytes(data, dedupe=False)
        self._packs.remove(name)

    # -- storing ----------------------------------------------------------------------

    def put_file(
        self, path: str | os.PathLike[str], *, likely_new: bool = False
    ) -> tuple[str, int]:
        """Store a local file by streaming it; returns ``(digest, size)``.

        By default the file is hashed first, so content already stored is never
        copied, and the write goes straight to its final key. With ``likely_new``
        (the caller knows it has not seen this file before), the file is read
        once, hashed while it is copied, and the copy is dropped if the object
        turns out to exist. A large file is hashed on a second thread while it
        is copied.

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
        writer = self.objects.begin(None if expected is None else object_key(expected))
        try:
            if source.stat().st_size >= PARALLEL_COPY_SIZE:
                digest, size = _copy_hashing(source, writer)
            else:
                digest, size = _stream_hashing(source, writer)
            if expected is not None and digest != expected:
                raise IntegrityError(
                    f"{str(source)!r} changed while it was being stored; log it again"
                )
            if expected is None and self.objects.touch(object_key(digest)):
                writer.abort()  # a file of its own holds it already: the copy is dropped
            else:
                writer.commit(object_key(digest))
        except BaseException:
            writer.abort()
            raise
        return digest, size

    def put_bytes(self, data: bytes) -> str:
        """Store bytes; returns the digest."""
        digest = hashlib.sha256(data).hexdigest()
        if not self._reuse(digest):
            self.objects.put_bytes(object_key(digest), data)
        return digest

    # -- reading ----------------------------------------------------------------------

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[VerifyingReader]:
        """Open an object for streaming reads; the hash is checked when the end is reached.

        Raises:
            NotFound: no such object.
            IntegrityError: (at EOF) the bytes do not match the digest.
        """
        key = object_key(check_digest(digest))
        location, remedy = self.objects.location(key), LOOSE_REMEDY
        handle: IO[bytes]
        try:
            handle = self.objects.open(key)
        except FileNotFoundError:
            packed = self._packs.read(digest)
            if packed is None:
                raise self._missing(digest) from None
            data, location = packed
            handle, remedy = io.BytesIO(data), PACKED_REMEDY
        with VerifyingReader(handle, digest, location, remedy) as reader:
            yield reader

    def _missing(self, digest: str) -> NotFound:
        message = f"artifact object {digest} is missing from {self.root}"
        if self._packs.damaged:
            indexes = ", ".join(self._pack_path(n, ".idx") for n in sorted(self._packs.damaged))
            message += (
                f"; the damaged pack index(es) {indexes} may list it: run `mloop fsck --repair` "
                "to rebuild them from their packs"
            )
        return NotFound(message)

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

    # -- maintenance (mloop gc, mloop fsck) ---------------------------------------------

    def iter_objects(
        self, on_damaged: Callable[[str, IntegrityError], None] | None = None
    ) -> Iterator[StoredObject]:
        """Every stored object with its size and modification time (a packed one: its pack's).

        The times come from the object store's listing. A damaged pack index
        raises, or with ``on_damaged`` is passed to it (with the index's path)
        and its pack skipped.
        """
        for info in self.objects.list(f"{OBJECTS}/"):
            parts = info.key.split("/")
            digest = "".join(parts[-2:])
            if len(parts) == 3 and is_digest(digest):
                yield StoredObject(digest, info.size, info.modified)
        listing = self._packs.listing()
        for file_name in sorted(listing):
            name = file_name.removesuffix(".idx")
            pack = listing.get(f"{name}.pack")
            if not file_name.endswith(".idx") or pack is None:
                continue
            try:
                entries = self._packs.entries(name)
            except FileNotFoundError:  # removed since the listing
                continue
            except IntegrityError as err:
                if on_damaged is None:
                    raise
                on_damaged(self._pack_path(name, ".idx"), err)
                continue
            for entry in entries:
                yield StoredObject(entry.digest, entry.size, pack.modified, name)

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
        key = object_key(check_digest(digest))
        hasher = hashlib.sha256()
        try:
            if pack is None:
                with self.objects.open(key) as handle:
                    while chunk := handle.read(CHUNK_SIZE):
                        hasher.update(chunk)
            else:
                entry = next((e for e in self._packs.entries(pack) if e.digest == digest), None)
                if entry is None:
                    return False
                data = self.objects.read_range(pack_key(pack, ".pack"), entry.offset, entry.size)
                hasher.update(data)
        except (FileNotFoundError, IntegrityError):
            return False
        return hasher.hexdigest() == digest

    def iter_temp(self) -> Iterator[tuple[str, float]]:
        """Leftovers of interrupted writes, with their modified time.

        Those are files of a local store's ``tmp/``, and packs whose index was
        never written. (A remote store makes no temporary objects.)
        """
        for info in self.objects.list(f"{TEMP}/"):
            yield self.objects.location(info.key), info.modified
        for info in self._packs.unfinished():
            yield self.objects.location(info.key), info.modified

    def delete(self, digest: str) -> None:
        """Remove an object that has a file of its own (used by garbage collection only)."""
        self.objects.delete(object_key(check_digest(digest)))

    def delete_path(self, path: str) -> None:
        """Remove a leftover that :meth:`iter_temp` listed."""
        base = self.objects.location("")
        if path.startswith(base):
            self.objects.delete(path[len(base) :])


def _stream_hashing(source: Path, writer: ObjectWriter) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with source.open("rb") as reader:
        while chunk := reader.read(CHUNK_SIZE):
            hasher.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def _copy_hashing(source: Path, writer: ObjectWriter) -> tuple[str, int]:
    # Hashing is the slow half of storing a big local copy: it runs on a thread
    # of its own while the writer copies the bytes (a local store: the kernel,
    # with no user-space copy). The file must look the same before and after,
    # or the copy is refused: a rewrite can put the mtime back, but not the
    # change time or the inode.
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
        writer.write_file(source)
    finally:
        thread.join()
    after = os.stat(source)
    if failed:
        raise failed[0]
    digest, size = hashed[0]
    if _stamp(before) != _stamp(after) or size != after.st_size:
        raise IntegrityError(f"{str(source)!r} changed while it was being stored; log it again")
    return digest, size


def _stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino
