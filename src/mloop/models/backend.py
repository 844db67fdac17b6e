"""What registry operations work with: the store set, a tracking client, the package folder.

A :class:`ModelBackend` is a small view built per call over the fluent API's
current client; the stores are that client's store set (one per tracking URI
per process, shared with tracking, data and pipelines), so the registry keeps
no connections of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from mloop.artifacts.scratch import scratch
from mloop.config import Settings, load_settings
from mloop.store.set import StoreSet
from mloop.tracking import fluent
from mloop.tracking.client import Client


@dataclasses.dataclass(frozen=True)
class ModelBackend:
    """What registry operations need: the stores, a tracking client, a folder for packages."""

    stores: StoreSet
    client: Client
    cache_root: Path

    @contextlib.contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A scratch folder in the artifact store's temporary area, which gc cleans."""
        fallback = self.client.settings.scratch_fallback()
        with scratch(self.client.content, fallback, prefix=prefix) as folder:
            yield folder


def backend() -> ModelBackend:
    """The backend of the fluent API's current tracking URI.

    Example:
        >>> backend().stores.models.list_models()
        []
    """
    client = fluent.current_client()
    return ModelBackend(client.stores, client, client.settings.home.absolute() / "models")


def settings() -> Settings:
    """Settings read now (who acts, signing policy), for the current tracking URI."""
    return dataclasses.replace(load_settings(), tracking_uri=fluent.get_tracking_uri())
