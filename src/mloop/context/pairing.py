"""A metadata store and an artifact store are opened as a pair, and must belong together.

The metadata store's identity (``store_meta.store_id``) is recorded at the
artifact root on first open (:mod:`mloop.artifacts.identity`); afterwards a
metadata store paired with another store's artifact root is refused before
anything is written or collected. An artifact root with no owner recorded
(from before identities) is adopted by the first store that writes to it,
only when it is empty or holds objects that store references; one holding
only objects the store does not know may be another store's, and is refused.
Garbage collection never runs against a root that holds objects and records
no owner, unless forced. Opening for reading only
(:func:`~mloop.store.mode.existing_stores_only`) checks but never writes the
identity file.

Example:
    >>> stores, content = open_pair("sqlite://", "memory://pairing-doc")
    >>> content.root
    'memory://pairing-doc'
"""

from __future__ import annotations

from collections.abc import Iterator

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.identity import bind_identity, identity_path, read_identity
from mloop.errors import Conflict
from mloop.masking import mask_uri
from mloop.store.mode import may_create
from mloop.store.registry import open_store_set
from mloop.store.set import StoreSet


def open_pair(tracking_uri: str, artifacts_uri: str) -> tuple[StoreSet, ContentStore]:
    """The (shared) store set of a tracking URI and the content store of an artifact root, checked.

    The store set stays open when the check fails: it is the process's one set
    for that URI (:func:`mloop.store.registry.open_store_set`), which other
    artifact roots may pair with.

    Raises:
        Conflict: the artifact root belongs to another metadata store.
    """
    stores = open_store_set(tracking_uri)
    content = ContentStore(artifacts_uri)
    check_pair(stores, content)
    return stores, content


def check_pair(stores: StoreSet, content: ContentStore, *, force: bool = False) -> None:
    """Refuse an artifact store that belongs to another metadata store; adopt one with no owner.

    A root with no owner recorded is adopted (the metadata store's identity is
    written there) when it holds no object, or holds an object the metadata
    store references (a store from before identities); otherwise it may be
    another store's, and is refused. Opening for reading only adopts nothing.
    A backend without an identity (``store_id`` empty, as for an in-memory
    database) is not paired: it lives and dies with its process.

    Args:
        stores: the metadata store.
        content: the artifact store.
        force: adopt a root with no owner whatever it holds, even when reading
            only (``mloop gc --force``): the caller has said the two belong together.

    Raises:
        Conflict: the identities differ, or a root with no owner holds objects
            the metadata store does not reference; the message names both stores
            and how to fix it.

    Example:
        >>> stores, content = open_pair("sqlite://", "memory://pairing-check-doc")
        >>> check_pair(stores, content)  # an in-memory store is never paired
    """
    if not stores.store_id:
        return
    found = read_identity(content.root)
    if found is None:
        if not (may_create() or force):
            return  # reading harms nothing, and records nothing
        if not force:
            _check_adoptable(stores, content)
        found = bind_identity(content.root, stores.store_id, stores.uri)
    if found.store_id == stores.store_id:
        return
    raise Conflict(
        f"the artifact store {mask_uri(content.root)!r} belongs to another metadata store "
        f"({found.tracking_uri!r}, store id {found.store_id}), not to "
        f"{mask_uri(stores.uri)!r} (store id {stores.store_id}); nothing was read or written. "
        f"{_FIX} {identity_path(mask_uri(content.root))} records which metadata store owns it"
    )


def check_collectable(stores: StoreSet, content: ContentStore, *, force: bool = False) -> None:
    """Check a pair before garbage collection: an artifact root with objects needs an owner.

    Collection judges every object by one metadata store's references, so it
    never runs against a root holding objects with no owner recorded (it could
    be another store's) unless ``force`` says the two belong together; ``force``
    then records the pairing.

    Raises:
        Conflict: as :func:`check_pair`, or the root holds objects and records no owner.

    Example:
        >>> stores, content = open_pair("sqlite://", "memory://pairing-collect-doc")
        >>> check_collectable(stores, content)
    """
    unowned = stores.store_id and not force and read_identity(content.root) is None
    if unowned and _holds_objects(content):
        raise Conflict(
            f"the artifact store {mask_uri(content.root)!r} holds objects but records no "
            f"owner ({identity_path(mask_uri(content.root))}): collecting with the metadata "
            f"store {mask_uri(stores.uri)!r} could delete another store's objects; nothing "
            f"was collected. {_FIX} If the two belong together, run `mloop gc --force` "
            "(collect_garbage(..., force=True)): it records the pairing first; add "
            "--dry-run to record it and only list what would go"
        )
    check_pair(stores, content, force=force)


_FIX = (
    "Point MLOOP_TRACKING_URI and MLOOP_ARTIFACTS_URI (or --tracking-uri and "
    "--artifacts-uri) at the two halves of one store."
)


def _holds_objects(content: ContentStore) -> bool:
    return next(_held(content), None) is not None


def _check_adoptable(stores: StoreSet, content: ContentStore) -> None:
    """Refuse to adopt a root unless it holds an object the store references, or both are empty.

    A root holding only objects the store does not know may be another store's;
    an empty root paired with a store that references objects is not where that
    store's objects are (adopting it would split the store in two).
    """
    referenced = stores.artifacts.referenced_digests()
    held = False
    for digest in _held(content):
        held = True
        if digest in referenced:
            return
    if held:
        raise Conflict(
            f"the artifact store {mask_uri(content.root)!r} holds objects but records no "
            f"owner, and the metadata store {mask_uri(stores.uri)!r} (store id "
            f"{stores.store_id}) references none of them: it may be another store's, whose "
            "objects a `mloop gc` here would delete; nothing was written. "
            f"{_FIX} If it does belong to {mask_uri(stores.uri)!r}, record that with "
            "`mloop gc --force --dry-run` (it removes nothing)"
        )
    if referenced:
        raise Conflict(
            f"the artifact store {mask_uri(content.root)!r} is empty, but the metadata store "
            f"{mask_uri(stores.uri)!r} (store id {stores.store_id}) references "
            f"{len(referenced):,} objects: they are in another artifact store, and writing "
            "here would split the store in two; nothing was written. "
            f"{_FIX} If the objects were lost, restore them (or point at their copy)"
        )


def _held(content: ContentStore) -> Iterator[str]:
    """The digests a root holds; a pack with a damaged index counts as one unknown object."""
    damaged: list[str] = []
    for stored in content.iter_objects(on_damaged=lambda where, _: damaged.append(where)):
        yield stored.digest
    if damaged:
        yield ""
