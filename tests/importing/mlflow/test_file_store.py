from __future__ import annotations

from pathlib import Path

import pytest

from mloop.config import Settings
from mloop.context.context import Context
from mloop.context.opening import open_context
from mloop.errors import InvalidInput
from mloop.importing.mlflow import ImportStopped, import_mlflow
from mloop.importing.mlflow.artifacts import ArtifactReader
from mloop.importing.mlflow.file_store import FileSource, read_metric_lines, read_values
from mloop.tracking.client import Client
from tests.importing.mlflow.checks import check_all, run_import
from tests.importing.mlflow.stores import MlflowStore


@pytest.fixture
def context(home: Path) -> Context:
    return open_context(
        Settings(tracking_uri=f"sqlite:///{home}/mloop.db", artifacts_uri=str(home / "a"))
    )


def test_an_mlruns_folder_comes_over_whole_and_once(
    mlruns_store: MlflowStore, context: Context
) -> None:
    check_all(mlruns_store, context)


def test_a_file_uri_names_the_folder_too(mlruns_store: MlflowStore, context: Context) -> None:
    summary = import_mlflow(Path(mlruns_store.source).as_uri(), context=context)
    assert summary.runs.brought == 3


def test_a_dry_run_counts_and_writes_nothing(mlruns_store: MlflowStore, context: Context) -> None:
    steps: list[tuple[int, int]] = []
    summary = run_import(mlruns_store, context, dry_run=True, progress=lambda *s: steps.append(s))
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]  # two experiments, two models
    assert summary.dry_run
    assert (summary.experiments.brought, summary.runs.brought, summary.versions.brought) == (
        2,
        3,
        3,
    )
    assert summary.artifact_files.brought >= 2
    client = Client(context=context)
    assert client.get_experiment_by_name("credit") is None
    assert context.stores.models.list_models() == []


def test_only_the_named_experiments(mlruns_store: MlflowStore, context: Context) -> None:
    summary = run_import(mlruns_store, context, experiments=["Default"])
    assert (summary.experiments.brought, summary.runs.brought) == (1, 0)
    assert summary.models.brought == 0  # their versions' runs are in credit
    with pytest.raises(InvalidInput, match=r"no experiment named 'nope'.*credit"):
        run_import(mlruns_store, context, experiments=["nope"])


def test_a_folder_that_is_not_mlruns_is_refused(tmp_path: Path, context: Context) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "meta.yaml").write_text("title: not mlflow\n")
    with pytest.raises(InvalidInput, match="is not an MLflow mlruns folder"):
        import_mlflow(str(tmp_path), context=context)
    assert Client(context=context).search_experiments() == []


def test_an_empty_registry_folder_is_an_mlflow_store(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    source = FileSource(tmp_path, ArtifactReader())
    assert (source.experiments(), source.models()) == ([], [])


def test_metric_lines_with_and_without_a_step() -> None:
    points = read_metric_lines("loss", ["10 0.5 3", "11 nan", "", "garbage"])
    assert [(p.timestamp, p.step) for p in points] == [(10, 3), (11, 0)]
    assert points[1].value != points[1].value  # NaN


def test_keys_with_a_slash_are_nested_files(tmp_path: Path) -> None:
    (tmp_path / "tags" / "team").mkdir(parents=True)
    (tmp_path / "tags" / "team" / "lead").write_text("ana")
    assert read_values(tmp_path / "tags") == {"team/lead": "ana"}
    assert read_values(tmp_path / "none") == {}


def test_a_stopped_import_says_what_it_brought_and_the_next_brings_the_rest(
    mlruns_store: MlflowStore, context: Context
) -> None:
    def stop_after_the_first_experiment(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(ImportStopped) as stopped:
        import_mlflow(
            mlruns_store.source, context=context, progress=stop_after_the_first_experiment
        )
    first = stopped.value.summary
    assert first.experiments.brought == 1 and first.models.brought == 0
    assert stopped.value.brought().startswith("1 experiments, ")
    rest = import_mlflow(mlruns_store.source, context=context)
    assert rest.runs.brought + first.runs.brought == 3
    assert rest.versions.brought == 3
