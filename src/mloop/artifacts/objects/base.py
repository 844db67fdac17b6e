"""The object-store seam: named blobs under one root, written whole or not at all.

An :class:`ObjectStore` knows nothing of hashes, packs or references; it
stores bytes under keys (``objects/ab/cdef…``, ``packs/x.pack``) relative to
its root, and promises that a reader sees every byte of a write or none of it.
The content store (:mod:`mloop.artifacts.cas`) is built on it, so the same
content logic runs on a local folder, in memory and on S3.

Example:
    >>> from mloop.artifacts.objects.schemes import open_object_store
    >>> objects = open_object_store("memory://objects-base-doc")
    >>> objects.put_bytes("a/b", b"hello")
    >>> objects.get_bytes("a/b"), objects.exists("a/c")
    (b'hello', False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One stored object: its key, size in bytes and last-modified time (epoch seconds)."""

    key: str
    size: int
    modified: float


class ObjectWriter(Protocol):
    """A write in progress, invisible to readers until it is committed.

    The contract, for every backend:

    - ``write`` appends bytes; ``write_file`` appends a whole local file (a
      backend may copy it without reading it into Python, e.g. in the kernel).
    - ``commit(key)`` makes everything written visible under ``key`` at once,
      replacing what was there; when the writer was begun with a key, ``commit``
      must be given the same one.
    - ``abort`` discards the write; it is safe to call after a failed commit.
    """

    def write(self, data: bytes) -> None:
        """Append bytes."""

    def write_file(self, source: Path) -> None:
        """Append the bytes of a local file."""

    def commit(self, key: str) -> None:
        """Make the bytes visible under ``key``, whole."""

    def abort(self) -> None:
        """Discard the write; nothing becomes visible."""


class ObjectStore(Protocol):
    """Named blobs under one root: a local folder, memory, or any fsspec URL (s3, gcs).

    The contract, checked for every backend by the object-store contract suite:

    - Writes are atomic: a reader sees a whole object or none (``put_bytes``,
      and a writer from ``begin``). Where the store cannot rename (an object
      store), a write goes straight to its final key and becomes visible when
      the upload completes; there are no temporary keys.
    - Reads of a missing key raise ``FileNotFoundError``; ``exists`` and
      ``info`` never raise for one (``info`` returns None).
    - ``touch`` restarts an object's age (its modified time), so garbage
      collection's grace period counts from the last claim, not the first write.
    - ``list(prefix)`` yields every object whose key starts with ``prefix``,
      with its size and modified time taken from the listing itself.
    - ``delete`` of a missing key does nothing.
    - Failures of the store itself (no credentials, no such bucket, no network)
      raise :class:`~mloop.errors.StoreError` naming the root, never a secret.
    """

    url: str
    """The root as given (for messages: mask it before showing it)."""

    def location(self, key: str) -> str:
        """Where ``key`` lives, as a path or URL a user can look up."""

    def scratch_dir(self) -> Path | None:
        """A local folder on the same file system as the objects, or None when remote."""

    def begin(self, key: str | None = None) -> ObjectWriter:
        """Start a streamed write; ``key`` when it is known before the first byte."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, atomically."""

    def get_bytes(self, key: str) -> bytes:
        """The whole content of ``key``."""

    def open(self, key: str) -> IO[bytes]:
        """A binary reader over ``key``, for streaming."""

    def read_range(self, key: str, offset: int, size: int) -> bytes:
        """``size`` bytes of ``key`` from ``offset`` (fewer at the end of the object)."""

    def exists(self, key: str) -> bool:
        """True when ``key`` holds an object."""

    def info(self, key: str) -> ObjectInfo | None:
        """Size and modified time of ``key``, or None when it is missing."""

    def touch(self, key: str) -> bool:
        """Restart the age of ``key``; False when it is missing."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if it is there."""

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under ``prefix`` (a key prefix ending in ``/``), in no set order."""
