"""Who acts: the identity that registry, governance and gates record and check.

Locally it is ``MLOOP_USER`` or the operating system's user, decided where the
context is built; the server will put the authenticated user there instead.
Nothing below the context reads the environment to find out who acts.

Example:
    >>> Identity("ana").name
    'ana'
    >>> str(Identity("ci-bot", kind="service"))
    'ci-bot'
"""

from __future__ import annotations

import dataclasses

from mloop.config import Settings
from mloop.errors import InvalidInput

_KINDS = frozenset({"user", "service"})


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    """A user or a service account, by name.

    Attributes:
        name: what records show as the actor (``approved by ana``).
        kind: ``user`` or ``service``.
    """

    name: str
    kind: str = "user"

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip() or len(self.name) > 256:
            raise InvalidInput(f"an actor needs a name of 1 to 256 characters, got {self.name!r}")
        if self.kind not in _KINDS:
            raise InvalidInput(f"actor kind must be one of {sorted(_KINDS)}, got {self.kind!r}")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_settings(cls, settings: Settings) -> Identity:
        """``MLOOP_USER`` (the ``user`` setting), else the operating system's user.

        Example:
            >>> Identity.from_settings(Settings(user="ana"))
            Identity(name='ana', kind='user')
        """
        return cls(settings.resolved_user())
