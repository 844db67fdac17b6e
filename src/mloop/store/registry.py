"""Metadata-store URI schemes to store-set factories, and the one open store set per URI.

The ``mloop.stores`` entry-point group maps a URI scheme to a factory
``(uri) -> StoreSet``; ``sqlite`` and ``postgresql`` are registered the same
way, to :func:`mloop.store.sql.open_sql_store_set`. :func:`open_store_set`
keeps one set (one engine, one connection pool) per URI per process, and
:func:`close_all` closes them all.

Example:
    >>> scheme_of("postgresql+psycopg://u@h/db")
    'postgresql'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from mloop.config import TRACKING_URI_FORMS
from mloop.errors import InvalidInput
from mloop.masking import mask_uri
from mloop.plugins import Registry
from mloop.store.set import StoreSet

StoreFactory = Callable[[str], StoreSet]

store_factories = Registry(
    "mloop.stores",
    {
        "sqlite": "mloop.store.sql:open_sql_store_set",
        "postgresql": "mloop.store.sql:open_sql_store_set",
        "postgres": "mloop.store.sql:open_sql_store_set",
    },
)


# sqlite:// (in memory) or sqlite:///path: never a host after the two slashes.
_SQLITE_FORM = re.compile(r"^sqlite(\+\w+)?://(/|\?|$)", re.IGNORECASE)


def scheme_of(uri: str) -> str:
    """The URL scheme that picks a store, without a ``+driver`` suffix.

    Raises:
        InvalidInput: the URI has no scheme (see :func:`mloop.config.tracking_uri_from`
            for the forms that name a folder).
    """
    scheme, sep, _ = uri.partition(":")
    if not sep or not scheme:
        raise InvalidInput(f"tracking URI {mask_uri(uri)!r} has no scheme; {TRACKING_URI_FORMS}")
    return scheme.split("+", 1)[0].lower()


def check_tracking_uri(uri: str) -> str:
    """The scheme of a tracking URI that mloop has a store for; refuse any other, saying why.

    Raises:
        InvalidInput: an unknown scheme, a tracking server URL (not available yet),
            or a malformed SQLite URL; the message lists the forms that work.

    Example:
        >>> check_tracking_uri("sqlite:////tmp/mloop.db")
        'sqlite'
        >>> try:
        ...     check_tracking_uri("databricks://profile")
        ... except InvalidInput as err:
        ...     print(str(err)[:70])
        tracking URI 'databricks://profile': mloop has no store for databricks
    """
    scheme = scheme_of(uri)
    shown = mask_uri(uri)
    if scheme in ("http", "https"):
        raise InvalidInput(
            f"tracking URI {shown!r}: a tracking server ({scheme}://) is not supported yet; "
            f"{TRACKING_URI_FORMS}"
        )
    if scheme == "sqlite" and not _SQLITE_FORM.match(uri):
        raise InvalidInput(
            f"tracking URI {shown!r} is not a SQLite URL: write sqlite:///path/to/mloop.db "
            f"(three slashes, then the path); {TRACKING_URI_FORMS}"
        )
    if not store_factories.knows(scheme):
        raise InvalidInput(
            f"tracking URI {shown!r}: mloop has no store for {scheme}:// URIs; {TRACKING_URI_FORMS}"
        )
    return scheme


_open: dict[str, StoreSet] = {}
_lock = threading.Lock()


def open_store_set(uri: str) -> StoreSet:
    """The store set behind a metadata-store URI, opened once per process and then shared.

    Thread-safe: concurrent first calls for one URI open it once.

    Raises:
        InvalidInput: a URI that names no store mloop can open (:func:`check_tracking_uri`).

    Example:
        >>> open_store_set("sqlite://") is open_store_set("sqlite://")
        True
    """
    found = _open.get(uri)
    if found is not None:
        return found
    factory: StoreFactory = store_factories.load(check_tracking_uri(uri))
    with _lock:
        found = _open.get(uri)
        if found is None:
            found = factory(uri)
            _open[uri] = found
    return found


def close_all() -> None:
    """Close every store set this process opened, and forget them.

    The next :func:`open_store_set` of a URI opens it again. Tests and
    long-lived hosts call this (through :func:`mloop.tracking.connection.disconnect_all`).

    Example:
        >>> close_all()
    """
    with _lock:
        opened = list(_open.values())
        _open.clear()
    for stores in opened:
        stores.close()
