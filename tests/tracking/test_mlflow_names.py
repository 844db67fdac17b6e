"""MLflow's top-level tracking names and client methods behave as MLflow's do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import mloop
from mloop.entities import LifecycleStage, Metric, Param, RunStatus, RunTag, ViewType
from mloop.errors import AlreadyExists, FilterSyntaxError, InvalidInput, NotFound
from mloop.tracking import active_runs, entity_filter


def test_experiments_are_created_found_searched_and_deleted(home: Path) -> None:
    first = mloop.create_experiment("credit", tags={"team": "risk"})
    second = mloop.create_experiment("churn", tags={"team": "growth"})
    with pytest.raises(AlreadyExists):
        mloop.create_experiment("credit")
    assert mloop.get_experiment(first).name == "credit"
    found = mloop.get_experiment_by_name("churn")
    assert found is not None and found.experiment_id == second
    assert mloop.get_experiment_by_name("nothing") is None
    with pytest.raises(NotFound):
        mloop.get_experiment("987654")

    def names(**kwargs: object) -> list[str]:
        return [e.name for e in mloop.search_experiments(**kwargs)]  # type: ignore[arg-type]

    assert names(filter_string="tags.team = 'risk'") == ["credit"]
    assert names(filter_string="name LIKE 'c%' AND tags.team != 'risk'") == ["churn"]
    assert names(filter_string="name ILIKE 'CH%' OR name = 'credit'") == ["credit", "churn"]
    assert names(filter_string="name IN ('churn', 'x')") == ["churn"]
    assert names(order_by=["name DESC"], max_results=1) == ["credit"]
    assert names(order_by=["name"], filter_string="name != 'Default'") == ["churn", "credit"]

    mloop.delete_experiment(first)
    assert "credit" not in names()
    assert names(view_type=ViewType.DELETED_ONLY) == ["credit"]
    assert names(view_type=ViewType.ALL, filter_string="lifecycle_stage = 'deleted'") == ["credit"]
    assert mloop.get_experiment(first).lifecycle_stage == LifecycleStage.DELETED


def test_experiment_filters_refuse_what_they_cannot_compare(home: Path) -> None:
    mloop.create_experiment("credit")
    with pytest.raises(InvalidInput, match=r"cannot filter on attribute\.run_id"):
        mloop.search_experiments(filter_string="run_id = 'x'")
    with pytest.raises(InvalidInput, match="cannot order by 'colour'"):
        mloop.search_experiments(order_by=["colour"])
    with pytest.raises(InvalidInput, match="FIELD DESC"):
        mloop.search_experiments(order_by=["name sideways"])
    with pytest.raises(FilterSyntaxError):
        mloop.search_experiments(filter_string="name = ")


def test_a_missing_tag_matches_no_comparison() -> None:
    rows = [{"name": "a", "tags": {"k": "v"}}, {"name": "b"}]
    assert entity_filter.select(rows, "tags.k != 'v'", fields={"name"}) == []
    assert entity_filter.select(rows, "NOT tags.k = 'v'", fields={"name"}) == [{"name": "b"}]
    assert entity_filter.select(rows, "name NOT LIKE 'a%'", fields={"name"}) == [{"name": "b"}]
    with pytest.raises(FilterSyntaxError, match="string field"):
        entity_filter.select(rows, "name > 'a'", fields={"name"})


def test_the_mlflow_run_name_tag_names_a_run(home: Path) -> None:
    with mloop.start_run(tags={"mlflow.runName": "from-tag"}) as run:
        pass
    stored = mloop.get_run(run.info.run_id)
    assert stored.info.run_name == "from-tag"
    assert stored.data.tags["mlflow.runName"] == "from-tag"
    with mloop.start_run(run_name="explicit", tags={"mlflow.runName": "ignored"}) as other:
        pass
    assert mloop.get_run(other.info.run_id).info.run_name == "explicit"
    client = mloop.Client()
    exp = client.create_experiment("by-client")
    created = client.create_run(exp, tags={"mlflow.runName": "client-tag"})
    assert created.info.run_name == "client-tag"
    # The tag as a script reads once "mlflow" is replaced by "mloop".
    assert client.create_run(exp, tags={"mloop.runName": "renamed"}).info.run_name == "renamed"


def test_last_active_run_is_the_active_or_the_last_started(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(active_runs, "_last_run_id", None)
    assert mloop.last_active_run() is None
    with mloop.start_run() as run:
        mloop.log_metric("loss", 0.5)
        active = mloop.last_active_run()
        assert active is not None and active.info.run_id == run.info.run_id
        assert active.info.status == RunStatus.RUNNING
    last = mloop.last_active_run()
    assert last is not None and last.info.run_id == run.info.run_id
    assert last.info.status == RunStatus.FINISHED
    assert last.data.metrics == {"loss": 0.5}


def test_get_artifact_uri_names_the_run_root_and_paths_in_it(home: Path) -> None:
    with mloop.start_run() as run:
        root = mloop.get_artifact_uri()
        assert root == run.info.artifact_uri
        assert mloop.get_artifact_uri("model/MLmodel") == f"{root}/model/MLmodel"
    # No active run: like MLflow, one is started.
    assert mloop.get_artifact_uri().startswith("mloop-artifacts:/")
    mloop.end_run()


def test_client_run_methods_take_mlflows_entities(home: Path, tmp_path: Path) -> None:
    client = mloop.MlflowClient()
    exp = client.create_experiment("batch")
    run_id = client.create_run(exp).info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, now, 0), Metric("loss", 0.25, now + 1, 1)],
        params=[Param("lr", "0.1")],
        tags=[RunTag("team", "risk")],
    )
    (tmp_path / "notes.txt").write_text("hello")
    client.log_artifact(run_id, tmp_path / "notes.txt", "docs")
    client.set_terminated(run_id)
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.25)]
    data = client.get_run(run_id).data
    assert (data.params, data.tags["team"]) == ({"lr": "0.1"}, "risk")
    listed = client.list_artifacts(run_id)
    assert [(a.path, a.is_dir) for a in listed] == [("docs", True)]
    assert [a.path for a in client.list_artifacts(run_id, "docs")] == ["docs/notes.txt"]
    local = client.download_artifacts(run_id, "docs/notes.txt", tmp_path / "out")
    assert Path(local).read_text() == "hello"


def test_experiment_zero_is_the_default_experiment(home: Path) -> None:
    default = mloop.set_experiment(experiment_id="0")
    assert default.name == "Default" and default.experiment_id != "0"
    assert mloop.get_experiment("0").experiment_id == default.experiment_id
    client = mloop.Client()
    run = client.create_run("0")
    assert run.info.experiment_id == default.experiment_id
    client.set_terminated(run.info.run_id)
    found = client.search_runs(["0"])
    assert [r.info.run_id for r in found] == [run.info.run_id]
    with mloop.start_run(experiment_id="0") as active:
        pass
    assert mloop.get_run(active.info.run_id).info.experiment_id == default.experiment_id
    with pytest.raises(NotFound):
        mloop.set_experiment(experiment_id="987654")


def test_synchronous_writes_are_durable_when_the_call_returns(home: Path) -> None:
    import sqlite3

    def stored(table: str, run_id: str) -> int:
        with sqlite3.connect(home / "mloop.db") as db:
            query = f"SELECT COUNT(*) FROM {table} WHERE run_id = ?"
            return int(db.execute(query, (run_id,)).fetchone()[0])

    client = mloop.Client()
    with mloop.start_run() as run:
        run_id = run.info.run_id
        mloop.log_metric("loss", 0.5, step=1, synchronous=False)
        mloop.log_metrics({"acc": 0.9, "f1": 0.8}, synchronous=True)
        assert client._backend.writer.pending == 0
        assert stored("metrics", run_id) == 3
        mloop.log_param("lr", 0.1, synchronous=True)
        mloop.log_params({"depth": 3}, synchronous=True)
        mloop.set_tag("team", "risk", synchronous=True)
        mloop.set_tags({"stage": "dev"}, synchronous=True)
        assert stored("params", run_id) == 2
        assert client._backend.writer.pending == 0
        client.log_batch(run_id, metrics=[Metric("m", 1.0, 0, 0)], synchronous=True)
        assert stored("metrics", run_id) == 4
        with pytest.raises(InvalidInput, match="synchronous is True, False or None"):
            mloop.log_metric("loss", 0.1, step=2, synchronous="yes")  # type: ignore[arg-type]
    assert [m.step for m in mloop.get_metric_history(run_id, "loss")] == [1]
    assert mloop.get_run(run_id).data.tags["team"] == "risk"


def test_search_all_experiments_searches_every_active_experiment(home: Path) -> None:
    ids = []
    for name in ("a", "b", "gone"):
        mloop.set_experiment(name)
        with mloop.start_run() as run:
            ids.append(run.info.run_id)
    mloop.delete_experiment(mloop.get_experiment_by_name("gone").experiment_id)  # type: ignore[union-attr]
    found = mloop.search_runs(search_all_experiments=True, output_format="list")
    assert sorted(r.info.run_id for r in found) == sorted(ids[:2])
    frame = mloop.search_runs(search_all_experiments=True)
    assert sorted(frame["run_id"]) == sorted(ids[:2])
    only_b = mloop.search_runs(experiment_names=["b"], search_all_experiments=True)
    assert list(only_b["run_id"]) == [ids[1]]


def test_delete_run_moves_a_run_to_the_bin(home: Path) -> None:
    with mloop.start_run() as run:
        pass
    mloop.delete_run(run.info.run_id)
    assert mloop.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert len(mloop.search_runs()) == 0
    with pytest.raises(NotFound):
        mloop.delete_run("no-such-run")


def test_metric_arguments_come_in_mlflows_order(home: Path) -> None:
    client = mloop.Client()
    with mloop.start_run() as other:
        pass
    with mloop.start_run() as run:
        mloop.log_metric("loss", 0.5, 3, True)  # MLflow: key, value, step, synchronous
        assert client._backend.writer.pending == 0
        client.log_metric(run.info.run_id, "auc", 0.9, 1_700_000_000_000, 7)  # timestamp, step
        mloop.log_metric("elsewhere", 1.0, run_id=other.info.run_id)
        mloop.log_metrics({"a": 1.0}, 2, False, other.info.run_id)
        mloop.log_params({"p": 1}, True, other.info.run_id)
    [auc] = mloop.get_metric_history(run.info.run_id, "auc")
    assert (auc.timestamp, auc.step) == (1_700_000_000_000, 7)
    assert [m.step for m in mloop.get_metric_history(run.info.run_id, "loss")] == [3]
    moved = mloop.get_run(other.info.run_id).data
    assert (moved.metrics, moved.params) == ({"elsewhere": 1.0, "a": 1.0}, {"p": "1"})
    assert set(mloop.get_run(run.info.run_id).data.metrics) == {"loss", "auc"}
