"""Tracking URI schemes to store factories (the ``mloop.stores`` entry-point group).

Example:
    >>> scheme_of("postgresql+psycopg://u@h/db")
    'postgresql'
"""

from __future__ import annotations

from collections.abc import Callable

from mloop.config import TRACKING_URI_FORMS
from mloop.errors import InvalidInput
from mloop.masking import mask_uri
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
    if scheme == "sqlite" and not uri.lower().startswith("sqlite://"):
        raise InvalidInput(
            f"tracking URI {shown!r} is not a SQLite URL: write sqlite:///path/to/mloop.db "
            f"(three slashes, then the path); {TRACKING_URI_FORMS}"
        )
    if scheme not in store_factories.names():
        raise InvalidInput(
            f"tracking URI {shown!r}: mloop has no store for {scheme}:// URIs; {TRACKING_URI_FORMS}"
        )
    return scheme


def open_stores(uri: str) -> Stores:
    """Open the stores behind a tracking URI through its registered factory.

    Raises:
        InvalidInput: a URI that names no store mloop can open (:func:`check_tracking_uri`).
    """
    factory: StoreFactory = store_factories.load(check_tracking_uri(uri))
    return factory(uri)
