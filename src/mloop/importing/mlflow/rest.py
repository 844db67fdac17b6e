"""Reading a running MLflow server through its REST API 2.0.

Experiments (``experiments/search``), runs (``runs/search``), every metric's
full history (``metrics/get-history``), registered models with their aliases
(``registered-models/search``) and versions (``model-versions/search``);
artifacts through the server's artifact proxy. A version whose source is an
MLflow 3 logged model (``models:/m-…``) is found through
``logged-models/<id>``; one whose source is ``runs:/<id>/<path>`` through its run.

Example:
    >>> tag_map([{"key": "team", "value": "risk"}])
    {'team': 'risk'}
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from mloop.importing.mlflow.artifacts import ArtifactReader
from mloop.importing.mlflow.http import MlflowHttp
from mloop.importing.mlflow.records import (
    ExperimentRecord,
    MetricPoint,
    ModelRecord,
    RunRecord,
    VersionRecord,
)

PAGE = 1000
HISTORY_PAGE = 25000


def tag_map(tags: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """MLflow's ``[{key, value}]`` lists as a mapping."""
    return {str(t["key"]): str(t.get("value") or "") for t in tags or []}


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


class RestSource:
    """A running MLflow server."""

    def __init__(self, http: MlflowHttp) -> None:
        self.http = http
        self.description = http.shown
        self.identity = http.shown
        self.artifacts = ArtifactReader(http)
        self.http.post("experiments/search", {"max_results": 1})  # reachable, and MLflow

    def _pages(self, method: str, endpoint: str, body: dict[str, Any], field: str) -> Iterator[Any]:
        token = None
        while True:
            request = {**body, "page_token": token} if token else dict(body)
            if method == "POST":
                page = self.http.post(endpoint, request)
            else:
                page = self.http.get(endpoint, request)
            yield from page.get(field, [])
            token = page.get("next_page_token")
            if not token:
                return

    def experiments(self) -> list[ExperimentRecord]:
        """Every experiment, deleted ones too, oldest first."""
        found = [
            ExperimentRecord(
                source_id=str(e["experiment_id"]),
                name=str(e["name"]),
                lifecycle_stage=str(e.get("lifecycle_stage") or "active"),
                creation_time=_int(e.get("creation_time")),
                tags=tag_map(e.get("tags")),
            )
            for e in self._pages(
                "POST",
                "experiments/search",
                {"max_results": PAGE, "view_type": "ALL"},
                "experiments",
            )
        ]
        return sorted(found, key=lambda e: (e.creation_time or 0, e.source_id))

    def runs(
        self, experiment: ExperimentRecord, known: Collection[str] = frozenset()
    ) -> Iterator[RunRecord]:
        """Every run of an experiment, with each metric's full history (not for ``known`` runs)."""
        body = {
            "experiment_ids": [experiment.source_id],
            "run_view_type": "ALL",
            "max_results": PAGE,
        }
        for run in self._pages("POST", "runs/search", body, "runs"):
            info, data = run["info"], run.get("data") or {}
            tags = tag_map(data.get("tags"))
            run_id = str(info["run_id"])
            keys = sorted({str(m["key"]) for m in data.get("metrics") or []})
            if run_id in known:
                keys = []
            points = tuple(p for key in keys for p in self._history(run_id, key))
            yield RunRecord(
                source_id=run_id,
                experiment_source_id=experiment.source_id,
                name=str(info.get("run_name") or tags.get("mlflow.runName") or ""),
                status=str(info.get("status") or "FINISHED"),
                start_time=_int(info.get("start_time")) or 0,
                end_time=_int(info.get("end_time")),
                lifecycle_stage=str(info.get("lifecycle_stage") or "active"),
                user=str(info.get("user_id") or tags.get("mlflow.user") or ""),
                artifact_uri=str(info.get("artifact_uri") or ""),
                params=tag_map(data.get("params")),
                tags=tags,
                metrics=points,
            )

    def _history(self, run_id: str, key: str) -> list[MetricPoint]:
        body = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
        return [
            MetricPoint(
                key, float(m["value"]), int(m.get("timestamp") or 0), int(m.get("step") or 0)
            )
            for m in self._pages("GET", "metrics/get-history", body, "metrics")
        ]

    def models(self) -> list[ModelRecord]:
        """Every registered model with its tags and aliases."""
        found = [
            ModelRecord(
                name=str(m["name"]),
                description=str(m.get("description") or ""),
                tags=tag_map(m.get("tags")),
                aliases={str(a["alias"]): int(a["version"]) for a in m.get("aliases") or []},
                creation_time=_int(m.get("creation_timestamp")),
            )
            for m in self._pages(
                "GET", "registered-models/search", {"max_results": PAGE}, "registered_models"
            )
        ]
        return sorted(found, key=lambda m: m.name)

    def versions(self, model: ModelRecord) -> list[VersionRecord]:
        """Every version of a registered model, with where its files are."""
        quoted = model.name.replace("'", "\\'")
        body = {"filter": f"name='{quoted}'", "max_results": PAGE}
        found = []
        for v in self._pages("GET", "model-versions/search", body, "model_versions"):
            location, logged_name = self._files_of(v)
            found.append(
                VersionRecord(
                    model_name=model.name,
                    version=int(v["version"]),
                    source=str(v.get("source") or ""),
                    storage_location=location,
                    run_id=v.get("run_id") or None,
                    description=str(v.get("description") or ""),
                    stage=str(v.get("current_stage") or "None"),
                    status=str(v.get("status") or "READY"),
                    creation_time=_int(v.get("creation_timestamp")),
                    model_id=v.get("model_id") or None,
                    tags=tag_map(v.get("tags")),
                    logged_name=logged_name,
                )
            )
        return sorted(found, key=lambda v: v.version)

    def _files_of(self, version: Mapping[str, Any]) -> tuple[str, str]:
        """Where a version's MLflow model folder is (an artifact URI), and its logged name.

        The name is that of its MLflow 3 logged model; empty for a version made otherwise.
        """
        source = str(version.get("source") or "")
        model_id = version.get("model_id") or (
            source.removeprefix("models:/") if source.startswith("models:/m-") else None
        )
        if model_id:
            found = self.http.get(f"logged-models/{model_id}")
            info = (found.get("model") or {}).get("info") or {}
            if info.get("artifact_uri"):
                return str(info["artifact_uri"]), str(info.get("name") or "")
        if source.startswith("runs:/"):
            run_id, _, path = source.removeprefix("runs:/").partition("/")
            run = self.http.get("runs/get", {"run_id": run_id})
            return f"{run['run']['info']['artifact_uri']}/{path}".rstrip("/"), ""
        return source, ""

    def close(self) -> None:
        """Nothing to release (a connection per request)."""
