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
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.config import Settings, current_settings
from mloop.context import current
from mloop.context.context import Context
from mloop.context.defaults import chosen_settings
from mloop.context.opening import open_context
from mloop.entities import (
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    Experiment,
    LifecycleStage,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
)
from mloop.errors import AlreadyExists, Conflict, InvalidInput
from mloop.store.names import MAX_RUN_NAME_LENGTH, validate_name
from mloop.store.protocols.tracking import NewRun, Termination
from mloop.tracking import entity_filter, lifecycle
from mloop.tracking.connection import Backend, connect
from mloop.tracking.environment import capture_environment as _capture_environment
from mloop.tracking.environment import source_tags
from mloop.tracking.liveness import now_millis, process_owner
from mloop.tracking.redaction import redact_text
from mloop.tracking.run_artifacts import RunArtifacts
from mloop.tracking.run_logging import RunLogging, as_run_io
from mloop.tracking.run_search import RunSearch
from mloop.tracking.validation import storable_text, tag_value, timestamp_millis, validate_key

__all__ = [
    "DEFAULT_EXPERIMENT",
    "MLFLOW_DEFAULT_EXPERIMENT_ID",
    "Client",
    "as_run_io",
    "experiment_named",
]

DEFAULT_EXPERIMENT = "Default"
"""The experiment runs go to when none is set."""
MLFLOW_DEFAULT_EXPERIMENT_ID = "0"
"""MLflow's id of its Default experiment: here it names the project's ``Default`` experiment."""
_PARENT_TAGS = (PARENT_RUN_TAG, "mlflow.parentRunId")


def _now() -> int:
    return time.time_ns() // 1_000_000


def _default_run_name() -> str:
    return f"run-{_now()}"


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


class Client(RunLogging, RunArtifacts, RunSearch):
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
