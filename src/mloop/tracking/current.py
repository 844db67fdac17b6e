"""The tracking URI a process has chosen with :func:`mloop.set_tracking_uri`.

Both the fluent API and a :class:`~mloop.tracking.client.Client` built without
a URI follow it, as MLflow's client follows ``mlflow.set_tracking_uri``.

Example:
    >>> set_tracking_uri("sqlite:///:memory:")
    >>> tracking_uri()
    'sqlite:///:memory:'
    >>> set_tracking_uri(None)
"""

from __future__ import annotations

_tracking_uri: str | None = None


def set_tracking_uri(uri: str | None) -> None:
    """Remember the process's tracking URI (None: follow the settings again)."""
    global _tracking_uri
    _tracking_uri = uri or None


def tracking_uri() -> str | None:
    """The URI set for this process, or None when the settings decide."""
    return _tracking_uri
