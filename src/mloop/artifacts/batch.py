"""Many objects stored at once (:meth:`ContentStore.batch`): small ones share a pack file.

Example:
    >>> from mloop.artifacts.cas import ContentStore
    >>> store = ContentStore("memory://batch-doc")
    >>> with store.batch() as batch:
    ...     digest = batch.put_bytes(b"small")
    >>> store.get_bytes(digest)
    b'small'
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import TYPE_CHECKING

from mloop.artifacts.objects.base import ObjectWriter
from mloop.artifacts.packs import PACK_OBJECT_LIMIT, PACK_SIZE_LIMIT
from mloop.errors import NotFound

if TYPE_CHECKING:  # the store creates batches; a batch only calls back into it
    from mloop.artifacts.cas import ContentStore


class StoreBatch:
    """Objects stored together by :meth:`ContentStore.batch`; thread-safe.

    Small objects are appended to a pack that becomes readable when the batch
    finishes (or, for a very large batch, when the pack is full); larger ones
    are stored in files of their own straight away.
    """

    def __init__(self, store: ContentStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pending: tuple[str, ObjectWriter] | None = None  # the pack being written
        self._entries: list[tuple[str, int, int]] = []
        self._offset = 0
        self._seen: set[str] = set()

    def put_file(
        self, path: str | os.PathLike[str], *, likely_new: bool = False
    ) -> tuple[str, int]:
        """Store a local file; returns ``(digest, size)``.

        Raises:
            NotFound: no such file.
        """
        try:
            with open(path, "rb", buffering=0) as reader:  # one read, sized by fstat
                small = os.fstat(reader.fileno()).st_size <= PACK_OBJECT_LIMIT
                data = reader.readall() if small else b""
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"cannot log {os.fspath(path)!r}: no such file") from None
        if not small or len(data) > PACK_OBJECT_LIMIT:  # large, or grew since the size was read
            return self._store.put_file(path, likely_new=likely_new)
        digest = hashlib.sha256(data).hexdigest()
        self._put(digest, data, dedupe=True)
        return digest, len(data)

    def put_bytes(self, data: bytes, *, dedupe: bool = True) -> str:
        """Store bytes; returns the digest. ``dedupe=False`` packs them even if stored elsewhere."""
        if len(data) > PACK_OBJECT_LIMIT:
            return self._store.put_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        self._put(digest, data, dedupe=dedupe)
        return digest

    def _put(self, digest: str, data: bytes, *, dedupe: bool) -> None:
        with self._lock:
            if digest in self._seen:
                return
        if dedupe and self._store._reuse(digest):
            return
        with self._lock:
            if digest in self._seen:
                return
            if self._pending is None:
                self._pending = self._store._begin_pack()
            self._pending[1].write(data)
            self._entries.append((digest, self._offset, len(data)))
            self._offset += len(data)
            self._seen.add(digest)
            if self._offset >= PACK_SIZE_LIMIT:
                self._seal()

    def _seal(self) -> None:
        # Called with the lock held.
        if self._pending is None:
            return
        pending, entries = self._pending, self._entries
        self._pending, self._entries, self._offset = None, [], 0
        try:
            self._store._commit_pack(pending, entries)  # one sync per pack, not per object
        except BaseException:
            pending[1].abort()
            raise

    def finish(self) -> None:
        """Make every object stored so far readable."""
        with self._lock:
            self._seal()

    def abort(self) -> None:
        """Discard the pack being written."""
        with self._lock:
            if self._pending is not None:
                self._pending[1].abort()
            self._pending, self._entries, self._offset = None, [], 0
