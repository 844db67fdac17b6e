"""A metadata store and an artifact store are opened as a pair, and must belong together.

The metadata store's identity (``store_meta.store_id``) is recorded at the
artifact root on first open (:mod:`mloop.artifacts.identity`); afterwards a
metadata store paired with another store's artifact root is refused before
anything is written or collected. An artifact root from before identities is
adopted. Opening for reading only (:func:`~mloop.store.engine.existing_stores_only`)
checks but never writes the identity file.

Example:
    >>> stores, content = open_pair("sqlite://", "memory://pairing-doc")
    >>> content.root
    'memory://pairing-doc'
    >>> stores.close()
"""

from __future__ import annotations

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.identity import bind_identity, identity_path, read_identity
from mloop.errors import Conflict
from mloop.masking import mask_uri
from mloop.store.mode import may_create
from mloop.tracking.protocols import Stores
from mloop.tracking.registry import open_stores


def open_pair(tracking_uri: str, artifacts_uri: str) -> tuple[Stores, ContentStore]:
    """Open the stores of a tracking URI and the content store of an artifact root, checked.

    Raises:
        Conflict: the artifact root belongs to another metadata store.
    """
    stores = open_stores(tracking_uri)
    try:
        content = ContentStore(artifacts_uri)
        check_pair(stores, content)
    except BaseException:
        stores.close()
        raise
    return stores, content


def check_pair(stores: Stores, content: ContentStore) -> None:
    """Refuse an artifact store that belongs to another metadata store; adopt one with no owner.

    A backend without an identity (``store_id`` empty, as for an in-memory
    database) is not paired: it lives and dies with its process.

    Raises:
        Conflict: the identities differ; the message names both stores and how to fix it.

    Example:
        >>> stores, content = open_pair("sqlite://", "memory://pairing-check-doc")
        >>> check_pair(stores, content)  # an in-memory store is never paired
        >>> stores.close()
    """
    if not stores.store_id:
        return
    found = read_identity(content.root)
    if found is None:
        if not may_create():
            return
        found = bind_identity(content.root, stores.store_id, stores.uri)
    if found.store_id == stores.store_id:
        return
    raise Conflict(
        f"the artifact store {mask_uri(content.root)!r} belongs to another metadata store "
        f"({found.tracking_uri!r}, store id {found.store_id}), not to "
        f"{mask_uri(stores.uri)!r} (store id {stores.store_id}); nothing was read or written. "
        "Point MLOOP_TRACKING_URI and MLOOP_ARTIFACTS_URI (or --tracking-uri and "
        "--artifacts-uri) at the two halves of one store; "
        f"{identity_path(mask_uri(content.root))} records which metadata store owns it"
    )
