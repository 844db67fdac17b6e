"""The neutral records every MLflow source yields: what an import brings, in plain values.

A source (an ``mlruns`` folder, an MLflow database, a running MLflow server)
reads its own format into these; the writers never see where they came from.
Times are milliseconds since the epoch, as MLflow stores them.

Example:
    >>> run = RunRecord("abc", "1", "train", "FINISHED", 0, 5, "active", "ana", "file:///a",
    ...                 params={"lr": "0.1"}, metrics=(MetricPoint("loss", 0.5, 1, 0),))
    >>> (run.finished, run.parent_id, len(run.metrics))
    (True, None, 1)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

PARENT_TAG = "mlflow.parentRunId"
"""The tag by which MLflow names a nested run's parent."""

FINISHED_STATES = frozenset({"FINISHED", "FAILED", "KILLED"})
"""Run states that will not change any more."""


@dataclasses.dataclass(frozen=True)
class ExperimentRecord:
    """An MLflow experiment: its id in MLflow, name, stage (``active``/``deleted``), tags."""

    source_id: str
    name: str
    lifecycle_stage: str
    creation_time: int | None = None
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def deleted(self) -> bool:
        """Whether MLflow has it in its bin."""
        return self.lifecycle_stage == "deleted"


@dataclasses.dataclass(frozen=True)
class MetricPoint:
    """One point of a metric's history."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """An MLflow run with everything logged to it (the full metric histories)."""

    source_id: str
    experiment_source_id: str
    name: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    user: str
    artifact_uri: str
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    metrics: tuple[MetricPoint, ...] = ()

    @property
    def finished(self) -> bool:
        """Whether the run has ended (FINISHED, FAILED or KILLED): nothing more will be logged."""
        return self.status in FINISHED_STATES

    @property
    def deleted(self) -> bool:
        """Whether MLflow has it in its bin."""
        return self.lifecycle_stage == "deleted"

    @property
    def parent_id(self) -> str | None:
        """The MLflow id of the parent run of a nested run."""
        return self.tags.get(PARENT_TAG) or None


@dataclasses.dataclass(frozen=True)
class VersionRecord:
    """A version of an MLflow registered model and where its files are."""

    model_name: str
    version: int
    source: str
    storage_location: str
    run_id: str | None = None
    description: str = ""
    stage: str = "None"
    status: str = "READY"
    creation_time: int | None = None
    model_id: str | None = None
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    logged_name: str = ""

    @property
    def files_uri(self) -> str:
        """Where the MLflow model folder (``MLmodel`` and its files) is stored."""
        return self.storage_location or self.source

    @property
    def run_path(self) -> str:
        """The path its run logged it under: ``runs:/RUN/<this>`` in MLflow; empty if unknown.

        MLflow 3 names it by the logged model's name; MLflow 2 by the version's
        ``runs:/RUN/PATH`` source.

        Example:
            >>> VersionRecord("s", 1, "runs:/9f3a/model", "").run_path
            'model'
            >>> VersionRecord("s", 2, "models:/m-1", "", logged_name="clf").run_path
            'clf'
        """
        if self.logged_name:
            return self.logged_name
        if self.source.startswith("runs:/"):
            return self.source.removeprefix("runs:/").partition("/")[2].strip("/")
        return ""


@dataclasses.dataclass(frozen=True)
class ModelRecord:
    """An MLflow registered model with its tags and aliases (alias -> version number)."""

    name: str
    description: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    aliases: Mapping[str, int] = dataclasses.field(default_factory=dict)
    creation_time: int | None = None
