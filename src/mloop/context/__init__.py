"""The context of a domain call: settings, store set, content store, actor and project.

The names load on first use, so that the command line can read what the
process chose (:mod:`mloop.context.current`) without loading the stores.

Example:
    >>> from mloop.context import Context, Identity
    >>> Identity("ana").kind
    'user'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mloop.context.context import Context as Context
    from mloop.context.defaults import default_context as default_context
    from mloop.context.identity import Identity as Identity
    from mloop.context.opening import open_context as open_context

_LAZY = {
    "Context": "mloop.context.context",
    "Identity": "mloop.context.identity",
    "default_context": "mloop.context.defaults",
    "open_context": "mloop.context.opening",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mloop.context' has no attribute {name!r}")


__all__ = ["Context", "Identity", "default_context", "open_context"]
