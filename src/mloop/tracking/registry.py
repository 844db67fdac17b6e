"""Tracking URI schemes to store factories (the ``mloop.stores`` entry-point group).

Example:
    >>> scheme_of("postgresql+psycopg://u@h/db")
    'postgresql'
"""

from __future__ import annotations

from collections.abc import Callable

from mloop.errors import InvalidInput
from mloop.plugins import Registry
from mloop.tracking.protocols import Stores

StoreFactory = Callable[[str], Stores]

store_factories = Registry(
    "mloop.stores",
    {
        "sqlite": "mloop.tracking.sql:open_sql_stores",
        "postgresql": "mloop.tracking.sql:open_sql_stores",
        "postgres": "mloop.tracking.sql:open_sql_stores",
    },
)


def scheme_of(uri: str) -> str:
    """The URL scheme that picks a store, without a ``+driver`` suffix."""
    scheme, sep, _ = uri.partition(":")
    if not sep or not scheme:
        raise InvalidInput(
            f"tracking URI {uri!r} has no scheme; use e.g. sqlite:///path/mloop.db "
            "or postgresql+psycopg://user@host/db"
        )
    return scheme.split("+", 1)[0].lower()


def open_stores(uri: str) -> Stores:
    """Open the stores behind a tracking URI through its registered factory."""
    factory: StoreFactory = store_factories.load(scheme_of(uri))
    return factory(uri)
