"""The stores a process has chosen with :func:`mloop.set_tracking_uri`.

Both the fluent API and a :class:`~mloop.tracking.client.Client` built without
a URI follow them, as MLflow's client follows ``mlflow.set_tracking_uri``. The
artifact root chosen with the tracking URI belongs to that store: choosing
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

_tracking_uri: str | None = None
_artifacts_uri: str | None = None


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
