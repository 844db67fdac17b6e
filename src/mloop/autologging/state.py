"""Which integrations are on, with their options and the patches they installed.

Patching is process-wide: every thread's ``fit`` goes through the same
wrappers, which read the options here on each call. Turning an integration on
twice replaces its options and keeps its patches; turning it off restores the
originals.

Example:
    >>> from mloop.autologging.options import Options
    >>> enable(Options.build("demo"), [])
    >>> options_of("demo").log_models
    True
    >>> disable("demo"); options_of("demo") is None
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from mloop.autologging.options import Options
from mloop.autologging.patching import Patch

_lock = threading.Lock()
_options: dict[str, Options] = {}
_patches: dict[str, list[Patch]] = {}


def options_of(flavor: str) -> Options | None:
    """The options of an integration that is on, or None when it is off."""
    return _options.get(flavor)


def is_patched(flavor: str) -> bool:
    """Whether the integration's patches are installed."""
    return bool(_patches.get(flavor))


def enable(
    options: Options,
    patches: Sequence[Patch] | Callable[[], Sequence[Patch]],
    wrappers: Callable[[Patch], Callable[..., object]] | None = None,
) -> None:
    """Turn an integration on with ``options``, installing its patches if not yet installed.

    ``patches`` may be a function, called only when the patches are not in place
    yet; ``wrappers`` gives the wrapper to install for each patch.
    """
    with _lock:
        if options.flavor not in _patches:
            chosen = list(patches() if callable(patches) else patches)
            for patch in chosen:
                if wrappers is not None:
                    patch.install(wrappers(patch))
            _patches[options.flavor] = chosen
        _options[options.flavor] = options


def disable(flavor: str) -> None:
    """Turn an integration off and put back every original it replaced (last patched first)."""
    with _lock:
        _options.pop(flavor, None)
        for patch in reversed(_patches.pop(flavor, [])):
            patch.restore()


def enabled() -> list[str]:
    """The integrations that are on, by name."""
    return sorted(_options)
