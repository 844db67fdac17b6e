"""Logging to runs: metrics, params, tags, batches, inputs and outputs, metric history.

Example:
    >>> import tempfile
    >>> from mloop.tracking.client import Client
    >>> client = Client(tracking_uri="sqlite://", artifacts_uri=tempfile.mkdtemp())
    >>> run = client.create_run(client.create_experiment("logging-doc"))
    >>> client.log_metrics(run.info.run_id, {"loss": 0.5, "acc": 0.75}, step=2)
    >>> [(m.value, m.step) for m in client.get_metric_history(run.info.run_id, "acc")]
    [(0.75, 2)]
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop.entities import RUN_NAME_TAG, Metric, Param, RunIO, RunStatus, RunTag
from mloop.errors import Conflict, InvalidInput
from mloop.tracking.redaction import redact
from mloop.tracking.run_access import RunAccess
from mloop.tracking.validation import (
    metric_step,
    metric_value,
    param_value,
    timestamp_millis,
    validate_key,
)


def as_run_io(item: object, direction: str) -> RunIO:
    """A :class:`RunIO` for anything with a string ``digest`` (name, kind, source optional)."""
    if isinstance(item, RunIO):
        return item
    digest = getattr(item, "digest", None)
    if not isinstance(digest, str) or not digest:
        raise InvalidInput(
            f"cannot log {type(item).__name__} as a run {direction}: it has no string "
            "'digest' attribute (pass a dataset version, a model version or a RunIO)"
        )
    return RunIO(
        digest=digest,
        name=str(getattr(item, "name", "") or digest[:12]),
        kind=str(getattr(item, "kind", "") or type(item).__name__.lower()),
        direction=direction,
        source=str(getattr(item, "source", "") or ""),
        context=str(getattr(item, "context", "") or ""),
    )


class RunLogging(RunAccess):
    """The logging methods of :class:`~mloop.tracking.client.Client`."""

    if TYPE_CHECKING:

        def update_run(
            self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
        ) -> None:
            """Change a run's status or name (the client's run lifecycle defines it)."""

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Queue one metric point; written in the background, durable after :meth:`flush`.

        The arguments come in MLflow's client's order (``timestamp`` before
        ``step``). ``synchronous=True`` (MLflow's argument) returns once the point is
        durable; otherwise it is written with the next batch, at the latest
        when the run ends.
        """
        wait = _waits(synchronous)
        key = validate_key(key, "metric")
        number = metric_value(key, value)
        step_ = 0 if step is None else metric_step(step)
        ts = time.time_ns() // 1_000_000 if timestamp is None else timestamp_millis(timestamp)
        if run_id not in self._live_runs:
            self._check_run(run_id)
        self._backend.writer.add_metric((run_id, key, number, ts, step_))
        self._settle(wait)

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Queue several metrics sharing one step and timestamp; all are checked first.

        ``synchronous=True`` returns once they are durable.
        """
        wait = _waits(synchronous)
        step_ = 0 if step is None else metric_step(step)
        ts = time.time_ns() // 1_000_000 if timestamp is None else timestamp_millis(timestamp)
        if not isinstance(metrics, Mapping):
            raise InvalidInput(
                f"metrics must be a mapping of name to number, got {type(metrics).__name__}"
            )
        rows = [
            (run_id, validate_key(k, "metric"), metric_value(k, v), ts, step_)
            for k, v in metrics.items()
        ]
        if run_id not in self._live_runs:
            self._check_run(run_id)
        self._backend.writer.add_metrics(rows)
        self._settle(wait)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        """Log a param; Conflict if it already holds another value."""
        self.log_params(run_id, {key: value}, synchronous)

    def log_params(
        self, run_id: str, params: Mapping[str, Any], synchronous: bool | None = None
    ) -> None:
        """Log params, all or none; secret-looking values are redacted.

        A run this process is running gets them with its next batch;
        ``synchronous=True`` returns once they are durable.

        Raises:
            Conflict: a key already holds another value (params are immutable).
        """
        wait = _waits(synchronous)
        if not isinstance(params, Mapping):
            raise InvalidInput(f"params must be a mapping, got {type(params).__name__}")
        clean = {validate_key(k, "param"): redact(k, param_value(k, v)) for k, v in params.items()}
        owned = self._backend.owned_params.get(run_id)
        if owned is None:
            self._check_run(run_id)
            self._backend.stores.runs.log_params(run_id, clean)
            return
        # A run this process created and has not ended: check here, write with the next batch.
        for key, value in clean.items():
            if owned.get(key, value) != value:
                raise Conflict(
                    f"param {key!r} of run {run_id} is already {owned[key]!r}; it cannot become "
                    f"{value!r} (params are immutable: log a new run, or use a tag or metric)"
                )
        owned.update(clean)
        self._backend.writer.add_params(run_id, clean)
        self._settle(wait)

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        """Queue a tag (the last value wins); secret-looking values are redacted."""
        self.set_tags(run_id, {key: value}, synchronous)

    def set_tags(
        self, run_id: str, tags: Mapping[str, Any], synchronous: bool | None = None
    ) -> None:
        """Queue several tags; the ``mloop.runName`` tag renames the run, as MLflow's does.

        ``synchronous=True`` returns once they are durable.
        """
        wait = _waits(synchronous)
        clean = self._clean_tags(tags)
        self._check_run(run_id)
        if RUN_NAME_TAG in clean:
            self.update_run(run_id, name=clean.pop(RUN_NAME_TAG))
        for key, value in clean.items():
            self._backend.writer.add_tag(run_id, key, value)
        self._settle(wait)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; NotFound if the run has no such tag."""
        self.flush()
        self._backend.stores.runs.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log metrics, params and tags together (MLflow's ``log_batch``); all checked first.

        ``synchronous=True`` returns once they are durable.
        """
        wait = _waits(synchronous)
        rows = [
            (
                run_id,
                validate_key(m.key, "metric"),
                metric_value(m.key, m.value),
                timestamp_millis(m.timestamp),
                metric_step(m.step),
            )
            for m in metrics
        ]
        clean_tags = self._clean_tags({t.key: t.value for t in tags})
        if params:
            self.log_params(run_id, {p.key: p.value for p in params})
        self._check_run(run_id)
        self._backend.writer.add_metrics(rows)
        for key, value in clean_tags.items():
            self._backend.writer.add_tag(run_id, key, value)
        self._settle(wait)

    def log_inputs(self, run_id: str, items: Iterable[object], direction: str = "input") -> None:
        """Record things a run consumed (or produced) by digest: any object with ``.digest``."""
        records = [as_run_io(item, direction) for item in items]
        for record in records:
            if record.direction not in ("input", "output"):
                raise InvalidInput(
                    f"direction must be 'input' or 'output', got {record.direction!r}"
                )
        if run_id in self._live_runs:  # a run of this process: written with its next batch
            self._backend.writer.add_io(run_id, records)
            return
        self._check_run(run_id)
        self._write_queued()
        self._backend.stores.runs.log_io(run_id, records)

    def find_io(self, digest: str) -> list[tuple[str, RunIO]]:
        """Runs that consumed or produced the thing with this digest (lineage)."""
        self.flush()
        return self._backend.stores.runs.find_io(digest)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every logged point of a metric, by step."""
        self.flush()
        return self._backend.stores.runs.get_metric_history(run_id, key)


def _waits(synchronous: bool | None) -> bool:
    # MLflow's ``synchronous``: True waits until the write is durable; False and None
    # leave it to the background writer (durable at flush, or when the run ends).
    if synchronous is not None and not isinstance(synchronous, bool):
        raise InvalidInput(f"synchronous is True, False or None, got {synchronous!r}")
    return bool(synchronous)
