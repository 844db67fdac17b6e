"""Which metadata store an artifact store belongs to: ``mloop-store.json`` at its root.

An artifact store only holds bytes; which of them are still needed is known
to its metadata store alone. Pointing one at the other's wrong twin (another
project's database, a fresh empty one) makes every object look unreferenced,
so the artifact root records the identity of the metadata store it belongs to:
its ``store_id`` (also kept in the metadata store's ``store_meta`` table), the
tracking URI with credentials masked, and when the pairing was made. The file
is written once, atomically and without overwriting one that exists
(:func:`mloop.disk.write_once`); when a root without it (from before
identities) may be adopted is decided by :mod:`mloop.context.pairing`.

Example:
    >>> root = "memory://identity-doc"
    >>> read_identity(root) is None
    True
    >>> bind_identity(root, "a" * 32, "sqlite:////tmp/mloop.db").store_id == "a" * 32
    True
    >>> read_identity(root).tracking_uri
    'sqlite:////tmp/mloop.db'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from typing import TYPE_CHECKING

from mloop.artifacts.objects.schemes import open_object_store
from mloop.disk import read_written, write_once
from mloop.errors import IntegrityError, StoreError
from mloop.masking import mask_text, mask_uri

if TYPE_CHECKING:
    import fsspec

IDENTITY_FILE = "mloop-store.json"
FORMAT = 1


@dataclasses.dataclass(frozen=True)
class ArtifactIdentity:
    """The metadata store an artifact root belongs to.

    Attributes:
        store_id: the metadata store's identity (``store_meta.store_id``).
        tracking_uri: its URI when the pairing was made, credentials masked (for messages).
        created: when the pairing was made (ISO 8601, UTC).
    """

    store_id: str
    tracking_uri: str
    created: str


def identity_path(root: str) -> str:
    """Where the identity file of an artifact root lives, for messages.

    Example:
        >>> identity_path("/data/artifacts")
        '/data/artifacts/mloop-store.json'
    """
    return f"{root.rstrip('/')}/{IDENTITY_FILE}"


def _location(root: str) -> tuple[fsspec.AbstractFileSystem | None, str]:
    """The filesystem and path of the identity file; no filesystem (a local file) for a path."""
    if "://" not in root:
        # A plain path is a local folder: fsspec, ~25 ms to import, is not needed for it.
        return None, os.path.join(os.path.abspath(os.path.expanduser(root)), IDENTITY_FILE)
    from fsspec.core import url_to_fs  # only for a root given as a URL (see above)
    from fsspec.implementations.local import LocalFileSystem

    fs, base = url_to_fs(root)
    return (None if isinstance(fs, LocalFileSystem) else fs), f"{base.rstrip('/')}/{IDENTITY_FILE}"


def read_identity(root: str) -> ArtifactIdentity | None:
    """The identity recorded at an artifact root, or None when it has none yet.

    Raises:
        IntegrityError: the file exists but is not a valid identity file.
        StoreError: the artifact root cannot be read (permissions, I/O error).

    Example:
        >>> read_identity("memory://identity-doc-none") is None
        True
    """
    fs, path = _location(root)
    try:
        if fs is None:
            # A local file made without hard links is empty for a moment: read_written waits.
            data = read_written(path)
        else:  # through the object store: its errors name the bucket, secrets masked
            data = open_object_store(root).get_bytes(IDENTITY_FILE)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise _unusable(root, err, "read") from None
    try:
        document = json.loads(data)
        return ArtifactIdentity(
            str(document["store_id"]), str(document["tracking_uri"]), str(document["created"])
        )
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(
            f"the artifact store identity file {mask_uri(identity_path(root))} is damaged; it "
            "names the metadata store this artifact store belongs to: restore it from a "
            "backup, or delete it to let the next store that writes here adopt the folder"
        ) from None


def bind_identity(root: str, store_id: str, tracking_uri: str) -> ArtifactIdentity:
    """Record ``store_id`` at an artifact root unless one is recorded; return what is recorded.

    Never overwrites: when two stores race to adopt one root, the first wins
    and the other gets the winner's identity back (and refuses the pair).

    Raises:
        StoreError: the root cannot be created or written (a read-only or missing
            place); the message names the root, credentials masked, and the cause.

    Example:
        >>> bind_identity("memory://identity-doc-bind", "b" * 32, "sqlite://").store_id
        'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
        >>> bind_identity("memory://identity-doc-bind", "c" * 32, "sqlite://").store_id
        'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
    """
    found = read_identity(root)
    if found is not None:
        return found
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    identity = ArtifactIdentity(store_id, mask_uri(tracking_uri), created)
    data = json.dumps({"format": FORMAT, **dataclasses.asdict(identity)}, indent=2).encode()
    fs, path = _location(root)
    try:
        if fs is None:
            write_once(path, data)
        else:
            # An object store's upload is atomic; a lost race is seen on the re-read below.
            open_object_store(root).put_bytes(IDENTITY_FILE, data)
    except OSError as err:
        raise _unusable(root, err, "write to") from None
    return read_identity(root) or identity


def _unusable(root: str, err: OSError, doing: str) -> StoreError:
    cause = mask_text(f"{err.strerror or type(err).__name__}: {err.filename or err}")
    return StoreError(
        f"cannot {doing} the artifact store {mask_uri(root)!r} ({cause}); nothing was "
        "stored. Point MLOOP_ARTIFACTS_URI (or --artifacts-uri) at a folder this user can "
        "read and write (create it, or fix its permissions)"
    )
