"""Building contexts: the store set and its paired content store, opened once per process.

The store set comes from the process-wide cache of :mod:`mloop.store.registry`
(one per metadata-store URI); the content store is opened and checked against
it (:func:`~mloop.context.pairing.check_pair`) once per pair of URIs. A
context itself is a small frozen value, cheap to make.

Example:
    >>> from mloop.config import Settings
    >>> ctx = open_context(Settings(tracking_uri="sqlite://", artifacts_uri="memory://open-doc"))
    >>> ctx.actor.name == Settings().resolved_user()
    True
"""

from __future__ import annotations

import threading

from mloop.artifacts.cas import ContentStore
from mloop.config import Settings
from mloop.context.context import Context
from mloop.context.identity import Identity
from mloop.context.pairing import open_pair
from mloop.store.set import StoreSet

_pairs: dict[tuple[str, str], tuple[StoreSet, ContentStore]] = {}
_lock = threading.Lock()


def open_context(
    settings: Settings, *, actor: Identity | None = None, project: str | None = None
) -> Context:
    """A context over the settings' stores; ``actor`` and ``project`` default from the settings.

    Raises:
        InvalidInput: a tracking URI that names no store, or an invalid project name.
        Conflict: the artifact root belongs to another metadata store.
        NotFound: no store there, when opening for reading only.
    """
    stores, content = open_stores(settings)
    ctx = Context(
        settings=settings,
        stores=stores,
        content=content,
        actor=actor or Identity.from_settings(settings),
        project=settings.project,
    )
    return ctx if project is None else ctx.in_project(project)


def open_stores(settings: Settings) -> tuple[StoreSet, ContentStore]:
    """The settings' store set (scoped to their project) and its checked content store."""
    uris = (settings.resolved_tracking_uri(), settings.resolved_artifacts_uri())
    stores, content = shared_pair(*uris)
    return stores.in_project(settings.project), content


def shared_pair(tracking_uri: str, artifacts_uri: str) -> tuple[StoreSet, ContentStore]:
    """The process's store set of a tracking URI and its content store, checked once.

    Raises:
        Conflict: the artifact root belongs to another metadata store.
    """
    key = (tracking_uri, artifacts_uri)
    pair = _pairs.get(key)
    if pair is None:
        with _lock:
            pair = _pairs.get(key)
            if pair is None:
                pair = open_pair(*key)  # refuses an artifact root of another store
                _pairs[key] = pair
    return pair


def forget_pairs() -> None:
    """Forget every opened pair; the store sets themselves are closed by the store registry."""
    with _lock:
        _pairs.clear()
