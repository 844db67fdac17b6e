from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

from mloop.config import Settings
from mloop.context.context import Context
from mloop.context.opening import open_context
from mloop.entities import Run, ViewType
from mloop.importing.mlflow import import_mlflow
from mloop.importing.mlflow.artifacts import ArtifactReader
from mloop.importing.mlflow.runs import ordered
from mloop.tracking.client import Client
from tests.importing.mlflow.checks import FINISHED_RUNS, check_runs, imported_runs, run_import
from tests.importing.mlflow.stores import MlflowStore

Nested = namedtuple("Nested", "source_id parent_id")


@pytest.fixture
def context(home: Path) -> Context:
    return open_context(
        Settings(tracking_uri=f"sqlite:///{home}/mloop.db", artifacts_uri=str(home / "a"))
    )


def test_parents_come_before_their_children() -> None:
    runs = [Nested("c", "b"), Nested("b", "a"), Nested("a", None), Nested("x", "elsewhere")]
    assert [r.source_id for r in ordered(runs)] == ["a", "x", "b", "c"]


def test_a_cycle_does_not_hang() -> None:
    assert {r.source_id for r in ordered([Nested("a", "b"), Nested("b", "a")])} == {"a", "b"}


def test_an_interrupted_import_leaves_whole_runs_and_the_next_one_finishes(
    mlruns_store: MlflowStore, context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C arrives while the second file of the parent run (the first with artifacts) is fetched.
    real_fetch = ArtifactReader.fetch
    fetched: list[str] = []

    def interrupted(self: ArtifactReader, uri: str, path: str, scratch: Path) -> Path:
        fetched.append(path)
        if len(fetched) == 2:
            raise KeyboardInterrupt
        return real_fetch(self, uri, path, scratch)

    monkeypatch.setattr(ArtifactReader, "fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_import(mlruns_store, context)
    client = Client(context=context)
    experiment = client.get_experiment_by_name("credit")
    assert experiment is not None
    written = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)
    assert "parent" not in {r.info.run_name for r in written}  # whole or not at all
    for run in written:  # what was written is complete
        assert client.get_metric_history(run.info.run_id, "acc")

    monkeypatch.setattr(ArtifactReader, "fetch", real_fetch)
    summary = run_import(mlruns_store, context)
    assert summary.runs.brought + summary.runs.already == len(FINISHED_RUNS)
    assert summary.runs.brought >= 1
    check_runs(client, mlruns_store)
    assert sorted(imported_runs(client)) == sorted(FINISHED_RUNS)


def write_run(experiment: Path, run_id: str, status: int = 3, **tags: str) -> None:
    """A run folder as MLflow's file store writes it."""
    folder = experiment / run_id
    (folder / "tags").mkdir(parents=True)
    (folder / "meta.yaml").write_text(
        f"run_id: {run_id}\nrun_name: r-{run_id[:4]}\nexperiment_id: '{experiment.name}'\n"
        f"status: {status}\nstart_time: 1700000000000\nend_time: 1700000001000\n"
        "lifecycle_stage: active\nuser_id: ana\nartifact_uri: ''\n"
    )
    for key, value in tags.items():
        (folder / "tags" / key).write_text(value)


def write_experiment(root: Path, experiment_id: str, name: str) -> Path:
    folder = root / experiment_id
    folder.mkdir(parents=True)
    (folder / "meta.yaml").write_text(
        f"experiment_id: '{experiment_id}'\nname: {name}\nlifecycle_stage: active\n"
        "creation_time: 1700000000000\n"
    )
    return folder


def test_what_mloop_would_refuse_is_left_out_with_the_reason(
    tmp_path: Path, context: Context
) -> None:
    mlruns = tmp_path / "mlruns"
    write_experiment(mlruns, "1", '"bad\\u0007name"')
    good = write_experiment(mlruns, "2", "good")
    write_run(good, "a" * 32, **{"odd*key": "x"})
    write_run(good, "b" * 32)
    write_run(good, "c" * 32, status=2)
    summary = import_mlflow(str(mlruns), context=context)
    (bad,) = summary.skipped["experiment mloop cannot store"]
    assert "control characters" in summary.details[("experiment mloop cannot store", bad)]
    run_reason = "run mloop cannot store"
    assert "odd*key" in summary.details[(run_reason, "a" * 32)]
    assert summary.skipped[run_reason] == ["a" * 32]
    assert summary.skipped["unfinished run (SCHEDULED)"] == ["c" * 32]
    (run,) = imported_runs_of(context, "good")
    assert run.data.tags["mloop.user"] == "ana"
    assert (run.info.start_time, run.info.end_time) == (1700000000000, 1700000001000)


def imported_runs_of(context: Context, name: str) -> list[Run]:
    client = Client(context=context)
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    return list(client.search_runs([experiment.experiment_id]))


def test_values_stored_masked_are_noted(tmp_path: Path, context: Context) -> None:
    mlruns = tmp_path / "mlruns"
    experiment = write_experiment(mlruns, "1", "keys")
    write_run(experiment, "d" * 32, deploy_token="abc123", team="risk")
    (experiment / ("d" * 32) / "params").mkdir()
    (experiment / ("d" * 32) / "params" / "api_key").write_text("sk-not-shown")
    write_run(experiment, "e" * 32, **{"bad*key": "x", "password": "hidden"})
    summary = import_mlflow(str(mlruns), context=context)
    assert summary.notes == {
        "param values stored masked (they look like secrets)": [f"{'d' * 32}: api_key"],
        "tag values stored masked (they look like secrets)": [f"{'d' * 32}: deploy_token"],
    }
    (run,) = imported_runs_of(context, "keys")
    assert run.data.params["api_key"] == "***REDACTED***"
    assert run.data.tags["team"] == "risk"
