"""The library versions each integration is tested with, and what to do outside them.

Example:
    >>> in_range("1.5.2", ("1.0", "1.9")), in_range("0.24.1", ("1.0", "1.9"))
    (True, False)
"""

from __future__ import annotations

import importlib
import re
import warnings

from mloop.autologging.options import Options
from mloop.errors import MloopWarning

SUPPORTED: dict[str, tuple[str, str]] = {
    # library as imported: (oldest, newest) minor versions the integration is tested with
    "sklearn": ("1.0", "1.9"),
    "xgboost": ("1.6", "3.2"),
    "lightgbm": ("3.3", "4.7"),
}


def _minor(version: str) -> tuple[int, int]:
    major, minor = [*(int(n) for n in re.findall(r"\d+", version)[:2]), 0, 0][:2]
    return major, minor


def in_range(version: str, bounds: tuple[str, str]) -> bool:
    """Whether ``version``'s major.minor lies within ``bounds`` (both ends included)."""
    return _minor(bounds[0]) <= _minor(version) <= _minor(bounds[1])


def allowed(library: str, options: Options) -> bool:
    """Whether to patch the installed ``library``; warns (unless silent) outside the range.

    An untested version is patched anyway unless ``disable_for_unsupported_versions``.
    """
    version = str(importlib.import_module(library).__version__)
    bounds = SUPPORTED[library]
    if in_range(version, bounds):
        return True
    skip = options.disable_for_unsupported_versions
    if not options.silent:
        warnings.warn(
            f"mloop autologging is tested with {library} {bounds[0]} to {bounds[1]}, "
            f"not {version}; "
            + ("it stays off" if skip else "it may not log everything or may fail"),
            MloopWarning,
            stacklevel=3,
        )
    return not skip
