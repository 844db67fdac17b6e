"""What a served name answers with: one model, or a deployment's split of traffic.

An endpoint picks the version that answers each request. A
:class:`ModelEndpoint` always picks its one model. A :class:`DeploymentEndpoint`
follows a stored deployment (:mod:`mloop.serving.deployments`): the canary
takes its share of requests (the same callers every time when the deployment
has a sticky header), a blue-green twin is loaded and idle until a promotion
switches everything to it at once, and the shadow gets copies. A new routing
takes requests only once every version it names is loaded and verified; until
then the old one answers.

Example:
    >>> bucket("credit-api", "customer-7") == bucket("credit-api", "customer-7")
    True
    >>> 0 <= bucket("credit-api", "customer-7") < 10_000
    True
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.entities import Deployment
from mloop.errors import MloopError, NotFound
from mloop.serving.served import ServedModel, Version

if TYPE_CHECKING:
    from mloop.context import Context

log = logging.getLogger("mloop.serving")

DEPLOYMENT_SCHEME = "deployments:/"
_BUCKETS = 10_000  # a canary share is whole percent: 100 buckets a percent


class NotReady(MloopError):
    """The model is served here but no version of it is loaded yet (the server answers 503)."""

    http_status = 503


def bucket(endpoint: str, key: str) -> int:
    """The bucket (0 to 9,999) of a sticky key: the same in every process and every run.

    A canary at ``p`` percent takes the buckets below ``p * 100``, so a caller
    in the canary at 10% stays in it at 25%.
    """
    return zlib.crc32(f"{endpoint}\0{key}".encode()) % _BUCKETS


@dataclasses.dataclass(frozen=True)
class Split:
    """One routing of a deployment, every version of it loaded.

    ``percent`` is the canary's effective share: a blue-green twin takes none.
    """

    revision: int
    primary: ServedModel
    canary: ServedModel | None = None
    percent: int = 0
    shadow: ServedModel | None = None
    sticky_header: str | None = None
    mode: str = "canary"
    policy: Mapping[str, Any] | None = None

    @property
    def judged(self) -> bool:
        """Whether a canary analysis runs on this routing (a policy, a canary, canary mode)."""
        return self.policy is not None and self.canary is not None and self.mode == "canary"

    def members(self) -> Iterator[tuple[str, ServedModel]]:
        """Each version with its role: ``primary``, ``canary`` (or ``twin``), ``shadow``."""
        yield "primary", self.primary
        if self.canary is not None:
            yield ("twin" if self.mode == "blue-green" else "canary"), self.canary
        if self.shadow is not None:
            yield "shadow", self.shadow


class ModelEndpoint:
    """A served name that answers with one model (a URI, followed if it can move)."""

    sticky_header: str | None = None

    def __init__(self, name: str, uri: str, *, context: Context | None = None) -> None:
        self.model = ServedModel(name, uri, context=context)
        self.name = self.model.name
        self.log_name = self.name  # its predictions and feedback are kept under it
        self.target = uri

    @property
    def ready(self) -> bool:
        """Whether a version is loaded and answering."""
        return self.model.ready

    @property
    def moves(self) -> bool:
        """Whether what it serves can change while it runs."""
        return self.model.moves

    def members(self) -> list[tuple[str, ServedModel]]:
        """The one model, as the primary."""
        return [("primary", self.model)]

    def pick(self, key: str | None = None, version: str | None = None) -> tuple[str, ServedModel]:
        """The model, as the primary, whatever the key; ``version`` must be the one it serves.

        Raises:
            NotReady: no version is loaded yet.
            NotFound: it serves another version than ``version``.
        """
        current = self.model.current
        if current is None:
            raise NotReady(f"model {self.name!r} is not loaded yet")
        if version is not None and version not in (current.label, current.version):
            raise NotFound(f"model {self.name!r} serves version {current.label}, not {version!r}")
        return "primary", self.model

    def shadow(self) -> ServedModel | None:
        """A single model has no shadow."""
        return None

    def refresh(self) -> list[ServedModel]:
        """Follow the URI; the models no longer served (never any: the model object stays)."""
        self.model.refresh()
        return []

    def describe(self) -> dict[str, Any]:
        """What ``/health`` shows of this endpoint."""
        return self.model.describe()


class DeploymentEndpoint:
    """A served name that answers as a stored deployment says, following its changes."""

    def __init__(self, name: str, deployment: str, *, context: Context | None = None) -> None:
        self.name = name
        self.deployment = deployment
        # Kept under the deployment's name, whatever it is served as: its analysis reads it.
        self.log_name = deployment
        self.target = f"{DEPLOYMENT_SCHEME}{deployment}"
        self.context = context
        self.split: Split | None = None
        self.last_error: str | None = None
        self._pending: dict[str, ServedModel] = {}
        self._lock = threading.Lock()
        self._random = random.Random()

    @property
    def sticky_header(self) -> str | None:
        """The header whose value keeps a caller on one version, if the deployment has one."""
        split = self.split
        return None if split is None else split.sticky_header

    @property
    def ready(self) -> bool:
        """Whether every version of the routing is loaded."""
        split = self.split
        return split is not None and all(member.ready for _, member in split.members())

    @property
    def moves(self) -> bool:
        """A deployment can always change."""
        return True

    def members(self) -> list[tuple[str, ServedModel]]:
        """The versions of the routing serving now, with their roles."""
        split = self.split
        return [] if split is None else list(split.members())

    def pick(self, key: str | None = None, version: str | None = None) -> tuple[str, ServedModel]:
        """The version that answers a request, and why: the canary for its share, else the primary.

        With a sticky header, ``key`` (its value) decides, the same way every
        time; without one, chance does. ``version`` asks for one version of the
        routing by its number (its label): the twin or the shadow can be tried
        directly that way, as role ``direct`` (which a canary analysis leaves out).

        Raises:
            NotReady: the routing is not loaded yet.
            NotFound: ``version`` is not one this deployment serves.
        """
        split = self.split
        if split is None:
            raise NotReady(f"deployment {self.deployment!r} is not loaded yet")
        if version is not None:
            for _, member in split.members():
                current = member.current
                if current is not None and version in (current.label, current.version):
                    return "direct", member
            served = ", ".join(
                sorted({m.current.label for _, m in split.members() if m.current is not None})
            )
            raise NotFound(
                f"deployment {self.deployment!r} serves versions {served}, not {version!r}"
            )
        canary = split.canary
        if canary is not None and split.percent > 0:
            if key is not None and split.sticky_header is not None:
                chosen = bucket(self.deployment, key)
            else:
                chosen = self._random.randrange(_BUCKETS)
            if chosen < split.percent * (_BUCKETS // 100):
                return "canary", canary
        return "primary", split.primary

    def shadow(self) -> ServedModel | None:
        """The version that gets copies of requests, if any."""
        split = self.split
        return None if split is None else split.shadow

    def refresh(self) -> list[ServedModel]:
        """Read the deployment; switch to its new routing once every version of it is loaded.

        Returns the versions the switch retired. The first load's errors are
        raised; later, a deployment that cannot be read or a version that
        cannot be loaded leaves the routing serving as it is, the reason kept
        in ``last_error``.

        Raises:
            MloopError: the first load failed (no such deployment, a version refused).
        """
        with self._lock:
            try:
                retired = self._refresh()
            except MloopError as err:
                if self.split is None:
                    raise
                if self.last_error != str(err):
                    log.warning("deployment %s: keeps its routing: %s", self.deployment, err)
                self.last_error = str(err)
                return []
            self.last_error = None
            return retired

    def _refresh(self) -> list[ServedModel]:
        from mloop.serving.deployments import get_deployment

        deployment = get_deployment(self.deployment, context=self.context)
        split = self.split
        if split is not None and deployment.revision == split.revision:
            for _, member in split.members():
                member.refresh()  # an alias that moved: loaded, verified, then switched
            return []
        old = [] if split is None else [m for _, m in split.members()]
        wanted = self._split_of(deployment, [*old, *self._pending.values()])
        serving = {id(m) for m in old}
        fresh = [(role, m) for role, m in wanted.members() if id(m) not in serving]
        # Kept between attempts: a revision one of whose versions cannot load yet does not
        # load the others again every time it is tried.
        self._pending = {m.uri: m for _, m in fresh}
        for role, member in fresh:  # the new versions first: a failure changes nothing
            try:
                member.refresh()
            except MloopError as err:
                raise type(err)(
                    f"deployment {self.deployment!r}, revision {deployment.revision}: its "
                    f"{role} {member.uri.removeprefix('models:/')}: {err}"
                ) from err
        for _, member in wanted.members():
            if id(member) in serving:
                member.refresh()  # one serving already follows its alias from now on
        self._pending = {}
        if split is not None:
            log.info(
                "deployment %s: revision %d replaces %d",
                self.deployment,
                deployment.revision,
                split.revision,
            )
        self.split = wanted
        kept = {id(member) for _, member in wanted.members()}
        return [] if split is None else [m for _, m in split.members() if id(m) not in kept]

    def _loaded(self, digest: str) -> Version | None:
        """A version of ``digest`` one of this deployment's models holds already, if any."""
        members = [m for _, m in self.members()] + list(self._pending.values())
        for member in members:
            if member.current is not None and member.current.digest == digest:
                return member.current
        return None

    def _split_of(self, deployment: Deployment, loaded: Sequence[ServedModel]) -> Split:
        by_uri = {member.uri: member for member in loaded}

        def member(ref: str | None) -> ServedModel | None:
            if ref is None:
                return None
            uri = f"models:/{ref}"
            found = by_uri.get(uri)
            if found is None:
                name = ref.split("@")[0].split("/")[0]
                found = ServedModel(name, uri, context=self.context, shared=self._loaded)
                by_uri[uri] = found
            return found

        primary = member(deployment.primary)
        assert primary is not None
        return Split(
            revision=deployment.revision,
            primary=primary,
            canary=member(deployment.canary),
            percent=deployment.canary_percent if deployment.mode == "canary" else 0,
            shadow=member(deployment.shadow),
            sticky_header=deployment.sticky_header,
            mode=deployment.mode,
            policy=deployment.policy,
        )

    def describe(self) -> dict[str, Any]:
        """What ``/health`` shows of this endpoint: its routing and each version's state."""
        split = self.split
        return {
            "name": self.name,
            "deployment": self.deployment,
            "ready": self.ready,
            "revision": None if split is None else split.revision,
            "canary_percent": None if split is None else split.percent,
            "error": self.last_error,
            "versions": [
                {"role": role, **member.describe()}
                for role, member in ([] if split is None else split.members())
            ],
        }


Endpoint = ModelEndpoint | DeploymentEndpoint


def current_of(served: ServedModel) -> Version:
    """The version ``served`` answers with now.

    Raises:
        NotReady: none is loaded yet.
    """
    current = served.current
    if current is None:
        raise NotReady(f"model {served.name!r} is not loaded yet")
    return current


def target_of(text: str) -> str:
    """What a user asked to serve: a model URI, or ``deployments:/NAME`` for a deployment.

    A bare name (no ``/``, ``@`` or scheme) that is not a folder here names a
    deployment; everything else is read as :func:`~mloop.serving.served.model_uri_of` reads it.

    Example:
        >>> target_of("credit-api"), target_of("credit@champion")
        ('deployments:/credit-api', 'models:/credit@champion')

    Raises:
        InvalidInput: an unknown scheme, or a malformed deployment name.
    """
    from mloop.serving.deployment_checks import check_deployment_name
    from mloop.serving.served import model_uri_of

    if text.startswith(DEPLOYMENT_SCHEME):
        return DEPLOYMENT_SCHEME + check_deployment_name(text[len(DEPLOYMENT_SCHEME) :])
    uri = model_uri_of(text)
    bare = uri == text and not any(mark in text for mark in ":/@")
    if bare and not Path(text).exists():
        return DEPLOYMENT_SCHEME + check_deployment_name(text)
    return uri


def default_name(target: str) -> str:
    """The name a target is served under unless told: the deployment's, else the model's.

    Example:
        >>> default_name("deployments:/credit-api"), default_name("models:/credit/3")
        ('credit-api', 'credit')
    """
    from mloop.serving.served import served_name

    if target.startswith(DEPLOYMENT_SCHEME):
        return target[len(DEPLOYMENT_SCHEME) :]
    return served_name(target)


def endpoint_of(name: str, target: str, *, context: Context | None = None) -> Endpoint:
    """The endpoint serving ``target`` (from :func:`target_of`) under ``name``."""
    if target.startswith(DEPLOYMENT_SCHEME):
        from mloop.models.uris import check_model_name

        return DeploymentEndpoint(
            check_model_name(name), target[len(DEPLOYMENT_SCHEME) :], context=context
        )
    return ModelEndpoint(name, target, context=context)


def summary(endpoints: Iterable[Endpoint]) -> str:
    """What a server serves, in a line: ``credit (3)``, a deployment's split with its roles.

    Example:
        >>> summary([])
        ''
    """
    shown = []
    for endpoint in endpoints:
        labels = [
            (role, member.name, "-" if member.current is None else member.current.label)
            for role, member in endpoint.members()
        ]
        if not isinstance(endpoint, DeploymentEndpoint):
            shown.append(f"{endpoint.name} ({labels[0][2]})")
            continue
        split = endpoint.split
        share = "" if split is None or split.mode != "canary" else f" at {split.percent}%"
        parts = [
            f"{role} {model}/{label}{share if role == 'canary' else ''}"
            for role, model, label in labels
        ]
        shown.append(f"{endpoint.name} ({', '.join(parts)})")
    return ", ".join(shown)
