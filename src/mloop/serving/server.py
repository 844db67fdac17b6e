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
    ...     server = ModelServer([(served_name(path), path)])
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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInput, MloopError, NotFound
from mloop.serving.batching import Batcher, BatchSettings, BatchStats
from mloop.serving.inputs import combine, rows_of
from mloop.serving.metrics import ServerMetrics
from mloop.serving.prediction_log import PredictionLog, PredictionLogSettings, open_log
from mloop.serving.served import ServedModel, Version, check_names, served_name

if TYPE_CHECKING:
    from mloop.context import Context

log = logging.getLogger("mloop.serving")

MiB = 1024 * 1024


class NotReady(MloopError):
    """The model is served here but no version of it is loaded yet (the server answers 503)."""

    http_status = 503


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
    """The models of one server and everything that answers for them."""

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
        served = [ServedModel(name, uri, context=context) for name, uri in models]
        check_names(served)
        self.models = {model.name: model for model in served}
        self._batchers: dict[tuple[str, str], Batcher] = {}
        self.metrics = ServerMetrics(self.queue_depths)
        self.prediction_log: PredictionLog | None = None
        if self.settings.prediction_log.enabled:
            self.prediction_log = open_log(self.settings.prediction_log, self.metrics, context)
        self._follow: asyncio.Task[None] | None = None
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
        """A server for model URIs, each under its default name unless ``names`` maps it."""
        chosen = names or {}
        pairs = [(chosen.get(uri) or served_name(uri), uri) for uri in uris]
        return cls(pairs, settings=settings, context=context)

    @property
    def ready(self) -> bool:
        """Whether every model has a version loaded."""
        return all(served.ready for served in self.models.values())

    def queue_depths(self) -> dict[str, int]:
        """Requests waiting, per model."""
        depths = dict.fromkeys(self.models, 0)
        for (name, _), batcher in self._batchers.items():
            depths[name] += batcher.queued
        return depths

    def model(self, name: str) -> ServedModel:
        """The served model called ``name``.

        Raises:
            NotFound: no model of that name is served here.
        """
        served = self.models.get(name)
        if served is None:
            known = ", ".join(sorted(self.models))
            raise NotFound(f"no model {name!r} is served here (served: {known})")
        return served

    def only_model(self) -> ServedModel:
        """The one model, for protocols that name none (``/invocations``).

        Raises:
            InvalidInput: the server has several; each answers at its own path.
        """
        if len(self.models) != 1:
            names = ", ".join(sorted(self.models))
            raise InvalidInput(
                f"this server serves several models ({names}): send to /models/NAME/invocations"
            )
        return next(iter(self.models.values()))

    def load(self) -> None:
        """Load every model now, in this thread: errors surface before a server starts.

        Raises:
            MloopError: a model could not be found, verified or loaded.
        """
        for served in self.models.values():
            self._refresh(served)

    async def start(self) -> None:
        """Load every model (in threads, in parallel), then follow the URIs that move.

        Raises:
            MloopError: a model could not be found, verified or loaded.
        """
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(None, self._refresh, served) for served in self.models.values())
        )
        if self.settings.freeze_gc:
            settle_memory()
        if any(served.moves for served in self.models.values()):
            self._follow = loop.create_task(self._follow_uris())
        if self.prediction_log is not None:
            self.prediction_log.start()

    def _refresh(self, served: ServedModel) -> None:
        previous = served.current
        found = served.refresh()
        if found is None:
            return
        before = None if previous is None else (previous.label, previous.digest)
        self.metrics.serving(served.name, found.label, found.digest, before)

    async def _follow_uris(self) -> None:
        loop = asyncio.get_running_loop()
        moving = [served for served in self.models.values() if served.moves]
        while True:
            await asyncio.sleep(self.settings.refresh_seconds)
            for served in moving:
                previous = served.current
                try:
                    await loop.run_in_executor(None, self._refresh, served)
                except Exception:  # a store that cannot be reached now; tried again next time
                    log.exception("%s: could not look up %s", served.name, served.uri)
                    continue
                if previous is not None and served.current is not previous:
                    await self._retire(served.name, previous)
                    if self.settings.freeze_gc:
                        settle_memory()

    async def _retire(self, name: str, version: Version) -> None:
        """Let the old version answer what is queued for it, then drop its batcher."""
        batcher = self._batchers.pop((name, version.digest), None)
        if batcher is not None:
            await batcher.close()

    def check(self, name: str, data: Any) -> tuple[Version, Any]:
        """The version that will answer ``name`` now and ``data`` checked against its signature.

        Raises:
            NotFound: no such model here.
            InvalidInput: the input does not fit the signature.
            NotReady: the model is not loaded yet.
        """
        served = self.model(name)
        current = served.current
        if current is None:
            raise NotReady(f"model {name!r} is not loaded yet")
        return current, current.model.check_input(data)

    async def predict(
        self,
        name: str,
        data: Any,
        params: Mapping[str, Any] | None = None,
        *,
        checked: tuple[Version, Any] | None = None,
    ) -> Answer:
        """The prediction of model ``name`` for ``data``, batched with other requests when it can.

        Raises:
            NotFound, InvalidInput, NotReady: as :meth:`check`.
            QueueFull: too many requests are waiting.
            TimeoutError: no answer within ``timeout_seconds``.
        """
        version, prepared = checked or self.check(name, data)
        batcher = self._batcher(name, version)
        submitted: Any = (prepared, dict(params)) if params else prepared
        alone = bool(params)
        async with asyncio.timeout(self.settings.timeout_seconds):
            values = await batcher.submit(submitted, rows=rows_of(prepared), alone=alone)
        self.metrics.predictions(name, version.label, values)
        return Answer(values, name, version.label)

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
        """Stop following URIs, answer every queued request, then write the prediction log."""
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow
        batchers = list(self._batchers.values())
        self._batchers.clear()
        await asyncio.gather(*(batcher.close() for batcher in batchers))
        if self.prediction_log is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.prediction_log.close)

    def health(self) -> dict[str, Any]:
        """What ``/health`` answers: readiness and each model's state."""
        return {
            "ready": self.ready,
            "models": [served.describe() for served in self.models.values()],
        }
