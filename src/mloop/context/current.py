"""What this process has chosen over the settings: stores and a project.

Set by :func:`mloop.set_tracking_uri` and :func:`mloop.set_project` (and by
the command line's global options); the fluent API, a
:class:`~mloop.tracking.client.Client` built without URIs and every default
context follow them, as MLflow's client follows ``mlflow.set_tracking_uri``.
The artifact root chosen with a tracking URI belongs to that store: choosing
another tracking URI forgets it.

Example:
    >>> set_tracking_uri("sqlite:///:memory:", artifacts_uri="memory://doc")
    >>> tracking_uri(), artifacts_uri()
    ('sqlite:///:memory:', 'memory://doc')
    >>> set_tracking_uri(None)
    >>> artifacts_uri() is None
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mloop.config import Settings, check_project_name

_tracking_uri: str | None = None
_artifacts_uri: str | None = None
_project: str | None = None
_settings: Settings | None = None


def use_settings(settings: Settings | None) -> None:
    """Take ``settings`` instead of reading the environment (None: read it again).

    What a pipeline worker does first: its parent's settings (stores, project,
    who acts) arrive as an argument and become the process's defaults.
    """
    global _settings
    _settings = settings


def settings() -> Settings | None:
    """The settings this process was given, or None when it reads its own."""
    return _settings


def set_tracking_uri(uri: str | None, artifacts_uri: str | None = None) -> None:
    """Remember the process's stores (None: follow the settings again)."""
    global _tracking_uri, _artifacts_uri
    _tracking_uri = uri or None
    _artifacts_uri = artifacts_uri or None


def tracking_uri() -> str | None:
    """The URI set for this process, or None when the settings decide."""
    return _tracking_uri


def artifacts_uri() -> str | None:
    """The artifact root set with the tracking URI, or None when the settings decide."""
    return _artifacts_uri


def set_project(name: str | None) -> None:
    """Remember the process's project (None: follow the settings, ``MLOOP_PROJECT``, again).

    Raises:
        InvalidInput: an invalid project name.
    """
    global _project
    _project = None if name is None else check_project_name(name)


def project() -> str | None:
    """The project set for this process, or None when the settings decide."""
    return _project


@contextlib.contextmanager
def chosen_project(name: str | None) -> Iterator[None]:
    """Use project ``name`` inside the block, then what was chosen before (one command).

    Example:
        >>> with chosen_project("fraud"):
        ...     project()
        'fraud'
        >>> project() is None
        True
    """
    before = _project
    set_project(name)
    try:
        yield
    finally:
        set_project(before)
