"""What every kind of MLflow source must bring: one check, run against each."""

from __future__ import annotations

import math

import pytest

import mloop
from mloop.context.context import Context
from mloop.entities import RunStatus, ViewType
from mloop.errors import InvalidInput, NotFound
from mloop.importing.mlflow import ImportSummary, import_mlflow
from mloop.importing.mlflow.runs import RUN_ID_TAG
from mloop.models import registry
from mloop.models.api import load
from mloop.models.package import parse_manifest
from mloop.tracking.client import Client
from tests.importing.mlflow.stores import MlflowStore

FINISHED_RUNS = ("parent", "child-a", "child-b")
X = [[0.0, 1.0], [1.0, 0.0]]


def run_import(store: MlflowStore, context: Context, **options: object) -> ImportSummary:
    """Import ``store`` into the store of ``context``."""
    return import_mlflow(store.source, server=store.server, context=context, **options)  # type: ignore[arg-type]


def check_first_import(summary: ImportSummary) -> None:
    """Counts of a first import of the store write_store.py writes."""
    assert summary.experiments.brought == 2  # MLflow's Default and credit
    assert summary.runs.brought == 3
    assert summary.metric_points.brought >= 5 + 1 + 2 + 2
    assert summary.artifact_files.brought >= 2
    assert summary.models.brought == 2
    assert summary.versions.brought == 3
    assert summary.aliases.brought == 1
    assert summary.skipped["deleted experiment"] == ["abandoned"]
    assert len(summary.skipped["deleted run"]) == 1
    assert len(summary.skipped["unfinished run (RUNNING)"]) == 1


def check_nothing_new(summary: ImportSummary) -> None:
    """A second import brings nothing and finds everything there."""
    for kind in ("experiments", "runs", "metric_points", "artifact_files", "models", "versions"):
        assert summary.count(kind).brought == 0, kind
    assert summary.aliases.brought == 0
    assert (summary.runs.already, summary.versions.already, summary.aliases.already) == (3, 3, 1)
    assert summary.notes == {}  # nothing changed in MLflow since


def imported_runs(client: Client) -> dict[str, mloop.Run]:
    """The imported runs of ``credit`` by run name."""
    experiment = client.get_experiment_by_name("credit")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)
    return {r.info.run_name: r for r in runs}


def check_runs(client: Client, store: MlflowStore) -> None:
    """Names, params, tags, full histories, status, times, user, nesting, artifacts."""
    runs = imported_runs(client)
    assert sorted(runs) == sorted(FINISHED_RUNS)
    parent = runs["parent"]
    assert parent.data.tags[RUN_ID_TAG] == store.ids["parent"]
    assert parent.data.params == {"lr": "0.1", "depth": "3"}
    assert parent.data.tags["stage"] == "search"
    assert parent.data.tags["mloop.user"]
    assert parent.info.status == RunStatus.FINISHED
    assert parent.info.end_time is not None and parent.info.end_time >= parent.info.start_time
    history = client.get_metric_history(parent.info.run_id, "loss")
    assert sorted({(m.step, m.value) for m in history}) == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert all(m.timestamp > 1_600_000_000_000 for m in history)
    assert math.isnan(client.get_metric_history(parent.info.run_id, "nan_metric")[0].value)
    for child in ("child-a", "child-b"):
        assert runs[child].info.parent_run_id == parent.info.run_id
        acc = client.get_metric_history(runs[child].info.run_id, "acc")
        assert [(m.step, m.value) for m in acc] == [(0, 0.5), (1, 0.75)]
    text = client.download_artifacts(parent.info.run_id, "notes.txt")
    with open(text) as handle:
        assert handle.read() == "hello from mlflow\n"
    paths = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert paths == {"plots/curve.csv"}


def check_models(context: Context, client: Client, store: MlflowStore) -> None:
    """Versions in order with their run, description, stage and tags; the alias; loading."""
    model = registry.get_model("scorer", context=context)
    assert model.description == "scores credit"
    assert model.tags["owner"] == "risk-team"
    assert model.tags["mloop.import.version.1.stage"] == "Staging"
    assert model.tags["mloop.import.version.1.tag.validated"] == "yes"
    versions = registry.list_versions("scorer", context=context)
    assert [(v.version, v.source) for v in versions] == [
        (1, f"mlflow:models:/scorer/1?run_id={store.ids['parent']}"),
        (2, f"mlflow:models:/scorer/2?run_id={store.ids['parent']}"),
    ]
    parent = imported_runs(client)["parent"]
    assert {v.run_id for v in versions} == {parent.info.run_id}
    assert versions[1].description == "second try"
    assert registry.get_version("scorer@champion", context=context).version == 2
    full = context.stores.models.get_version("scorer", 1, with_files=True)
    manifest_file = next(f for f in full.files if f.path == "mloop-model.yaml")
    manifest = parse_manifest(client.content.get_bytes(manifest_file.digest))
    assert manifest.flavor == "mlflow"
    assert manifest.metadata["mlflow"]["stage"] == "Staging"
    assert manifest.metadata["mlflow"]["tags"] == {"validated": "yes"}
    assert manifest.metadata["mlflow"]["artifact_path"] == "model"
    assert any(f.path == "mlflow_model/MLmodel" for f in manifest.files)
    predictions = load("models:/scorer@champion", context=context).predict(X)
    assert list(predictions) == [0, 1]
    with pytest.raises(InvalidInput, match=r"not loadable by mloop.*cloudpickle.*log_model"):
        load("models:/legacy/1", context=context)
    check_run_uris(context, parent, store)


def check_run_uris(context: Context, parent: mloop.Run, store: MlflowStore) -> None:
    """``runs:/<imported run>/<name>`` loads the model MLflow logged there and registered."""
    run_id = parent.info.run_id
    # As a user who moved from MLflow loads it: the flavor modules, through the fluent store.
    mloop.set_tracking_uri(
        context.settings.tracking_uri, artifacts_uri=context.settings.artifacts_uri
    )
    assert list(mloop.pyfunc.load_model(f"runs:/{run_id}/model").predict(X)) == [0, 1]
    estimator = mloop.sklearn.load_model(f"runs:/{run_id}/model2")
    assert estimator.C == 0.5
    second = load(f"runs:/{run_id}/model2", context=context)
    assert second.digest == registry.get_version("scorer/2", context=context).digest
    unregistered = rf"MLflow run {store.ids['parent']}.*Register it in MLflow.*runs:/"
    with pytest.raises(NotFound, match=unregistered):
        load(f"runs:/{run_id}/unregistered", context=context)


def check_all(store: MlflowStore, context: Context) -> None:
    """Import twice: everything arrives once, the second import adds nothing."""
    client = Client(context=context)
    check_first_import(run_import(store, context))
    check_runs(client, store)
    check_models(context, client, store)
    check_nothing_new(run_import(store, context))
    assert len(imported_runs(client)) == len(FINISHED_RUNS)
