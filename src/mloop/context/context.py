"""The context a domain call runs in: settings, stores, content, who acts, which project.

Domain service functions take a :class:`Context`; the fluent API and the
command line build one (:func:`mloop.context.defaults.default_context`) and
reuse it; the server will build one per request, with the authenticated user
as its actor. Settings are read when a context is built, never on a hot path.

Example:
    >>> from mloop.config import Settings
    >>> from mloop.context.opening import open_context
    >>> ctx = open_context(Settings(tracking_uri="sqlite://", artifacts_uri="memory://ctx-doc"))
    >>> (ctx.project, ctx.in_project("fraud").project)
    ('default', 'fraud')
    >>> ctx.acting_as(Identity("ci-bot", kind="service")).actor.name
    'ci-bot'
"""

from __future__ import annotations

import dataclasses

from mloop.artifacts.cas import ContentStore
from mloop.config import Settings, check_project_name
from mloop.context.identity import Identity
from mloop.store.set import StoreSet


@dataclasses.dataclass(frozen=True)
class Context:
    """Everything a domain call needs, passed explicitly.

    Attributes:
        settings: the settings the context was built from (read once).
        stores: the store set, scoped to :attr:`project` for names.
        content: the content-addressed artifact store paired with the stores.
        actor: who acts; recorded by the registry, governance and gates.
        project: the project that names (experiments, datasets, models) live in.
    """

    settings: Settings
    stores: StoreSet
    content: ContentStore
    actor: Identity
    project: str

    def in_project(self, project: str) -> Context:
        """The same context in another project (its stores scoped to it).

        Raises:
            InvalidInput: an invalid project name.
        """
        if project == self.project:
            return self
        name = check_project_name(project)
        return dataclasses.replace(
            self,
            project=name,
            stores=self.stores.in_project(name),
            settings=dataclasses.replace(self.settings, project=name),
        )

    def acting_as(self, actor: Identity | str) -> Context:
        """The same context with another actor (the server's authenticated user).

        A plain string names a user.

        Raises:
            InvalidInput: an empty or overlong name.
        """
        who = actor if isinstance(actor, Identity) else Identity(actor)
        return dataclasses.replace(self, actor=who)

    @property
    def tracking_uri(self) -> str:
        """The metadata store's URI."""
        return self.stores.uri

    @property
    def artifacts_uri(self) -> str:
        """The artifact store's root."""
        return self.content.root
