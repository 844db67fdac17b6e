"""The tracking client: every tracking operation, addressed by id.

Example:
    >>> import tempfile
    >>> home = tempfile.mkdtemp()
    >>> client = Client(tracking_uri=f"sqlite:///{home}/mloop.db", artifacts_uri=f"{home}/a")
    >>> exp = client.create_experiment("doc")
    >>> run = client.create_run(exp, run_name="first")
    >>> client.log_metric(run.info.run_id, "loss", 0.25, step=1)
    >>> client.set_terminated(run.info.run_id)
    >>> client.get_run(run.info.run_id).data.metrics
    {'loss': 0.25}
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mloop.artifacts.cas import ContentStore
from mloop.config import Settings, current_settings
from mloop.context import current
from mloop.context.context import Context
from mloop.context.defaults import chosen_settings
from mloop.context.opening import open_context
from mloop.entities import (
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    ArtifactInfo,
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunIO,
    RunStatus,
    RunTable,
    RunTag,
    ViewType,
)
from mloop.errors import AlreadyExists, Conflict, InvalidInput, MloopWarning, NotFound
from mloop.store.names import MAX_RUN_NAME_LENGTH, validate_name
from mloop.store.protocols.tracking import NewRun, Termination
from mloop.store.set import StoreSet
from mloop.tracking import artifact_files, entity_filter, lifecycle
from mloop.tracking.connection import Backend, connect
from mloop.tracking.environment import capture_environment as _capture_environment
from mloop.tracking.environment import source_tags
from mloop.tracking.liveness import now_millis, process_owner
from mloop.tracking.redaction import redact, redact_text
from mloop.tracking.validation import (
    metric_step,
    metric_value,
    param_value,
    storable_text,
    tag_value,
    timestamp_millis,
    validate_key,
)

DEFAULT_EXPERIMENT = "Default"
"""The experiment runs go to when none is set."""
MLFLOW_DEFAULT_EXPERIMENT_ID = "0"
"""MLflow's id of its Default experiment: here it names the project's ``Default`` experiment."""
_PARENT_TAGS = (PARENT_RUN_TAG, "mlflow.parentRunId")


def _now() -> int:
    return time.time_ns() // 1_000_000


def _default_run_name() -> str:
    return f"run-{_now()}"


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


def _client_settings(
    tracking_uri: str | None, artifacts_uri: str | None, settings: Settings | None
) -> Settings:
    if settings is not None and settings.tracking_uri:
        base = settings
    else:
        # Like MLflow's client: follow the stores the fluent API was pointed at
        # (the artifact root only with the store it was chosen for).
        base = chosen_settings(settings)
        if settings is not None:  # explicit settings name their own project
            base = dataclasses.replace(base, project=settings.project)
        if tracking_uri is not None and tracking_uri != current.tracking_uri():
            own = (settings or current_settings()).artifacts_uri
            base = dataclasses.replace(base, artifacts_uri=own)
    return dataclasses.replace(
        base,
        tracking_uri=tracking_uri or base.tracking_uri,
        artifacts_uri=artifacts_uri or base.artifacts_uri,
    )


class Client:
    """Tracking operations by id, over the stores of one tracking URI, in one project.

    Args:
        tracking_uri: metadata store URL (default: the one set with
            :func:`mloop.set_tracking_uri`, else the settings').
        artifacts_uri: artifact store root (default: the one set with
            :func:`mloop.set_tracking_uri` for that store, else the settings').
        settings: explicit settings (default: the process's, read once).
        context: an explicit context (stores, content, actor, project); the
            other arguments are then ignored.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        artifacts_uri: str | None = None,
        *,
        settings: Settings | None = None,
        context: Context | None = None,
    ) -> None:
        if context is None:
            context = open_context(_client_settings(tracking_uri, artifacts_uri, settings))
        self.context = context
        self.settings = context.settings
        self._stores = context.stores
        self._backend: Backend = connect(self.settings)
        self._live_runs: set[str] = set()
        self._live_experiments: set[str] = set()

    @property
    def tracking_uri(self) -> str:
        """The metadata store URL this client writes to."""
        return self._stores.uri

    @property
    def project(self) -> str:
        """The project whose experiments this client finds by name."""
        return self.context.project

    # -- experiments -----------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        """Create an experiment and return its id; AlreadyExists if the name is taken."""
        clean = {validate_key(k, "tag"): tag_value(k, v) for k, v in (tags or {}).items()}
        return self._stores.experiments.create_experiment(name, artifact_location, clean)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id; NotFound otherwise.

        ``"0"``, MLflow's id of its Default experiment, is the project's
        ``Default`` experiment (created on first use, as runs without an
        experiment create it).
        """
        return self._stores.experiments.get_experiment(self.experiment_id_of(experiment_id))

    def experiment_id_of(self, experiment_id: str) -> str:
        """The stored id an id names: itself, or Default's for MLflow's ``"0"``.

        Example:
            >>> import tempfile
            >>> client = Client(tracking_uri="sqlite://", artifacts_uri=tempfile.mkdtemp())
            >>> client.get_experiment(client.experiment_id_of("0")).name
            'Default'
        """
        text = str(experiment_id)
        if text != MLFLOW_DEFAULT_EXPERIMENT_ID:
            return text
        return experiment_named(self, DEFAULT_EXPERIMENT).experiment_id

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""
        return self._stores.experiments.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        *,
        name_like: str | None = None,
    ) -> list[Experiment]:
        """Experiments in the given lifecycle stages, oldest first (MLflow's arguments).

        ``filter_string`` compares ``name``, ``experiment_id``, ``lifecycle_stage``
        and ``tags.<key>``; ``order_by`` sorts by those or the two times.

        Example:
            >>> import mloop
            >>> len(mloop.Client().search_experiments(filter_string="name LIKE 'no such%'"))
            0
        """
        found = self._stores.experiments.search_experiments(ViewType(view_type), name_like)
        chosen = entity_filter.select(found, filter_string, order_by, entity_filter.EXPERIMENT)
        return chosen[:max_results] if max_results is not None else chosen

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment to the bin (its runs stay, hidden with it)."""
        self._live_experiments.discard(str(experiment_id))
        self._stores.experiments.set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring a deleted experiment back."""
        self._stores.experiments.set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    # -- runs ------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        *,
        start_time: int | None = None,
        parent_run_id: str | None = None,
        capture_environment: bool | None = None,
    ) -> Run:
        """Create a RUNNING run, recording where it runs (git, command, Python, packages).

        The run is written with the next batch (at the latest when it ends or at
        :meth:`flush`); reads through any client flush first, so it is never missed.
        ``capture_environment=False`` skips recording where it runs (for runs
        whose parent already records it, such as pipeline steps); None follows
        the settings.

        A ``mlflow.runName`` or ``mloop.runName`` tag names the run, and a
        ``mlflow.parentRunId`` or ``mloop.parentRunId`` tag sets its parent, as
        in MLflow; experiment ``"0"`` is the project's Default experiment.

        Raises:
            InvalidInput: the parent given twice, differently.
            NotFound: no such experiment (or parent run).
            Conflict: the experiment is deleted.
        """
        # MLflow's way to name a run and set its parent, also as a script reads after
        # ``mlflow`` became ``mloop``: the tags name them as the arguments do.
        given = self._clean_tags(tags or {})
        run_name = run_name or given.get("mlflow.runName") or given.get("mloop.runName")
        tagged = {given.pop(key) for key in _PARENT_TAGS if key in given}
        if len(tagged) > 1 or (tagged and parent_run_id is not None and {parent_run_id} != tagged):
            raise InvalidInput(
                f"the run's parent is given twice, differently ({sorted(tagged)} and "
                f"parent_run_id={parent_run_id!r}); give it once"
            )
        parent_run_id = parent_run_id if parent_run_id is not None else next(iter(tagged), None)
        name = (
            validate_name(run_name, "run", MAX_RUN_NAME_LENGTH) if run_name else _default_run_name()
        )
        capture = self.settings.capture_environment
        if capture_environment is not None:
            capture = capture and capture_environment
        # Recorded, not typed by the user: a command line with undecodable bytes is
        # escaped rather than refused (or it would cost the run its row).
        all_tags = {k: storable_text(v) for k, v in source_tags().items()} if capture else {}
        if capture:
            all_tags["mloop.user"] = self.context.actor.name  # who ran it, as the context says
        all_tags.update(given)
        # MLflow's system tags under mloop's prefix: searches and frames can name them.
        all_tags[RUN_NAME_TAG] = name
        if parent_run_id is not None:
            self._check_run(parent_run_id)
            all_tags[PARENT_RUN_TAG] = parent_run_id
        environment = _capture_environment() if capture else None
        experiment_id = self.experiment_id_of(experiment_id)
        self._check_experiment(experiment_id)
        start = _now() if start_time is None else timestamp_millis(start_time)
        new = NewRun.build(
            experiment_id, name, start, all_tags, parent_run_id, environment, process_owner()
        )
        info = new.info
        lifecycle.install()  # SIGTERM and crashes end it KILLED or FAILED
        self._backend.writer.add_run(new)
        self._live_runs.add(info.run_id)
        self._backend.owned_params[info.run_id] = {}
        return Run(info=info, data=RunData(tags=all_tags))

    def get_run(self, run_id: str) -> Run:
        """The run with its params, tags, latest metrics, inputs and outputs."""
        self.flush()
        return self._backend.stores.runs.get_run(run_id)

    def set_terminated(
        self,
        run_id: str,
        status: RunStatus | str = RunStatus.FINISHED,
        end_time: int | None = None,
        error: str | None = None,
    ) -> None:
        """End a run after writing everything logged to it; a durability point."""
        state = RunStatus(status)
        if not state.is_terminal:
            raise InvalidInput(f"a run ends as FINISHED, FAILED or KILLED, not {state.value}")
        self._check_run(run_id)
        end = _now() if end_time is None else timestamp_millis(end_time)
        self._backend.owned_params.pop(run_id, None)
        # An error message is kept (escaped, not refused), with the secrets it quotes hidden.
        text = redact_text(storable_text(error)) if error else error
        self._backend.writer.end_run(Termination(run_id, state, end, text))

    def update_run(
        self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
    ) -> None:
        """Change a run's status or name; a run set RUNNING again is kept alive by this process."""
        self.flush()
        state = RunStatus(status) if status is not None else None
        self._backend.stores.runs.update_run(
            run_id,
            status=state,
            run_name=validate_name(name, "run", MAX_RUN_NAME_LENGTH) if name is not None else None,
        )
        if state == RunStatus.RUNNING:
            lifecycle.install()
            self._backend.writer.own(run_id)

    def claim_run(self, run_id: str, seen: RunInfo) -> bool:
        """Set a run RUNNING for this process, only if no other process changed it since ``seen``.

        The status and owner are compared and set atomically in the store, so of
        two processes taking over the same run (two resumes) exactly one wins;
        the winner keeps the run alive with heartbeats. False: nothing changed.

        Example:
            >>> client = Client()  # doctest: +SKIP
            >>> client.claim_run(run_id, client.get_run(run_id).info)  # doctest: +SKIP
            True
        """
        self.flush()
        claimed = self._backend.stores.runs.claim_run(
            run_id, seen.status, seen.owner, process_owner(), now_millis()
        )
        if claimed:
            lifecycle.install()
            self._backend.writer.own(run_id)
        return claimed

    def delete_run(self, run_id: str) -> None:
        """Move a run to the bin; `mloop gc` removes it for good."""
        self.flush()
        self._backend.stores.runs.set_run_stage(run_id, LifecycleStage.DELETED)
        self._live_runs.discard(run_id)
        self._backend.owned_params.pop(run_id, None)

    def restore_run(self, run_id: str) -> None:
        """Bring a deleted run back."""
        self._backend.stores.runs.set_run_stage(run_id, LifecycleStage.ACTIVE)

    def _check_experiment(self, experiment_id: str) -> None:
        if experiment_id in self._live_experiments:
            return
        experiment = self.get_experiment(experiment_id)
        if experiment.lifecycle_stage == LifecycleStage.DELETED:
            raise Conflict(
                f"experiment {experiment.name!r} is deleted; restore it before adding runs"
            )
        self._live_experiments.add(experiment_id)

    def _check_run(self, run_id: str) -> None:
        if run_id in self._live_runs:
            return
        if not isinstance(run_id, str) or not run_id:
            raise InvalidInput(f"run id must be a non-empty string, got {run_id!r}")
        info = self.get_run(run_id).info  # flushes: another client may have just created it
        if info.lifecycle_stage == LifecycleStage.DELETED:
            raise Conflict(f"run {run_id} is deleted; restore it before logging to it")
        self._live_runs.add(run_id)

    # -- logging ---------------------------------------------------------
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

    @staticmethod
    def _clean_tags(tags: Mapping[str, Any]) -> dict[str, str]:
        if not isinstance(tags, Mapping):
            raise InvalidInput(f"tags must be a mapping, got {type(tags).__name__}")
        return {validate_key(k, "tag"): redact(k, tag_value(k, v)) for k, v in tags.items()}

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

    def flush(self) -> None:
        """Write everything buffered; returns when it is durable."""
        self._backend.writer.flush()

    def _settle(self, wait: bool) -> None:
        if wait:
            self.flush()

    def _write_queued(self) -> None:
        # Writes that go straight to the store need the run row written first.
        if self._backend.writer.pending:
            self.flush()

    # -- artifacts -------------------------------------------------------
    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Store a file (or a folder with its tree) under ``artifact_path/<name>``."""
        self._check_run(run_id)
        self._write_queued()
        backend = self._backend
        artifact_files.store_local(
            backend.content, backend.stores.artifacts, run_id, local_path, artifact_path
        )

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Store a folder's contents under ``artifact_path``, keeping its tree."""
        if not Path(local_dir).is_dir():
            raise NotFound(f"cannot log {str(local_dir)!r}: not a directory")
        self._check_run(run_id)
        self._write_queued()
        backend = self._backend
        artifact_files.store_local(
            backend.content,
            backend.stores.artifacts,
            run_id,
            local_dir,
            artifact_path,
            contents_only=True,
        )

    @property
    def content(self) -> ContentStore:
        """The artifact object store (objects by SHA-256) behind this client."""
        return self._backend.content

    @property
    def stores(self) -> StoreSet:
        """The store set of this client's tracking URI: every domain's store, one connection pool.

        Example:
            >>> import mloop
            >>> mloop.Client().stores.datasets.list_datasets()
            []
        """
        return self._stores

    def record_artifacts(self, run_id: str, entries: Iterable[tuple[str, str, int]]) -> None:
        """Point run-relative ``(path, digest, size)`` entries at objects already stored.

        Raises:
            InvalidInput: a path escapes the run.
            NotFound: an object is not in the artifact store.
        """
        rows = [(artifact_files.check_artifact_path(p), d, s) for p, d, s in entries]
        for path, digest, _ in rows:
            if not self._backend.content.exists(digest):
                raise NotFound(f"cannot record artifact {path!r}: object {digest} is not stored")
        if run_id in self._live_runs:  # a run of this process: written with its next batch
            self._backend.writer.add_artifacts(run_id, rows)
            return
        self._check_run(run_id)
        self._write_queued()
        self._backend.stores.artifacts.record_artifacts(run_id, rows)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Store a string as a UTF-8 text file."""
        if not isinstance(text, str):
            raise InvalidInput(f"log_text takes a string, got {type(text).__name__}")
        self._store_bytes(run_id, text.encode(), artifact_file)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """Store a mapping as JSON, or as YAML when the file ends in .yaml or .yml."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml  # only YAML artifacts pay for importing PyYAML

            data = yaml.safe_dump(dict(dictionary), sort_keys=False).encode()
        else:
            try:
                data = json.dumps(dictionary, indent=2, default=str).encode()
            except (TypeError, ValueError) as err:
                raise InvalidInput(f"log_dict could not serialize the mapping: {err}") from None
        self._store_bytes(run_id, data, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Store a matplotlib figure as an image (format from the file extension)."""
        if not hasattr(figure, "savefig"):
            raise InvalidInput(f"log_figure takes a matplotlib Figure, got {type(figure).__name__}")
        buffer = io.BytesIO()
        suffix = Path(artifact_file).suffix.lstrip(".") or "png"
        figure.savefig(buffer, format=suffix)
        self._store_bytes(run_id, buffer.getvalue(), artifact_file)

    def _store_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        self._check_run(run_id)
        self._write_queued()
        backend = self._backend
        artifact_files.store_bytes(
            backend.content, backend.stores.artifacts, run_id, data, artifact_file
        )

    def list_artifacts(
        self, run_id: str, path: str | None = None, *, recursive: bool = False
    ) -> list[ArtifactInfo]:
        """Files and folders directly under ``path``, or every file below it with ``recursive``."""
        self._write_queued()
        index = self._backend.stores.artifacts
        prefix = artifact_files.check_artifact_path(path)
        if recursive:
            return index.find_artifacts(run_id, prefix or None)
        return index.list_artifacts(run_id, prefix)

    def download_artifacts(
        self, run_id: str, path: str | None = None, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy a run's artifact (file or folder) to ``dst_path`` (a new temp folder by default)."""
        self._write_queued()
        destination = (
            dst_path if dst_path is not None else tempfile.mkdtemp(prefix="mloop-artifacts-")
        )
        backend = self._backend
        return str(
            artifact_files.download(
                backend.content, backend.stores.artifacts, run_id, path, destination
            )
        )

    def load_text(self, run_id: str, artifact_file: str) -> str:
        """Read a text artifact back (verified against its hash)."""
        self._write_queued()
        items = self._backend.stores.artifacts.find_artifacts(
            run_id, artifact_files.check_artifact_path(artifact_file)
        )
        exact = [i for i in items if i.path == artifact_files.check_artifact_path(artifact_file)]
        if not exact or exact[0].digest is None:
            raise NotFound(f"run {run_id} has no artifact file {artifact_file!r}")
        return self._backend.content.get_bytes(exact[0].digest).decode()

    # -- search ----------------------------------------------------------
    def search_runs(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching a filter (see :mod:`mloop.store.filter`).

        A first page that comes back empty because the filter names a metric,
        param or tag that no run of the experiments has warns (:class:`MloopWarning`)
        with the close matches: ``metrics.val_aucc`` is likely a typo.
        """
        ids = [self.experiment_id_of(e) for e in _experiment_ids(experiment_ids)]
        self.flush()
        page = self._backend.stores.runs.search_runs(
            ids, filter_string, ViewType(run_view_type), max_results, order_by, page_token
        )
        if not page.items and page_token is None:
            self._warn_unknown_keys(ids, filter_string)
        return page

    def search_run_table(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunTable:
        """The page :meth:`search_runs` returns, as columns: cheaper when a table is wanted.

        Example:
            >>> import tempfile
            >>> client = Client(tracking_uri="sqlite://", artifacts_uri=tempfile.mkdtemp())
            >>> exp = client.create_experiment("table-doc")
            >>> run = client.create_run(exp)
            >>> client.log_param(run.info.run_id, "lr", "0.1")
            >>> client.search_run_table([exp], "params.lr = '0.1'").params
            {'lr': ['0.1']}
        """
        ids = [self.experiment_id_of(e) for e in _experiment_ids(experiment_ids)]
        self.flush()
        table = self._backend.stores.runs.search_run_table(
            ids, filter_string, ViewType(run_view_type), max_results, order_by, page_token
        )
        if not len(table) and page_token is None:
            self._warn_unknown_keys(ids, filter_string)
        return table

    def _warn_unknown_keys(self, ids: Sequence[str], filter_string: str | None) -> None:
        if not filter_string:
            return
        unknown = self._backend.stores.runs.unknown_filter_keys(ids, filter_string)
        for field, matches in unknown.items():
            hint = f"; did you mean {' or '.join(matches)}?" if matches else ""
            warnings.warn(
                f"no run in the searched experiments has {field}, so the filter "
                f"matches nothing{hint}",
                MloopWarning,
                stacklevel=3,
            )


def _waits(synchronous: bool | None) -> bool:
    # MLflow's ``synchronous``: True waits until the write is durable; False and None
    # leave it to the background writer (durable at flush, or when the run ends).
    if synchronous is not None and not isinstance(synchronous, bool):
        raise InvalidInput(f"synchronous is True, False or None, got {synchronous!r}")
    return bool(synchronous)


def experiment_named(client: Client, name: str) -> Experiment:
    """The client's experiment called ``name``, created if it does not exist yet.

    Example:
        >>> import tempfile
        >>> client = Client(tracking_uri="sqlite://", artifacts_uri=tempfile.mkdtemp())
        >>> first = experiment_named(client, "x")
        >>> experiment_named(client, "x").experiment_id == first.experiment_id
        True
    """
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found
    try:
        return client.get_experiment(client.create_experiment(name))
    except AlreadyExists:  # another process created it a moment ago
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found


def _experiment_ids(experiment_ids: Sequence[str] | str) -> list[str]:
    if isinstance(experiment_ids, str):
        return [experiment_ids]
    return [str(e) for e in experiment_ids]
