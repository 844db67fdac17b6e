"""The model server's state, without HTTP: its models, their batchers, metrics and settings.

:class:`ModelServer` loads every model before it says it is ready, follows
the URIs that can move, checks each request against the signature of the
version that will answer it and queues it on that version's batcher.

Example:
    >>> import asyncio, mloop, pandas as pd, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"x": [1.0, 2.0]})
    >>> path = tempfile.mkdtemp() + "/double"
    >>> _ = mloop.models.save(LinearRegression().fit(X, [2.0, 4.0]), path, input_example=X)
    >>> async def main():
    ...     server = ModelServer([(default_name(path), path)])
    ...     await server.start()
    ...     answer = await server.predict("double", pd.DataFrame({"x": [3.0]}))
    ...     await server.close()
    ...     return answer.values.round(3).tolist()
    >>> asyncio.run(main())
    [6.0]
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInput, NotFound
from mloop.serving.batching import Batcher, BatchSettings, BatchStats, QueueFull
from mloop.serving.canary_watch import watch_canaries
from mloop.serving.endpoints import (
    DeploymentEndpoint,
    Endpoint,
    current_of,
    default_name,
    endpoint_of,
    target_of,
)
from mloop.serving.inputs import combine, rows_of
from mloop.serving.metrics import ServerMetrics
from mloop.serving.prediction_log import PredictionLog, PredictionLogSettings, open_log
from mloop.serving.served import ServedModel, Version

if TYPE_CHECKING:
    from mloop.context import Context

log = logging.getLogger("mloop.serving")

MiB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """What every model of a server shares: limits, timeouts and how often moving URIs are checked.

    ``freeze_gc`` keeps the loaded models out of the garbage collector's
    scans (:func:`settle_memory`), which keeps its pauses out of the tail latency.

    Example:
        >>> ServerSettings(timeout_seconds=0)
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: timeout_seconds must be a number > 0, got 0
    """

    batching: BatchSettings = dataclasses.field(default_factory=BatchSettings)
    max_body_bytes: int = 32 * MiB
    timeout_seconds: float = 30.0
    refresh_seconds: float = 5.0
    prediction_log: PredictionLogSettings = dataclasses.field(default_factory=PredictionLogSettings)
    freeze_gc: bool = True

    def __post_init__(self) -> None:
        for name in ("timeout_seconds", "refresh_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise InvalidInput(f"{name} must be a number > 0, got {value!r}")
        size = self.max_body_bytes
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidInput(f"max_body_bytes must be an integer >= 1, got {size!r}")


@dataclasses.dataclass(frozen=True)
class Answer:
    """A prediction and the version that made it."""

    values: Any
    model: str
    version: str


@dataclasses.dataclass(frozen=True)
class ShadowAnswer:
    """What a shadow version made of a copied request: its outputs, or why it has none."""

    model: str
    version: str
    outputs: Any = None
    error: str | None = None
    latency_seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        """As the prediction log's ``shadow`` column keeps it."""
        kept: dict[str, Any] = {"model": self.model, "version": self.version}
        if self.error is None:
            kept["outputs"] = self.outputs
        else:
            kept["error"] = self.error
        kept["latency_seconds"] = round(self.latency_seconds, 6)
        return kept


def settle_memory() -> None:
    """Collect once, then keep what is loaded out of the cyclic garbage collector's scans.

    A loaded model and its libraries are hundreds of thousands of long-lived
    objects (skops alone imports every scikit-learn estimator). Left tracked,
    each full collection walks them all and stalls every request in flight for
    tens of milliseconds: the server's p99. Frozen, they are still freed by
    reference counting when dropped.

    Example:
        >>> settle_memory()
        >>> import gc; gc.get_freeze_count() > 0
        True
    """
    gc.collect()
    gc.freeze()


class ModelServer:
    """The endpoints of one server and everything that answers for them.

    ``models`` pairs a served name with what it serves: a model URI, or
    ``deployments:/NAME`` (see :func:`~mloop.serving.endpoints.target_of`).
    """

    def __init__(
        self,
        models: Sequence[tuple[str, str]],
        *,
        settings: ServerSettings | None = None,
        context: Context | None = None,
    ) -> None:
        if not models:
            raise InvalidInput("serve at least one model")
        self.settings = settings or ServerSettings()
        self.endpoints: dict[str, Endpoint] = {}
        for name, target in models:
            endpoint = endpoint_of(name, target, context=context)
            if endpoint.name in self.endpoints:
                raise InvalidInput(
                    f"two models would be served as {endpoint.name!r} "
                    f"({self.endpoints[endpoint.name].target} and {target}): name one of them "
                    "(--name NAME or URI=NAME)"
                )
            self.endpoints[endpoint.name] = endpoint
        self._batchers: dict[tuple[str, str], Batcher] = {}
        self._serving: dict[str, set[tuple[str, str, str]]] = {}
        self._shadows: set[asyncio.Task[None]] = set()
        self._retiring: set[asyncio.Future[Any]] = set()
        self.metrics = ServerMetrics(self.queue_depths)
        self.prediction_log: PredictionLog | None = None
        if self.settings.prediction_log.enabled:
            self.prediction_log = open_log(self.settings.prediction_log, self.metrics, context)
        self._follow: asyncio.Task[None] | None = None
        self._judge: asyncio.Task[None] | None = None
        self.started_at = time.time()

    @classmethod
    def from_uris(
        cls,
        uris: Sequence[str],
        *,
        names: Mapping[str, str] | None = None,
        settings: ServerSettings | None = None,
        context: Context | None = None,
    ) -> ModelServer:
        """A server for model URIs and deployment names, named as ``names`` maps or by default."""
        chosen = names or {}
        targets = [(uri, target_of(uri)) for uri in uris]
        pairs = [(chosen.get(uri) or default_name(target), target) for uri, target in targets]
        return cls(pairs, settings=settings, context=context)

    @property
    def ready(self) -> bool:
        """Whether every endpoint has every version it routes to loaded."""
        return all(endpoint.ready for endpoint in self.endpoints.values())

    def queue_depths(self) -> dict[str, int]:
        """Requests waiting, per endpoint."""
        depths = dict.fromkeys(self.endpoints, 0)
        for (name, _), batcher in self._batchers.items():
            depths[name] = depths.get(name, 0) + batcher.queued
        return depths

    def endpoint(self, name: str | None = None) -> Endpoint:
        """The endpoint called ``name``; with None, the only one (for ``/invocations``).

        Raises:
            NotFound: no endpoint of that name is served here.
            InvalidInput: ``name`` is None and the server has several.
        """
        if name is None:
            if len(self.endpoints) != 1:
                names = ", ".join(sorted(self.endpoints))
                raise InvalidInput(
                    f"this server serves several models ({names}): name one in the path, "
                    "/models/NAME/invocations, /models/NAME/predict or /models/NAME/feedback"
                )
            return next(iter(self.endpoints.values()))
        found = self.endpoints.get(name)
        if found is None:
            known = ", ".join(sorted(self.endpoints))
            raise NotFound(f"no model {name!r} is served here (served: {known})")
        return found

    def load(self) -> None:
        """Load every endpoint now, in this thread: errors surface before a server starts.

        Raises:
            MloopError: a model or deployment could not be found, verified or loaded.
        """
        for endpoint in self.endpoints.values():
            self._refresh(endpoint)

    async def start(self) -> None:
        """Load every endpoint (in threads, in parallel), then follow what can move.

        Raises:
            MloopError: a model or deployment could not be found, verified or loaded.
        """
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(
                loop.run_in_executor(None, self._refresh, endpoint)
                for endpoint in self.endpoints.values()
            )
        )
        if self.settings.freeze_gc:
            settle_memory()
        if any(endpoint.moves for endpoint in self.endpoints.values()):
            self._follow = loop.create_task(self._follow_endpoints())
        if any(isinstance(e, DeploymentEndpoint) for e in self.endpoints.values()):
            watch = watch_canaries(
                self.endpoints, self.prediction_log, self.settings.prediction_log.uri
            )
            self._judge = loop.create_task(watch)
        if self.prediction_log is not None:
            self.prediction_log.start()

    def _refresh(self, endpoint: Endpoint) -> list[ServedModel]:
        retired = endpoint.refresh()
        now = {
            (role, member.current.label, member.current.digest)
            for role, member in endpoint.members()
            if member.current is not None
        }
        before = self._serving.get(endpoint.name, set())
        if now != before:
            self.metrics.serving(endpoint.name, now, before)
            self._serving[endpoint.name] = now
        return retired

    async def _follow_endpoints(self) -> None:
        loop = asyncio.get_running_loop()
        moving = [endpoint for endpoint in self.endpoints.values() if endpoint.moves]
        while True:
            await asyncio.sleep(self.settings.refresh_seconds)
            for endpoint in moving:
                before = self._digests(endpoint)
                try:
                    await loop.run_in_executor(None, self._refresh, endpoint)
                except Exception:  # a store that cannot be reached now; tried again next time
                    log.exception("%s: could not look up %s", endpoint.name, endpoint.target)
                    continue
                gone = before - self._digests(endpoint)
                if gone:
                    await self._retire(endpoint.name, gone)
                    if self.settings.freeze_gc:
                        settle_memory()

    @staticmethod
    def _digests(endpoint: Endpoint) -> set[str]:
        return {
            member.current.digest for _, member in endpoint.members() if member.current is not None
        }

    async def _retire(self, name: str, digests: set[str]) -> None:
        """Let retired versions answer what is queued for them, then drop their batchers.

        Shielded: a server stopping meanwhile waits for it (:meth:`close`) instead of
        cutting a batch off and leaving its requests unanswered.
        """
        batchers = [self._batchers.pop((name, digest), None) for digest in digests]
        closing = asyncio.ensure_future(
            asyncio.gather(*(b.close() for b in batchers if b is not None))
        )
        self._retiring.add(closing)
        closing.add_done_callback(self._retiring.discard)
        await asyncio.shield(closing)

    def check(self, served: ServedModel, data: Any) -> tuple[Version, Any]:
        """The version of ``served`` answering now, and ``data`` checked against its signature.

        Raises:
            InvalidInput: the input does not fit the signature.
            NotReady: the model is not loaded yet.
        """
        current = current_of(served)
        return current, current.model.check_input(data)

    async def predict(
        self,
        name: str,
        data: Any,
        params: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        checked: tuple[Version, Any] | None = None,
    ) -> Answer:
        """The prediction of endpoint ``name`` for ``data``, batched with others when it can.

        ``key`` is the sticky header's value, for a deployment that has one.
        ``checked`` is the version and the input :meth:`check` gave for it.

        Raises:
            NotFound, InvalidInput, NotReady: no such endpoint, a bad input, nothing loaded.
            QueueFull: too many requests are waiting.
            TimeoutError: no answer within ``timeout_seconds``.
        """
        if checked is None:
            _, served = self.endpoint(name).pick(key)
            checked = self.check(served, data)
        version, prepared = checked
        values = await self._run(name, version, prepared, params)
        self.metrics.predictions(name, version.label, values)
        return Answer(values, name, version.label)

    async def _run(
        self, name: str, version: Version, prepared: Any, params: Mapping[str, Any] | None
    ) -> Any:
        batcher = self._batcher(name, version)
        submitted: Any = (prepared, dict(params)) if params else prepared
        async with asyncio.timeout(self.settings.timeout_seconds):
            return await batcher.submit(submitted, rows=rows_of(prepared), alone=bool(params))

    def shadow(
        self,
        name: str,
        answered: Version,
        data: Any,
        params: Mapping[str, Any] | None,
        then: Callable[[ShadowAnswer | None], None],
    ) -> bool:
        """Copy a request to the endpoint's shadow in the background; ``then`` gets its answer.

        Nothing happens (False) when the endpoint has no shadow, or the shadow
        serves the version that answered. The copy never delays or changes the
        caller's answer; when too many copies are in flight, it is skipped
        (``then(None)``) and counted.
        """
        served = self.endpoint(name).shadow()
        if served is None or served.current is None or served.current.digest == answered.digest:
            return False
        version = served.current
        if len(self._shadows) >= self.settings.batching.max_queue:
            self.metrics.shadow(name, version.label, "skipped")
            then(None)
            return True
        task = asyncio.get_running_loop().create_task(
            self._shadow(name, served.name, version, data, params, then)
        )
        self._shadows.add(task)
        task.add_done_callback(self._shadows.discard)
        return True

    async def _shadow(
        self,
        name: str,
        model: str,
        version: Version,
        data: Any,
        params: Mapping[str, Any] | None,
        then: Callable[[ShadowAnswer | None], None],
    ) -> None:
        started = time.perf_counter()
        if version.digest not in self._digests(self.endpoint(name)):  # retired meanwhile
            self.metrics.shadow(name, version.label, "skipped")
            then(None)
            return
        try:
            values = await self._run(name, version, version.model.check_input(data), params)
        except (Exception, asyncio.CancelledError) as err:  # the shadow's failure is its own
            message = (
                "no answer within the server's timeout"
                if isinstance(err, TimeoutError)
                else str(err) or type(err).__name__
            )
            outcome = "full" if isinstance(err, QueueFull) else "failed"
            self.metrics.shadow(name, version.label, outcome)
            then(
                ShadowAnswer(
                    model,
                    version.label,
                    error=message,
                    latency_seconds=time.perf_counter() - started,
                )
            )
            if isinstance(err, asyncio.CancelledError):
                raise
            return
        self.metrics.shadow(name, version.label, "answered")
        then(
            ShadowAnswer(
                model, version.label, values, latency_seconds=time.perf_counter() - started
            )
        )

    def _batcher(self, name: str, version: Version) -> Batcher:
        key = (name, version.digest)
        batcher = self._batchers.get(key)
        if batcher is None:
            model = version.model
            label = version.label

            def predict(data: Any) -> Any:
                if isinstance(data, tuple):  # a request of its own, with params
                    return model.predict_checked(data[0], data[1])
                return model.predict_checked(data)

            def on_batch(stats: BatchStats) -> None:
                self.metrics.batch(name, label, stats.requests, stats.rows, stats.split)

            batcher = Batcher(
                predict,
                combine=combine,
                settings=self.settings.batching,
                on_batch=on_batch,
                name=name,
            )
            self._batchers[key] = batcher
        return batcher

    async def close(self) -> None:
        """Stop following, finish the shadows' copies and every queued request; write the log."""
        for task in (self._follow, self._judge):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._shadows or self._retiring:
            await asyncio.gather(*self._shadows, *self._retiring, return_exceptions=True)
        batchers = list(self._batchers.values())
        self._batchers.clear()
        await asyncio.gather(*(batcher.close() for batcher in batchers))
        if self.prediction_log is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.prediction_log.close)

    def health(self) -> dict[str, Any]:
        """What ``/health`` answers: readiness and each endpoint's state."""
        return {
            "ready": self.ready,
            "models": [endpoint.describe() for endpoint in self.endpoints.values()],
        }
