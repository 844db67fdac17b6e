"""A small registry that maps a name to a lazily imported object.

Built-ins are listed as ``"module:attr"`` strings in the module that owns the
seam, so nothing is imported until it is used; third parties add their own
through a Python entry-point group (``mloop.stores``, ``mloop.flavors``,
``mloop.materializers``, ``mloop.executors``, ``mloop.notifiers``), which is
read only when a name is not a built-in.

Example:
    >>> reg = Registry("mloop.example", {"json": "json:dumps"})
    >>> reg.load("json")({"a": 1})
    '{"a": 1}'
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

from mloop.errors import InvalidInput


def load_target(target: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute.

    Example:
        >>> load_target("os.path:join")("a", "b")
        'a/b'
    """
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class Registry:
    """Names to lazily loaded objects, from built-ins then an entry-point group."""

    def __init__(self, group: str, builtins: dict[str, str] | None = None) -> None:
        self.group = group
        self._targets: dict[str, str] = dict(builtins or {})
        self._loaded: dict[str, Any] = {}
        self._entry_points_read = False

    def register(self, name: str, target: str) -> None:
        """Add or replace ``name`` with a ``"module:attr"`` target."""
        self._targets[name] = target
        self._loaded.pop(name, None)

    def _read_entry_points(self) -> None:
        if self._entry_points_read:
            return
        self._entry_points_read = True
        for entry in metadata.entry_points(group=self.group):
            self._targets.setdefault(entry.name, entry.value)

    def knows(self, name: str) -> bool:
        """Whether ``name`` is registered; entry points are read only for a name not built in.

        Example:
            >>> Registry("mloop.example", {"json": "json:dumps"}).knows("json")
            True
        """
        if name not in self._targets:
            self._read_entry_points()
        return name in self._targets

    def names(self) -> list[str]:
        """All known names, built-in and from entry points, sorted."""
        self._read_entry_points()
        return sorted(self._targets)

    def load(self, name: str) -> Any:
        """Return the object registered under ``name``, importing it on first use.

        Raises:
            InvalidInput: no such name; the message lists the known ones.
        """
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._targets:
            self._read_entry_points()
        target = self._targets.get(name)
        if target is None:
            raise InvalidInput(
                f"unknown {self.group} plugin {name!r}; known: {', '.join(self.names())}"
            )
        obj = load_target(target)
        self._loaded[name] = obj
        return obj
