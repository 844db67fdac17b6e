"""Reading an ``mlruns`` folder: MLflow's file store, written by MLflow's FileStore.

Layout: ``<experiment id>/meta.yaml`` with ``tags/``; each run in
``<experiment id>/<run id>/`` with ``meta.yaml``, ``params/``, ``tags/`` and
``metrics/`` (one line ``timestamp value step`` per point; a key with ``/``
is a sub-folder) and usually ``artifacts/``; deleted experiments under
``.trash/``; the registry under ``models/<name>/`` (``meta.yaml``,
``tags/``, ``aliases/``, ``version-<n>/``); MLflow 3's logged models under
``<experiment id>/models/m-*/``, reached through a version's ``storage_location``.

Example:
    >>> read_metric_lines("loss", ["1700000000000 0.5 1", "1700000000001 nan 2"])[1].step
    2
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from mloop.errors import InvalidInput
from mloop.importing.mlflow.artifacts import ArtifactReader
from mloop.importing.mlflow.records import (
    ExperimentRecord,
    MetricPoint,
    ModelRecord,
    RunRecord,
    VersionRecord,
)

TRASH = ".trash"
REGISTRY = "models"
# MLflow's RunStatus enum as the file store writes it.
RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict[str, Any]:
    """A ``meta.yaml`` as a mapping (empty when it is missing or not a mapping)."""
    try:
        found = yaml.load(path.read_bytes(), Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return {}
    return found if isinstance(found, dict) else {}


def read_values(folder: Path) -> dict[str, str]:
    """``{key: file content}`` of a ``params/`` or ``tags/`` folder (keys with ``/`` nest)."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read_metric_lines(key: str, lines: Iterable[str]) -> list[MetricPoint]:
    """The points of one metric file (``timestamp value [step]`` per line)."""
    points = []
    for line in lines:
        fields = line.split()
        if len(fields) < 2:
            continue
        step = int(fields[2]) if len(fields) > 2 else 0
        points.append(MetricPoint(key, float(fields[1]), int(fields[0]), step))
    return points


class FileSource:
    """An ``mlruns`` folder."""

    def __init__(self, root: Path, artifacts: ArtifactReader) -> None:
        self.root = root
        self.artifacts = artifacts
        self.identity = str(root.resolve())
        self.description = self.identity
        self._experiments = self._read_experiments()
        if not self._experiments and not (root / REGISTRY).is_dir():
            raise InvalidInput(
                f"{str(root)!r} is not an MLflow mlruns folder: it has no "
                "<experiment id>/meta.yaml; give the folder MLflow's file store wrote "
                "(the one named by MLFLOW_TRACKING_URI, ./mlruns by default)"
            )

    def _read_experiments(self) -> dict[str, tuple[ExperimentRecord, Path]]:
        found: dict[str, tuple[ExperimentRecord, Path]] = {}
        folders = [*_children(self.root), *_children(self.root / TRASH)]
        for folder in folders:
            meta = read_yaml(folder / "meta.yaml")
            if "experiment_id" not in meta or "name" not in meta:
                continue
            deleted = folder.parent.name == TRASH or meta.get("lifecycle_stage") == "deleted"
            record = ExperimentRecord(
                source_id=str(meta["experiment_id"]),
                name=str(meta["name"]),
                lifecycle_stage="deleted" if deleted else "active",
                creation_time=_int(meta.get("creation_time")),
                tags=read_values(folder / "tags"),
            )
            found[record.source_id] = (record, folder)
        return found

    def experiments(self) -> list[ExperimentRecord]:
        """Every experiment, oldest first."""
        return sorted(
            (record for record, _ in self._experiments.values()),
            key=lambda e: (e.creation_time or 0, e.source_id),
        )

    def runs(
        self, experiment: ExperimentRecord, known: Collection[str] = frozenset()
    ) -> Iterator[RunRecord]:
        """Every run of an experiment, read whole (those in ``known``: their meta.yaml only)."""
        folder = self._experiments[experiment.source_id][1]
        for run_folder in _children(folder):
            meta = read_yaml(run_folder / "meta.yaml")
            run_id = meta.get("run_id") or meta.get("run_uuid")
            if not run_id:
                continue  # the experiment's tags/, models/, datasets/ ...
            yield self._run(experiment, run_folder, meta, str(run_id), str(run_id) not in known)

    def _run(
        self,
        experiment: ExperimentRecord,
        folder: Path,
        meta: Mapping[str, Any],
        run_id: str,
        whole: bool,
    ) -> RunRecord:
        tags = read_values(folder / "tags") if whole else {}
        metrics_folder = folder / "metrics"
        points: list[MetricPoint] = []
        if whole and metrics_folder.is_dir():
            for path in sorted(metrics_folder.rglob("*")):
                if path.is_file():
                    key = path.relative_to(metrics_folder).as_posix()
                    points += read_metric_lines(key, path.read_text().splitlines())
        status = meta.get("status")
        return RunRecord(
            source_id=run_id,
            experiment_source_id=experiment.source_id,
            name=str(meta.get("run_name") or tags.get("mlflow.runName") or ""),
            status=RUN_STATUS.get(status, str(status)) if isinstance(status, int) else str(status),
            start_time=_int(meta.get("start_time")) or 0,
            end_time=_int(meta.get("end_time")),
            lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
            user=str(meta.get("user_id") or tags.get("mlflow.user") or ""),
            artifact_uri=str(meta.get("artifact_uri") or ""),
            params=read_values(folder / "params") if whole else {},
            tags=tags,
            metrics=tuple(points),
        )

    def models(self) -> list[ModelRecord]:
        """Every registered model of ``models/``."""
        found = []
        for folder in _children(self.root / REGISTRY):
            meta = read_yaml(folder / "meta.yaml")
            if "name" not in meta:
                continue
            aliases = {
                p.name: int(p.read_text().strip())
                for p in sorted((folder / "aliases").glob("*"))
                if p.is_file() and p.read_text().strip().isdigit()
            }
            aliases.update({str(k): int(v) for k, v in (meta.get("aliases") or {}).items()})
            found.append(
                ModelRecord(
                    name=str(meta["name"]),
                    description=str(meta.get("description") or ""),
                    tags=read_values(folder / "tags"),
                    aliases=aliases,
                    creation_time=_int(meta.get("creation_timestamp")),
                )
            )
        return sorted(found, key=lambda m: m.name)

    def versions(self, model: ModelRecord) -> list[VersionRecord]:
        """Every ``version-<n>`` of a registered model."""
        folder = self.root / REGISTRY / model.name
        found = []
        for version_folder in folder.glob("version-*"):
            meta = read_yaml(version_folder / "meta.yaml")
            if "version" not in meta:
                continue
            logged = self._logged_model(meta.get("source"))
            found.append(
                VersionRecord(
                    model_name=model.name,
                    version=int(meta["version"]),
                    source=str(meta.get("source") or ""),
                    storage_location=str(
                        meta.get("storage_location") or logged.get("location", "")
                    ),
                    run_id=meta.get("run_id") or None,
                    description=str(meta.get("description") or ""),
                    stage=str(meta.get("current_stage") or "None"),
                    status=str(meta.get("status") or "READY"),
                    creation_time=_int(meta.get("creation_timestamp")),
                    model_id=meta.get("model_id") or None,
                    tags=read_values(version_folder / "tags"),
                    logged_name=str(logged.get("name") or ""),
                )
            )
        return sorted(found, key=lambda v: v.version)

    def _logged_model(self, source: object) -> dict[str, str]:
        """The MLflow 3 logged model a ``models:/m-…`` source names; empty if it names none.

        ``location`` is its artifact folder, ``name`` the name its run logged it under.
        """
        text = str(source or "")
        if not text.startswith("models:/m-"):
            return {}
        model_id = text.removeprefix("models:/")
        for _, folder in self._experiments.values():
            meta = read_yaml(folder / "models" / model_id / "meta.yaml")
            if meta:
                location = (
                    meta.get("artifact_location") or folder / "models" / model_id / "artifacts"
                )
                return {"location": str(location), "name": str(meta.get("name") or "")}
        return {}

    def close(self) -> None:
        """Nothing to release."""


def _children(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in {TRASH, REGISTRY})


def _int(value: Any) -> int | None:
    return (
        int(value)
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit())
        else None
    )
