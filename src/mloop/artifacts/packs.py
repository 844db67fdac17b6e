"""Pack files: many small objects in one file, found through a small index.

Creating a file costs far more than writing a few kilobytes into one, on a
local disk and even more on object storage, so the content store keeps small
objects in packs: ``packs/<name>.pack`` holds the objects' bytes back to back
and ``packs/<name>.idx`` says where each one is. The index is written last: a
pack without its index is an unfinished write that readers never see and
``mloop gc`` removes.

The index is binary: a magic line, one fixed-size entry per object
(SHA-256 digest, offset, size) and a SHA-256 of the entries, so a damaged index
is detected rather than trusted.

Example:
    >>> data = encode_index([("ab" * 32, 0, 5), ("cd" * 32, 5, 3)])
    >>> [entry.offset for entry in decode_index(data, "example.idx")]
    [0, 5]
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from mloop.errors import IntegrityError

PACK_OBJECT_LIMIT = 1 << 20
"""Objects up to this size (bytes) go into packs when stored in a batch."""
PACK_SIZE_LIMIT = 256 << 20
"""A pack being written is finished once it holds this many bytes."""
INDEX_MAGIC = b"MLOOP-PACK-INDEX-1\n"
_ENTRY = struct.Struct(">32sQQ")
_TRAILER = hashlib.sha256().digest_size


@dataclass(frozen=True, slots=True)
class PackEntry:
    """Where one object lives in a pack."""

    digest: str
    offset: int
    size: int


def encode_index(entries: Iterable[tuple[str, int, int]]) -> bytes:
    """The index file's bytes for ``(digest, offset, size)`` entries."""
    body = b"".join(_ENTRY.pack(bytes.fromhex(d), offset, size) for d, offset, size in entries)
    return INDEX_MAGIC + body + hashlib.sha256(body).digest()


def decode_index(data: bytes, where: str) -> list[PackEntry]:
    """The entries of an index file.

    Raises:
        IntegrityError: the file is not an index, or its entries do not match their checksum.
    """
    body = data[len(INDEX_MAGIC) : len(data) - _TRAILER]
    if (
        not data.startswith(INDEX_MAGIC)
        or len(data) < len(INDEX_MAGIC) + _TRAILER
        or len(body) % _ENTRY.size
        or hashlib.sha256(body).digest() != data[len(data) - _TRAILER :]
    ):
        raise IntegrityError(
            f"pack index {where} is damaged; run `mloop fsck --repair`: it rebuilds the index "
            "from the pack file beside it, and no data is lost"
        )
    return [PackEntry(raw.hex(), offset, size) for raw, offset, size in _ENTRY.iter_unpack(body)]
