"""The materializer type and the class-matching helpers every materializer module shares.

Example:
    >>> type_named(dict, "builtins", "dict")
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Materializer:
    """Turns values of some types into bytes and back.

    ``handles_type`` answers for a type annotation (checked when a pipeline is
    built), ``handles_value`` for a value (checked when a step returns). A new
    ``version`` invalidates cached outputs written by the old one.
    """

    name: str
    version: str
    suffix: str
    handles_type: Callable[[Any], bool]
    handles_value: Callable[[Any], bool]
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]


def type_named(tp: Any, module: str, name: str) -> bool:
    """Whether ``tp`` is the class ``name`` of ``module`` (or a submodule), compared by name.

    Comparing by name means checking an annotation never imports pandas or pyarrow.
    """
    return (
        isinstance(tp, type)
        and tp.__name__ == name
        and (tp.__module__ == module or tp.__module__.startswith(f"{module}."))
    )


def by_class(module: str, name: str) -> dict[str, Callable[[Any], bool]]:
    """``handles_type`` and ``handles_value`` for one class, matched by name."""
    return {
        "handles_type": lambda tp: type_named(tp, module, name),
        "handles_value": lambda v: type_named(type(v), module, name),
    }
