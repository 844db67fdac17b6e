"""What registry operations work with: a context, a tracking client over it, the package folder.

A :class:`ModelBackend` is a small view built per call. Without an explicit
context it is the fluent API's (the stores and project the process chose,
and ``MLOOP_USER`` or the OS user as the actor); the server passes the
context of a request, with the authenticated user as its actor. The registry
keeps no connections of its own and reads no settings: both come with the
context.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from mloop.artifacts.scratch import scratch
from mloop.config import Settings
from mloop.context.context import Context
from mloop.store.set import StoreSet
from mloop.tracking import fluent
from mloop.tracking.client import Client


@dataclasses.dataclass(frozen=True)
class ModelBackend:
    """What registry operations need: the context and a tracking client over it."""

    client: Client

    @property
    def context(self) -> Context:
        """Settings, stores, content, actor and project."""
        return self.client.context

    @property
    def stores(self) -> StoreSet:
        """The store set, in the context's project."""
        return self.client.context.stores

    @property
    def settings(self) -> Settings:
        """The settings the context was built from (signing policy, cache sizes)."""
        return self.client.context.settings

    @property
    def actor(self) -> str:
        """Who acts: recorded on registrations, alias moves, decisions and gates."""
        return self.client.context.actor.name

    @property
    def cache_root(self) -> Path:
        """Where verified package copies are kept (``models/`` under the settings' local root)."""
        return self.settings.local_root() / "models"

    @contextlib.contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A scratch folder in the artifact store's temporary area, which gc cleans."""
        fallback = self.settings.scratch_fallback()
        with scratch(self.client.content, fallback, prefix=prefix) as folder:
            yield folder


def backend(context: Context | None = None) -> ModelBackend:
    """The backend of a context (default: the fluent API's).

    Example:
        >>> backend().stores.models.list_models()
        []
    """
    if context is None:
        return ModelBackend(fluent.current_client())
    return ModelBackend(Client(context=context))
