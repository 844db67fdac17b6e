"""Writing MLflow experiments and runs into mloop's tracking store.

Each run is written whole in one transaction (the run, its params, tags,
every metric point, its end and its artifact paths), after its artifact files
are in the content store, so an interrupted import leaves every run either
complete or absent; the next import brings the absent ones. A run carries its
MLflow id in the tag :data:`RUN_ID_TAG` (its experiment in
:data:`EXPERIMENT_ID_TAG`), which is how a second import knows it is there.

What is left out, and why (each counted in the summary's ``skipped``):
deleted experiments and their runs, deleted runs, runs that have not
ended (RUNNING, SCHEDULED): an imported run is never updated, so it is only
brought once it is final; and runs whose local artifact folder is gone
(the artifact store moved): the next import, once it is back, brings them.
A param or tag value that looks like a secret (by its key, or its shape) is
stored masked, as mloop stores any logged one, and listed in the summary's
``notes``.

Example:
    >>> RUN_ID_TAG
    'mloop.import.mlflow_run_id'
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, TypeVar

from mloop.entities import (
    MLFLOW_RUN_ID_TAG,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    LifecycleStage,
    RunInfo,
    RunStatus,
    ViewType,
)
from mloop.errors import InvalidInput
from mloop.importing.mlflow.records import ExperimentRecord, RunRecord
from mloop.importing.mlflow.source import Source
from mloop.importing.mlflow.summary import ImportSummary
from mloop.store.names import MAX_EXPERIMENT_NAME_LENGTH, MAX_RUN_NAME_LENGTH, validate_name
from mloop.store.protocols.tracking import Batch, NewRun, Termination
from mloop.tracking.client import Client
from mloop.tracking.redaction import redact
from mloop.tracking.validation import (
    metric_step,
    metric_value,
    param_value,
    tag_value,
    timestamp_millis,
    validate_key,
)

RUN_ID_TAG = MLFLOW_RUN_ID_TAG
"""The tag holding an imported run's MLflow run id."""

EXPERIMENT_ID_TAG = "mloop.import.mlflow_experiment_id"
"""The tag holding an imported experiment's MLflow experiment id."""

SOURCE_TAG = "mloop.import.source"
"""The tag naming the MLflow store a run or experiment came from (credentials masked)."""


class Nested(Protocol):
    """Anything with an id and the id of its parent (a run record)."""

    @property
    def source_id(self) -> str:
        """Its id."""

    @property
    def parent_id(self) -> str | None:
        """Its parent's id, if any."""


N = TypeVar("N", bound=Nested)


def ordered(runs: Iterable[N]) -> list[N]:
    """Runs with every parent before its children (the rest in the order given).

    Example:
        >>> from collections import namedtuple
        >>> Run = namedtuple("Run", "source_id parent_id")
        >>> [r.source_id for r in ordered([Run("b", "a"), Run("c", None), Run("a", None)])]
        ['c', 'a', 'b']
    """
    pending = list(runs)
    ids = {r.source_id for r in pending}
    done: set[str] = set()
    result: list[N] = []
    while pending:
        ready = [r for r in pending if r.parent_id not in ids or r.parent_id in done]
        if not ready:  # a cycle (never written by MLflow): keep the rest as they come
            ready = pending
        for run in ready:
            result.append(run)
            done.add(run.source_id)
        pending = [r for r in pending if r.source_id not in done]
    return result


class RunWriter:
    """Brings experiments and their runs into the store behind ``client``."""

    def __init__(
        self, client: Client, source: Source, summary: ImportSummary, scratch: Path
    ) -> None:
        self.client = client
        self.source = source
        self.summary = summary
        self.scratch = scratch
        self.imported: dict[str, str] = {}  # MLflow run id -> mloop run id
        self.artifact_uris: dict[str, str] = {}  # MLflow run id -> its artifact URI
        self._masked_keys: list[tuple[str, str]] = []  # (note, key) of the run being written

    def experiment(self, record: ExperimentRecord) -> str | None:
        """The mloop experiment for an MLflow one (created unless a dry run); None: skipped."""
        found = self.client.get_experiment_by_name(record.name)
        if found is not None:
            if found.lifecycle_stage == LifecycleStage.DELETED:
                self.summary.skip("experiment deleted in mloop", record.name)
                return None
            self.summary.experiments.already += 1
            return found.experiment_id
        tags = {k: tag_value(k, v) for k, v in record.tags.items() if _valid(k, "tag")}
        tags[EXPERIMENT_ID_TAG] = record.source_id
        tags[SOURCE_TAG] = self.source.description
        try:
            validate_name(record.name, "experiment", MAX_EXPERIMENT_NAME_LENGTH)
            created = (
                ""
                if self.summary.dry_run
                else self.client.create_experiment(record.name, tags=tags)
            )
        except InvalidInput as err:
            self.summary.skip("experiment mloop cannot store", record.name, str(err))
            return None
        self.summary.experiments.brought += 1
        return created

    def runs(self, record: ExperimentRecord, experiment_id: str) -> None:
        """Bring every finished, active run of the experiment not brought before."""
        there = self._already_imported(experiment_id) if experiment_id else {}
        self.imported.update(there)
        wanted = []
        for run in self.source.runs(record, known=set(there)):
            self.artifact_uris[run.source_id] = run.artifact_uri
            if run.deleted:
                self.summary.skip("deleted run", run.source_id)
            elif run.source_id in there:
                self.summary.runs.already += 1  # not read again: its points are not counted
            elif not run.finished:
                self.summary.skip(f"unfinished run ({run.status})", run.source_id)
            else:
                wanted.append(run)
        for run in ordered(wanted):
            self.run(run, experiment_id)

    def _already_imported(self, experiment_id: str) -> dict[str, str]:
        found: dict[str, str] = {}
        token = None
        while True:
            page = self.client.search_runs(
                [experiment_id], run_view_type=ViewType.ALL, max_results=1000, page_token=token
            )
            for run in page:
                mlflow_id = run.data.tags.get(RUN_ID_TAG)
                if mlflow_id:
                    found[mlflow_id] = run.info.run_id
            token = page.next_page_token
            if not token:
                return found

    def run(self, record: RunRecord, experiment_id: str) -> None:
        """Write one run whole, artifacts first; a run mloop would refuse is skipped."""
        self._masked_keys.clear()
        try:
            batch, run_id = self._batch(record, experiment_id)
        except InvalidInput as err:
            self.summary.skip("run mloop cannot store", record.source_id, str(err))
            return
        gone = self.source.artifacts.missing(record.artifact_uri)
        if gone is not None:
            self.summary.skip("run whose artifacts are missing", record.source_id, gone)
            return
        files = self.source.artifacts.list_files(record.artifact_uri)
        if not self.summary.dry_run:
            with self.client.content.batch() as content:
                for item in files:
                    local = self.source.artifacts.fetch(
                        record.artifact_uri, item.path, self.scratch
                    )
                    digest, size = content.put_file(local)
                    batch.artifacts.append((run_id, item.path, digest, size))
                    if local.is_relative_to(self.scratch):  # a download: stored, not kept
                        local.unlink()
            self.client.stores.runs.write_batch(batch)
        self.imported[record.source_id] = run_id
        for note, key in self._masked_keys:
            self.summary.note(note, f"{record.source_id}: {key}")
        self.summary.runs.brought += 1
        self.summary.metric_points.brought += len(batch.metrics)
        self.summary.artifact_files.brought += len(files)
        self.summary.artifact_bytes.brought += sum(f.size for f in files)

    def _masked(self, record: RunRecord, kind: str, key: str, value: str) -> str:
        """The value mloop stores for a param or tag: secrets masked, and noted."""
        stored = redact(key, value)
        if stored != value:  # noted once the run is written
            self._masked_keys.append((f"{kind} values stored masked (they look like secrets)", key))
        return stored

    def _batch(self, record: RunRecord, experiment_id: str) -> tuple[Batch, str]:
        """The run as one batch (artifacts added once stored); InvalidInput if mloop refuses it."""
        self.source.artifacts.check(record.artifact_uri)  # an unreadable location: refused now
        run_id = uuid.uuid4().hex
        parent = self.imported.get(record.parent_id or "")
        tags = {
            validate_key(k, "tag"): self._masked(record, "tag", k, tag_value(k, v))
            for k, v in record.tags.items()
        }
        tags.update({RUN_ID_TAG: record.source_id, SOURCE_TAG: self.source.description})
        if record.user:
            tags["mloop.user"] = tag_value("mloop.user", record.user)
        if parent:
            tags[PARENT_RUN_TAG] = parent
        name = record.name or f"mlflow-{record.source_id[:8]}"
        name = validate_name(name[:MAX_RUN_NAME_LENGTH], "run", MAX_RUN_NAME_LENGTH)
        tags[RUN_NAME_TAG] = name
        info = RunInfo(
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=name,
            status=RunStatus.RUNNING,
            start_time=timestamp_millis(record.start_time),
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=f"mloop-artifacts:/{run_id}",
            parent_run_id=parent,
        )
        end = record.end_time if record.end_time is not None else record.start_time
        batch = Batch(
            runs=[NewRun(info, tags)],
            params=[
                (
                    run_id,
                    validate_key(k, "param"),
                    self._masked(record, "param", k, param_value(k, v)),
                )
                for k, v in sorted(record.params.items())
            ],
            metrics=[
                (
                    run_id,
                    validate_key(p.key, "metric"),
                    metric_value(p.key, p.value),
                    timestamp_millis(p.timestamp),
                    metric_step(p.step),
                )
                for p in record.metrics
            ],
            terminations=[Termination(run_id, RunStatus(record.status), timestamp_millis(end))],
        )
        return batch, run_id


def _valid(key: str, kind: str) -> bool:
    try:
        validate_key(key, kind)
    except InvalidInput:
        return False
    return True
