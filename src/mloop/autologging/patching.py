"""Replacing a library's methods with logging wrappers, and putting the originals back exactly.

A :class:`Patch` remembers where the original lived: in the class's own
``__dict__`` (put back there) or inherited (the class's entry is removed, so
lookups reach the parent again). scikit-learn's conditional methods
(``available_if`` descriptors such as ``Pipeline.fit_transform``) are patched
inside the descriptor, so ``hasattr`` answers as before.

Example:
    >>> class Model:
    ...     def fit(self, x):
    ...         return x
    >>> patch = Patch.of(Model, "fit")
    >>> patch.install(lambda original, self, x: original(self, x) * 2)
    >>> Model().fit(21)
    42
    >>> patch.restore()
    >>> Model().fit(21), "fit" in Model.__dict__
    (21, True)
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

_MISSING = object()

Wrapper = Callable[..., Any]
"""``wrapper(original, *args, **kwargs)``: the new behaviour, calling ``original`` itself."""


@dataclasses.dataclass
class Patch:
    """One attribute replaced by a wrapper, with what it replaced."""

    owner: Any
    name: str
    original: Any
    own: Any  # what owner.__dict__ held before (_MISSING when inherited)
    method: str = ""  # the method's name on its class (``name`` is "fn" inside a descriptor)
    installed: bool = False

    @classmethod
    def of(cls, owner: Any, name: str) -> Patch:
        """Prepare to patch ``owner.name`` (a class, module or descriptor attribute)."""
        own = vars(owner).get(name, _MISSING) if hasattr(owner, "__dict__") else _MISSING
        original = inspect.getattr_static(owner, name)
        return cls(owner, name, original, own, name)

    @classmethod
    def of_method(cls, owner: type, name: str) -> Patch | None:
        """Prepare to patch a method of a class; None if it has none by that name.

        A conditional method (a descriptor with ``fn`` and ``check``, as
        scikit-learn's ``available_if``) is patched inside the descriptor.
        """
        raw = inspect.getattr_static(owner, name, _MISSING)
        if raw is _MISSING:
            return None
        if inspect.isfunction(raw):
            return cls.of(owner, name)
        inner = getattr(raw, "fn", None)
        if inspect.isfunction(inner) and (hasattr(raw, "check") or hasattr(raw, "delegate_names")):
            patch = cls.of(raw, "fn")
            patch.method = name
            return patch
        return None  # a property, a staticmethod or a builtin: not a fit to wrap

    def install(self, wrapper: Wrapper) -> None:
        """Put ``wrapper`` in place; it receives the original as its first argument."""
        original = self.original

        @functools.wraps(original)
        def patched(*args: Any, **kwargs: Any) -> Any:
            return wrapper(original, *args, **kwargs)

        setattr(self.owner, self.name, patched)
        self.installed = True

    def restore(self) -> None:
        """Put back exactly what was there before :meth:`install`."""
        if not self.installed:
            return
        if self.own is _MISSING:
            delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self.own)
        self.installed = False
