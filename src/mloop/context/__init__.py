"""The context of a domain call: settings, store set, content store, actor and project.

Example:
    >>> from mloop.context import Context, Identity
    >>> Identity("ana").kind
    'user'
"""

from mloop.context.context import Context as Context
from mloop.context.identity import Identity as Identity

__all__ = ["Context", "Identity"]
