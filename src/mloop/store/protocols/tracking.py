"""The narrow seams between tracking and its storage backends.

Three small protocols — experiments, runs, and the artifact index — each
implemented over SQL now (:mod:`mloop.store.sql`) and by a REST client
when the server comes, and each proven by the shared contract suite in
``tests/contracts``. The tracking API reaches them through a
:class:`~mloop.store.set.StoreSet`, never SQL directly.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from mloop.entities import (
    ArtifactInfo,
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Run,
    RunInfo,
    RunIO,
    RunStatus,
    RunTable,
    ViewType,
)

MetricRow = tuple[str, str, float, int, int]
"""``(run_id, key, value, timestamp_ms, step)``: one buffered metric point."""


@dataclasses.dataclass(frozen=True, slots=True)
class Environment:
    """Where a run ran: Python, platform and installed packages, stored once per digest."""

    digest: str
    python_version: str
    platform: str
    packages: str


@dataclasses.dataclass(frozen=True, slots=True)
class NewRun:
    """A run to create: its info (RUNNING), tags and environment."""

    info: RunInfo
    tags: Mapping[str, str]
    environment: Environment | None = None

    @classmethod
    def build(
        cls,
        experiment_id: str,
        run_name: str,
        start_time: int,
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
        environment: Environment | None = None,
        owner: str | None = None,
    ) -> NewRun:
        """A new run with a fresh id; ``owner`` is the ``"<host>:<pid>"`` creating it.

        Example:
            >>> NewRun.build("1", "r", 0, {}).info.status.value
            'RUNNING'
        """
        run_id = uuid.uuid4().hex
        info = RunInfo(
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=run_name,
            status=RunStatus.RUNNING,
            start_time=start_time,
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=f"mloop-artifacts:/{run_id}",
            parent_run_id=parent_run_id,
            owner=owner,
            heartbeat_time=start_time if owner else None,
        )
        return cls(info, dict(tags), environment)


@dataclasses.dataclass(frozen=True, slots=True)
class Termination:
    """A run's end, applied after the batch it travels with."""

    run_id: str
    status: RunStatus
    end_time: int
    error: str | None = None


@dataclasses.dataclass(slots=True)
class Batch:
    """Buffered writes applied in one transaction.

    New runs, params, tags, metrics, run ends, artifact paths
    ``(run_id, path, digest, size)`` and inputs/outputs ``(run_id, RunIO)``.

    A buffered param that contradicts a stored one is skipped, the rest is
    written, and ``write_batch`` then raises Conflict naming it.
    """

    runs: list[NewRun] = dataclasses.field(default_factory=list)
    metrics: list[MetricRow] = dataclasses.field(default_factory=list)
    params: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    tags: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    terminations: list[Termination] = dataclasses.field(default_factory=list)
    artifacts: list[tuple[str, str, str, int]] = dataclasses.field(default_factory=list)
    io: list[tuple[str, RunIO]] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        writes = (
            self.runs,
            self.metrics,
            self.params,
            self.tags,
            self.terminations,
            self.artifacts,
            self.io,
        )
        return sum(len(w) for w in writes)


class ExperimentStore(Protocol):
    """Experiments: create, read, list, soft-delete.

    Contract:
    - ``create_experiment`` raises AlreadyExists for a taken name, also one in the bin;
    - ``get_experiment`` raises NotFound for an unknown id; ``get_experiment_by_name``
      returns None instead;
    - ``search_experiments`` orders by creation time, oldest first.
    """

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create an experiment and return its id."""

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id."""

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""

    def search_experiments(
        self, view_type: ViewType = ViewType.ACTIVE_ONLY, name_like: str | None = None
    ) -> list[Experiment]:
        """Experiments in the given stages, optionally whose name matches a LIKE pattern."""

    def set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        """Soft-delete or restore an experiment."""

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set one experiment tag."""


class RunStore(Protocol):
    """Runs and everything logged to them.

    Contract:
    - ``create_run`` writes the run and its tags in one transaction;
    - ``log_params`` raises Conflict, writing nothing, when a key already holds another value;
    - ``write_batch`` is atomic; latest metric values follow the highest step, then timestamp;
    - NaN and ±inf metric values read back as they were logged;
    - ``get_run`` and ``update_run`` raise NotFound for unknown ids;
    - ``search_runs`` raises FilterSyntaxError for a malformed filter or order;
    - ``search_run_table`` returns the page ``search_runs`` would, field by field;
    - ``heartbeat`` touches only RUNNING runs, and never fails for unknown ids;
    - ``claim_run`` is a compare-and-set: of two claims on the same state, one wins;
    - ``find_run_ids`` takes hex digits only, in either case (InvalidInput otherwise),
      in every lifecycle stage and every project.
    """

    def create_run(
        self,
        experiment_id: str,
        run_name: str,
        start_time: int,
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
        environment: Environment | None = None,
    ) -> RunInfo:
        """Create a RUNNING run."""

    def get_run(self, run_id: str) -> Run:
        """A run with its params, tags, latest metrics, inputs and outputs."""

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change a run's status, end time or name."""

    def set_run_stage(self, run_id: str, stage: LifecycleStage) -> None:
        """Soft-delete or restore a run."""

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Write params; an existing key with the same value is fine."""

    def write_batch(self, batch: Batch) -> None:
        """Apply buffered tags, metrics and run ends in one transaction."""

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; NotFound when the run has no such tag."""

    def log_io(self, run_id: str, items: Sequence[RunIO]) -> None:
        """Record inputs and outputs by digest (idempotent)."""

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step then timestamp."""

    def find_run_ids(self, prefix: str, limit: int) -> list[str]:
        """The ids that start with ``prefix`` (hex, any case), sorted, at most ``limit``."""

    def find_io(self, digest: str) -> list[tuple[str, RunIO]]:
        """Every ``(run_id, input or output)`` naming ``digest``: lineage seen from the data."""

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs matching a filter, ordered, one page at a time."""

    def search_run_table(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunTable:
        """The same page as :meth:`search_runs`, as columns (no inputs or outputs)."""

    def unknown_filter_keys(
        self, experiment_ids: Sequence[str], filter_string: str | None
    ) -> dict[str, list[str]]:
        """Fields of a filter (``"metrics.val_aucc"``) no run of the experiments has.

        Each maps to its close matches among the fields the runs do have.
        """

    def purge_runs(self, deleted_before: int, *, dry_run: bool = False) -> list[str]:
        """Permanently remove runs soft-deleted before a time (ms); return their ids."""

    def heartbeat(self, run_ids: Sequence[str], owner: str, time: int) -> None:
        """Record that ``owner`` is alive and runs those of ``run_ids`` still RUNNING."""

    def claim_run(
        self,
        run_id: str,
        seen_status: RunStatus,
        seen_owner: str | None,
        owner: str,
        now: int,
    ) -> bool:
        """Set a run RUNNING, owned by ``owner`` with a heartbeat at ``now`` (ms).

        Only if its status and owner are still ``seen_status`` and ``seen_owner``,
        atomically; False (nothing changed) when another process changed them first.
        """


class ArtifactIndex(Protocol):
    """Logical artifact paths of runs mapped to content digests."""

    def record_artifacts(self, run_id: str, entries: Sequence[tuple[str, str, int]]) -> None:
        """Map ``(path, digest, size)`` entries; a path logged again points at the new bytes."""

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """Direct children of a folder (the root when ``path`` is None)."""

    def find_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """Every file at or under ``path``; empty when there is none."""

    def referenced_digests(self, exclude_runs: Collection[str] = ()) -> set[str]:
        """Every digest some artifact path points at, ignoring ``exclude_runs``."""

    def references(self) -> list[tuple[str, int, str]]:
        """``(digest, size, what)`` of everything stored, ``what`` naming it for a person."""
