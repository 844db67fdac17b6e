"""The registry's stores, the tracking client and the local package cache of a tracking URI.

One set per tracking URI per process, opened on first use, like the tracking
backend it sits beside.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

from mloop.artifacts.scratch import scratch
from mloop.config import Settings, load_settings
from mloop.models.protocols import ModelStores
from mloop.models.sql import open_model_stores
from mloop.tracking import fluent
from mloop.tracking.client import Client


@dataclasses.dataclass(frozen=True)
class ModelBackend:
    """What registry operations need: its stores, a tracking client, a folder for packages."""

    stores: ModelStores
    client: Client
    cache_root: Path

    @contextlib.contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A scratch folder in the artifact store's temporary area, which gc cleans."""
        fallback = self.client.settings.scratch_fallback()
        with scratch(self.client.content, fallback, prefix=prefix) as folder:
            yield folder


_backends: dict[str, ModelBackend] = {}
_lock = threading.Lock()


def backend() -> ModelBackend:
    """The backend of the fluent API's current tracking URI."""
    uri = fluent.get_tracking_uri()
    found = _backends.get(uri)
    if found is not None:
        return found
    with _lock:
        found = _backends.get(uri)
        if found is None:
            client = Client(tracking_uri=uri)
            found = ModelBackend(
                open_model_stores(uri), client, client.settings.home.absolute() / "models"
            )
            _backends[uri] = found
    return found


def settings() -> Settings:
    """Settings read now (who acts, signing policy), for the current tracking URI."""
    return dataclasses.replace(load_settings(), tracking_uri=fluent.get_tracking_uri())


def close_all() -> None:
    """Close every open registry backend (tests and long-lived hosts use this)."""
    with _lock:
        for found in _backends.values():
            found.stores.close()
        _backends.clear()
