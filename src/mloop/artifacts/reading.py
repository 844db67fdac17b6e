"""Hashing, digests and verified reads: what every read of the content store goes through.

Example:
    >>> import io, hashlib
    >>> digest = hashlib.sha256(b"abc").hexdigest()
    >>> VerifyingReader(io.BytesIO(b"abc"), digest, "example").read()
    b'abc'
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from typing import IO

from mloop.errors import IntegrityError, InvalidInput

CHUNK_SIZE = 1 << 20
"""Reads and copies stream in pieces of this many bytes."""
_DIGEST = re.compile(r"^[0-9a-f]{64}$")

LOOSE_REMEDY = (
    "restore it from a backup, or delete that file and store the same content again "
    "(mloop.log_artifact of the same file rewrites a missing object)"
)
PACKED_REMEDY = "restore that pack file from a backup"


@dataclasses.dataclass(frozen=True, slots=True)
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


def is_digest(text: str) -> bool:
    """True for a SHA-256 hex digest (64 lowercase hex characters).

    Example:
        >>> is_digest("ab" * 32), is_digest("AB" * 32)
        (True, False)
    """
    return _DIGEST.match(text) is not None


def check_digest(digest: str) -> str:
    """``digest`` itself when it is a SHA-256 hex digest.

    Raises:
        InvalidInput: it is not one (a path, a prefix, upper case…).

    Example:
        >>> check_digest("0" * 64) == "0" * 64
        True
    """
    if not is_digest(digest):
        raise InvalidInput(f"{digest!r} is not a SHA-256 hex digest (64 lowercase hex characters)")
    return digest


class VerifyingReader:
    """A file-like reader that hashes as it reads and raises at EOF on a mismatch."""

    def __init__(
        self, handle: IO[bytes], digest: str, location: str, remedy: str = LOOSE_REMEDY
    ) -> None:
        self._handle = handle
        self._digest = digest
        self._location = location
        self._remedy = remedy
        self._hasher = hashlib.sha256()
        self._checked = False

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative or None).

        Raises:
            IntegrityError: the end is reached and the bytes do not match the digest.
        """
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
        """Close the underlying reader."""
        self._handle.close()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
