from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

from mloop.config import Settings
from mloop.context.context import Context
from mloop.context.opening import open_context
from mloop.entities import ViewType
from mloop.importing.mlflow.artifacts import ArtifactReader
from mloop.importing.mlflow.runs import ordered
from mloop.tracking.client import Client
from tests.importing.mlflow.checks import FINISHED_RUNS, check_runs, imported_runs, run_import
from tests.importing.mlflow.stores import MlflowStore

Run = namedtuple("Run", "source_id parent_id")


@pytest.fixture
def context(home: Path) -> Context:
    return open_context(
        Settings(tracking_uri=f"sqlite:///{home}/mloop.db", artifacts_uri=str(home / "a"))
    )


def test_parents_come_before_their_children() -> None:
    runs = [Run("c", "b"), Run("b", "a"), Run("a", None), Run("x", "elsewhere")]
    assert [r.source_id for r in ordered(runs)] == ["a", "x", "b", "c"]


def test_a_cycle_does_not_hang() -> None:
    assert {r.source_id for r in ordered([Run("a", "b"), Run("b", "a")])} == {"a", "b"}


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
