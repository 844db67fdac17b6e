"""One open tracking backend per (tracking URI, artifact root) in a process.

Every :class:`~mloop.tracking.client.Client` of the same URIs shares the same
stores, content store and background writer, so buffered points from any of
them are flushed together and in order.
"""

from __future__ import annotations

import dataclasses
import threading

from mloop.artifacts.cas import ContentStore
from mloop.config import Settings
from mloop.tracking.pairing import open_pair
from mloop.tracking.protocols import Stores
from mloop.tracking.writer import BatchWriter


@dataclasses.dataclass(frozen=True)
class Backend:
    """Stores, artifact objects and the writer behind one tracking URI."""

    stores: Stores
    content: ContentStore
    writer: BatchWriter
    settings: Settings
    # Params of runs created through this backend and not yet ended: their
    # params can be checked here and buffered instead of written one by one.
    owned_params: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)


_backends: dict[tuple[str, str], Backend] = {}
_lock = threading.Lock()


def connect(settings: Settings) -> Backend:
    """The (cached) backend for the settings' tracking URI and artifact root."""
    key = (settings.resolved_tracking_uri(), settings.resolved_artifacts_uri())
    backend = _backends.get(key)
    if backend is not None:
        return backend
    with _lock:
        backend = _backends.get(key)
        if backend is None:
            stores, content = open_pair(*key)  # refuses an artifact root of another store
            writer = BatchWriter(
                stores.runs,
                flush_interval=settings.flush_interval,
                batch_size=settings.batch_size,
                max_pending=settings.max_pending,
            )
            backend = Backend(stores, content, writer, settings)
            _backends[key] = backend
    return backend


def disconnect_all() -> None:
    """Flush and forget every open backend (tests and long-lived hosts use this)."""
    with _lock:
        for backend in _backends.values():
            backend.writer.close()
            backend.stores.close()
        _backends.clear()
