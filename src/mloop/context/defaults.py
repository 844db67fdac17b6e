"""The default context of the fluent API and the command line: built once, then reused.

It follows the settings (read once per environment, see
:func:`mloop.config.current_settings`) and what the process chose
(:mod:`mloop.context.current`). While neither changes, the same context is
returned at the cost of a few lookups.

Example:
    >>> from mloop.context import current
    >>> current.set_tracking_uri("sqlite://"); current.set_project("doc")
    >>> default_context().project
    'doc'
    >>> default_context() is default_context()
    True
    >>> current.set_tracking_uri(None); current.set_project(None)
"""

from __future__ import annotations

import dataclasses
import threading

from mloop.config import Settings, current_settings
from mloop.context import current
from mloop.context.context import Context
from mloop.context.opening import open_context

# (the settings object it was built from, tracking URI chosen, project chosen), context.
# Holding the settings object keeps its identity from being reused by another.
_last: tuple[tuple[Settings, str | None, str | None, str | None], Context] | None = None
_lock = threading.Lock()


def default_context() -> Context:
    """The context of the current settings, tracking URI and project.

    Raises:
        InvalidInput: a tracking URI that names no store.
        Conflict: the artifact root belongs to another metadata store.
    """
    global _last
    settings = current.settings() or current_settings()
    chosen = (current.tracking_uri(), current.artifacts_uri(), current.project())
    last = _last
    if last is not None:
        (seen, *seen_chosen), ctx = last
        if seen is settings and tuple(seen_chosen) == chosen:
            return ctx
    with _lock:
        ctx = open_context(chosen_settings(settings))
        _last = ((settings, *chosen), ctx)
    return ctx


def chosen_settings(settings: Settings | None = None) -> Settings:
    """The settings with what the process chose (stores, project) put over them."""
    settings = settings or current.settings() or current_settings()
    uri, artifacts, project = current.tracking_uri(), current.artifacts_uri(), current.project()
    if uri is None and artifacts is None and project is None:
        return settings
    return dataclasses.replace(
        settings,
        tracking_uri=uri or settings.tracking_uri,
        artifacts_uri=artifacts or settings.artifacts_uri,
        project=project or settings.project,
    )


def forget_default() -> None:
    """Build the default context afresh on next use (after stores are closed)."""
    global _last
    _last = None
