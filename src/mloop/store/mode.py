"""Whether opening a store may create it: the open mode of read-only commands.

Kept apart from the engines so that code deciding on pairs of stores can ask
without importing SQLAlchemy.

Example:
    >>> with existing_stores_only():
    ...     may_create()
    False
    >>> may_create()
    True
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_may_create: contextvars.ContextVar[bool] = contextvars.ContextVar("mloop_may_create", default=True)


@contextlib.contextmanager
def store_creation(allowed: bool) -> Iterator[None]:
    """Inside, a store that does not exist is created (``allowed``) or raises NotFound.

    The mode also governs the artifact root's identity file: with creation
    not allowed, it is checked but never written.

    Example:
        >>> with store_creation(False):
        ...     may_create()
        False
    """
    token = _may_create.set(allowed)
    try:
        yield
    finally:
        _may_create.reset(token)


def existing_stores_only() -> contextlib.AbstractContextManager[None]:
    """Open only stores that exist: a missing one raises NotFound instead of being created.

    Read-only commands run inside this, so looking at a folder without a store
    never leaves an empty store (or its folder) behind.

    Example:
        >>> with existing_stores_only():
        ...     may_create()
        False
        >>> may_create()
        True
    """
    return store_creation(False)


def may_create() -> bool:
    """False inside :func:`existing_stores_only`: stores (and identity files) are not created."""
    return _may_create.get()
