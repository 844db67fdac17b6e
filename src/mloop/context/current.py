"""What this process has chosen: a tracking URI and a project, over the settings.

Set by :func:`mloop.set_tracking_uri` and :func:`mloop.set_project` (and by the
command line's global options); the fluent API, a
:class:`~mloop.tracking.client.Client` built without a URI and every default
context follow them, as MLflow's client follows ``mlflow.set_tracking_uri``.

Example:
    >>> set_tracking_uri("sqlite:///:memory:")
    >>> tracking_uri()
    'sqlite:///:memory:'
    >>> set_tracking_uri(None)
"""

from __future__ import annotations

from mloop.config import check_project_name

_tracking_uri: str | None = None
_project: str | None = None


def set_tracking_uri(uri: str | None) -> None:
    """Remember the process's tracking URI (None or empty: follow the settings again)."""
    global _tracking_uri
    _tracking_uri = uri or None


def tracking_uri() -> str | None:
    """The URI set for this process, or None when the settings decide."""
    return _tracking_uri


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
