"""The packs of one content store: what their indexes say, read once and kept up to date.

A pack's objects are found through its index (:mod:`mloop.artifacts.packs`);
the indexes are listed and read on first need, and read again on a miss, since
another process may have written a pack since. A pack is written first and its
index last, so an index always finds its pack; a damaged index hides its own
pack's objects, never the rest of the store.

Example:
    >>> from mloop.artifacts.objects.schemes import open_object_store
    >>> shelf = PackShelf(open_object_store("memory://packed-doc"))
    >>> name, writer = shelf.begin()
    >>> writer.write(b"abc")
    >>> shelf.commit(name, writer, [("ba7816bf" + "0" * 56, 0, 3)])
    >>> shelf.find("ba7816bf" + "0" * 56, refresh=False)[1].size
    3
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

from mloop.artifacts.objects.base import ObjectInfo, ObjectStore, ObjectWriter
from mloop.artifacts.packs import PackEntry, decode_index, encode_index
from mloop.errors import IntegrityError

_log = logging.getLogger(__name__)
_TOUCH_INTERVAL = 10.0
PACKS = "packs"


def pack_key(name: str, suffix: str) -> str:
    """The key of a pack's ``.pack`` or ``.idx`` file.

    Example:
        >>> pack_key("p1", ".idx")
        'packs/p1.idx'
    """
    return f"{PACKS}/{name}{suffix}"


class PackShelf:
    """Pack files and their indexes in one object store; thread-safe."""

    def __init__(self, objects: ObjectStore) -> None:
        self._objects = objects
        self._lock = threading.Lock()
        self._packed: dict[str, tuple[str, PackEntry]] = {}
        self._names: set[str] = set()
        self.damaged: set[str] = set()
        """Packs whose index cannot be read."""
        self._listed = False
        self._touched: dict[str, float] = {}

    def listing(self) -> dict[str, ObjectInfo]:
        """Every file under ``packs/`` by file name (``<name>.pack``, ``<name>.idx``)."""
        return {info.key.rsplit("/", 1)[-1]: info for info in self._objects.list(f"{PACKS}/")}

    def names(self, suffix: str = ".idx") -> set[str]:
        """Names of the packs that have a file ending in ``suffix``."""
        return {n.removesuffix(suffix) for n in self.listing() if n.endswith(suffix)}

    def find(self, digest: str, *, refresh: bool) -> tuple[str, PackEntry] | None:
        """The pack holding ``digest`` and where in it; with ``refresh``, look for new packs."""
        with self._lock:
            if not self._listed:
                self._load()
                self._listed = True
                refresh = False
            found = self._packed.get(digest)
            if found is None and refresh:  # another process may have written a pack since
                self._load()
                found = self._packed.get(digest)
            return found

    def reset(self) -> None:
        """Forget what the indexes said: the next lookup lists and reads them again."""
        with self._lock:
            self._packed.clear()
            self._names.clear()
            self.damaged.clear()
            self._listed = False

    def _load(self) -> None:
        for name in sorted(self.names() - self._names - self.damaged):
            key = pack_key(name, ".idx")
            try:
                entries = decode_index(self._objects.get_bytes(key), self._objects.location(key))
            except FileNotFoundError:  # removed by `mloop gc` since the listing
                continue
            except IntegrityError as err:
                _log.warning("%s; its objects cannot be read until it is repaired", err)
                self.damaged.add(name)
                continue
            for entry in entries:
                self._packed.setdefault(entry.digest, (name, entry))
            self._names.add(name)

    def read(self, digest: str) -> tuple[bytes, str] | None:
        """The bytes of a packed object (unverified) and where they were read, or None."""
        for _ in range(2):
            found = self.find(digest, refresh=True)
            if found is None:
                return None
            name, entry = found
            key = pack_key(name, ".pack")
            try:
                data = self._objects.read_range(key, entry.offset, entry.size)
            except FileNotFoundError:  # rewritten by `mloop gc`: read the indexes again
                self.reset()
                continue
            where = self._objects.location(key)
            return data, f"{where} (bytes {entry.offset}-{entry.offset + entry.size})"
        return None

    def touch(self, name: str) -> bool:
        """Restart a pack's garbage-collection grace period (at most once per 10 s).

        False when the pack is gone (rewritten by ``mloop gc`` since the indexes were read).
        """
        now = time.monotonic()
        if now - self._touched.get(name, -_TOUCH_INTERVAL) < _TOUCH_INTERVAL:
            return True
        if not self._objects.touch(pack_key(name, ".pack")):
            self.reset()
            return False
        self._touched[name] = now
        return True

    def begin(self) -> tuple[str, ObjectWriter]:
        """A new pack's name and the writer of its bytes (straight to its final key)."""
        name = uuid.uuid4().hex
        return name, self._objects.begin(pack_key(name, ".pack"))

    def commit(self, name: str, writer: ObjectWriter, entries: list[tuple[str, int, int]]) -> None:
        """Make a pack readable: its bytes in place first, its index last."""
        writer.commit(pack_key(name, ".pack"))
        self._objects.put_bytes(pack_key(name, ".idx"), encode_index(entries))
        with self._lock:
            for digest, offset, size in entries:
                self._packed.setdefault(digest, (name, PackEntry(digest, offset, size)))
            self._names.add(name)

    def write_index(self, name: str, entries: list[tuple[str, int, int]]) -> None:
        """Replace a pack's index (to repair a damaged one)."""
        self._objects.put_bytes(pack_key(name, ".idx"), encode_index(entries))
        self.reset()

    def entries(self, name: str) -> list[PackEntry]:
        """What a pack's index lists.

        Raises:
            FileNotFoundError: the index is gone.
            IntegrityError: the index is damaged.
        """
        key = pack_key(name, ".idx")
        return decode_index(self._objects.get_bytes(key), self._objects.location(key))

    def remove(self, name: str) -> None:
        """Remove a pack and its index, the index first."""
        for suffix in (".idx", ".pack"):
            self._objects.delete(pack_key(name, suffix))
        self.reset()

    def unfinished(self) -> Iterator[ObjectInfo]:
        """Packs whose index was never written: leftovers of interrupted batches."""
        listing = self.listing()
        for file_name, info in sorted(listing.items()):
            name = file_name.removesuffix(".pack")
            if file_name.endswith(".pack") and f"{name}.idx" not in listing:
                yield info
