"""``mloop fsck``: the whole artifact store checked against everything the metadata references.

Run artifacts, dataset files and model version files all live in the one
content store and are all listed in the one metadata store, so the check
needs nothing above tracking: :meth:`ArtifactIndex.references` names every
digest with what it is, and :func:`mloop.artifacts.check.check_store` reads
every object.

Example:
    >>> import mloop
    >>> from mloop.tracking.connection import connect
    >>> backend = connect(mloop.Client().settings)
    >>> fsck(backend.stores, backend.content).ok
    True
"""

from __future__ import annotations

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.check import Reference, StoreCheck, check_store
from mloop.store.set import StoreSet


def fsck(stores: StoreSet, content: ContentStore, *, repair: bool = False) -> StoreCheck:
    """Check (and with ``repair``, mend what can be mended) every object the metadata references.

    Raises:
        StoreError: a store cannot be read at all.
    """
    references = [Reference(*row) for row in stores.artifacts.references()]
    return check_store(content, references, repair=repair)
