from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.artifacts.cas import ContentStore
from mloop.entities import RunStatus
from mloop.errors import Conflict, InvalidInput, NotFound


def test_run_lifecycle(home: Path) -> None:
    mloop.set_experiment("credit")
    with mloop.start_run(run_name="baseline") as run:
        assert mloop.active_run() is run
        mloop.log_param("lr", 0.1)
        mloop.log_params({"depth": 3, "api_token": "s3cret"})
        for step in range(5):
            mloop.log_metric("loss", 1.0 / (step + 1), step=step)
        mloop.log_metrics({"auc": 0.9, "f1": 0.8})
        mloop.set_tag("team", "risk")
        mloop.set_tags({"stage": "dev", "password": "x"})
        mloop.log_text("hello", "notes/readme.txt")
        mloop.log_dict({"a": 1}, "config/cfg.json")
    assert mloop.active_run() is None
    stored = mloop.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.info.end_time is not None
    assert stored.info.run_name == "baseline"
    assert stored.data.params == {"lr": "0.1", "depth": "3", "api_token": "***REDACTED***"}
    assert stored.data.metrics == {"loss": 0.2, "auc": 0.9, "f1": 0.8}
    assert stored.data.tags["team"] == "risk"
    assert stored.data.tags["password"] == "***REDACTED***"
    assert "mloop.source.name" in stored.data.tags
    assert "mloop.python_version" in stored.data.tags
    history = mloop.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    client = mloop.Client()
    assert client.load_text(run.info.run_id, "notes/readme.txt") == "hello"
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["config", "notes"]


def test_exception_marks_run_failed_after_flushing(home: Path) -> None:
    with pytest.raises(ZeroDivisionError), mloop.start_run() as run:
        mloop.log_metric("before", 1.0)
        _ = 1 / 0
    stored = mloop.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FAILED
    assert "ZeroDivisionError" in (stored.info.error or "")
    assert stored.data.metrics == {"before": 1.0}
    assert mloop.active_run() is None


def test_keyboard_interrupt_marks_run_killed(home: Path) -> None:
    with pytest.raises(KeyboardInterrupt), mloop.start_run() as run:
        raise KeyboardInterrupt
    assert mloop.get_run(run.info.run_id).info.status == RunStatus.KILLED


def test_nested_runs_and_resume(home: Path) -> None:
    with mloop.start_run(run_name="parent") as parent:
        with pytest.raises(Conflict, match="already active"):
            mloop.start_run()
        with mloop.start_run(run_name="child", nested=True) as child:
            mloop.log_metric("m", 1)
        assert mloop.active_run() is parent
    assert mloop.get_run(child.info.run_id).info.parent_run_id == parent.info.run_id
    with mloop.start_run(run_id=parent.info.run_id) as resumed:
        assert resumed.info.run_id == parent.info.run_id
        mloop.log_metric("later", 2)
    stored = mloop.get_run(parent.info.run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.data.metrics == {"later": 2.0}
    with pytest.raises(NotFound):
        mloop.start_run(run_id="nope")


def test_logging_without_active_run_starts_one(home: Path) -> None:
    mloop.log_metric("x", 1)
    run = mloop.active_run()
    assert run is not None
    mloop.end_run()
    assert mloop.get_run(run.info.run_id).data.metrics == {"x": 1.0}
    assert (
        mloop.get_run(run.info.run_id).info.experiment_id
        == mloop.set_experiment("Default").experiment_id
    )


def test_logging_without_active_run_when_none_can_be_created(home: Path) -> None:
    mloop.set_tracking_uri("mysql://nobody@nowhere/db")
    with pytest.raises(InvalidInput, match="no active run, and none could be started"):
        mloop.log_metric("x", 1)


def test_bad_input_raises_before_writing(home: Path) -> None:
    with mloop.start_run() as run:
        with pytest.raises(InvalidInput, match="must be a number"):
            mloop.log_metric("loss", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="must be a number"):
            mloop.log_metrics({"ok": 1.0, "bad": "x"})  # type: ignore[dict-item]
        with pytest.raises(InvalidInput, match="limit is 250"):
            mloop.log_param("k" * 251, 1)
        with pytest.raises(InvalidInput, match="invalid param name"):
            mloop.log_param("bad\nname", 1)
        with pytest.raises(InvalidInput, match="6000"):
            mloop.log_param("big", "x" * 6001)
        with pytest.raises(InvalidInput, match="step"):
            mloop.log_metric("m", 1.0, step=-1)
        mloop.log_param("lr", 0.1)
        with pytest.raises(Conflict, match="immutable"):
            mloop.log_param("lr", 0.2)
        with pytest.raises(InvalidInput, match="stay inside the run"):
            mloop.log_text("x", "../escape.txt")
        with pytest.raises(NotFound):
            mloop.log_artifact(home / "missing.bin")
        with pytest.raises(InvalidInput):
            mloop.log_input(object())
    stored = mloop.get_run(run.info.run_id)
    assert stored.data.metrics == {}
    assert stored.data.params == {"lr": "0.1"}


def test_nan_and_inf_are_stored_faithfully(home: Path) -> None:
    with mloop.start_run() as run:
        mloop.log_metrics({"nan": math.nan, "inf": math.inf, "ninf": -math.inf})
    metrics = mloop.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf
    assert metrics["ninf"] == -math.inf
    assert math.isnan(mloop.get_metric_history(run.info.run_id, "nan")[0].value)


def test_artifacts_directory_tree(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "model"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    (tmp_path / "single.txt").write_text("single")
    with mloop.start_run() as run:
        mloop.log_artifact(tree)
        mloop.log_artifacts(tree, artifact_path="flat")
        mloop.log_artifact(tmp_path / "single.txt", artifact_path="docs")
    client = mloop.Client()
    run_id = run.info.run_id
    assert [a.path for a in client.list_artifacts(run_id)] == ["docs", "flat", "model"]
    assert [a.path for a in client.list_artifacts(run_id, "model")] == ["model/a.txt", "model/sub"]
    assert [a.path for a in client.list_artifacts(run_id, "model", recursive=True)] == [
        "model/a.txt",
        "model/sub/b.txt",
    ]
    out = Path(client.download_artifacts(run_id, "model", tmp_path / "out"))
    assert (out / "sub" / "b.txt").read_text() == "b"
    assert client.load_text(run_id, "flat/sub/b.txt") == "b"
    with pytest.raises(NotFound):
        client.download_artifacts(run_id, "nothing-here", tmp_path / "out2")
    # identical content is stored once
    objects = [o.digest for o in ContentStore(str(home / "artifacts")).iter_objects()]
    assert len(objects) == 3


def test_log_input_and_output(home: Path) -> None:
    class Version:
        digest = "d" * 64
        name = "credit@3"
        kind = "dataset"
        source = "file:///data/credit.csv"

    with mloop.start_run() as run:
        mloop.log_input(Version(), context="training")
        mloop.log_output(Version())
    stored = mloop.get_run(run.info.run_id)
    assert [(i.name, i.context, i.kind) for i in stored.inputs] == [
        ("credit@3", "training", "dataset")
    ]
    assert [o.direction for o in stored.outputs] == ["output"]


def test_search_runs_dataframe(home: Path) -> None:
    mloop.set_experiment("search")
    for i in range(4):
        with mloop.start_run(run_name=f"r{i}"):
            mloop.log_params({"lr": f"0.{i}"})
            mloop.log_metric("auc", 0.5 + i / 10)
    df = mloop.search_runs(
        experiment_names=["search"],
        filter_string="metrics.auc > 0.55",
        order_by=["metrics.auc DESC"],
    )
    assert isinstance(df, pd.DataFrame)
    assert df["run_name"].tolist() == ["r3", "r2", "r1"]
    assert {"run_id", "status", "start_time", "end_time", "metrics.auc", "params.lr"} <= set(
        df.columns
    )
    assert str(df["start_time"].dtype).startswith("datetime64")
    runs = mloop.search_runs(output_format="list", max_results=2, order_by=["params.lr"])
    assert [r.info.run_name for r in runs] == ["r0", "r1"]
    with pytest.raises(NotFound):
        mloop.search_runs(experiment_names=["nope"])
    with pytest.raises(InvalidInput):
        mloop.search_runs(output_format="csv")  # type: ignore[call-overload]


def test_set_experiment_rules(home: Path) -> None:
    exp = mloop.set_experiment("e1")
    assert mloop.set_experiment(experiment_id=exp.experiment_id).name == "e1"
    with pytest.raises(InvalidInput):
        mloop.set_experiment()
    with pytest.raises(InvalidInput):
        mloop.set_experiment("a", experiment_id="1")
    mloop.Client().delete_experiment(exp.experiment_id)
    with pytest.raises(Conflict, match="deleted"):
        mloop.set_experiment("e1")


def test_set_tracking_uri_accepts_a_folder(home: Path, tmp_path: Path) -> None:
    mloop.set_tracking_uri(tmp_path / "store")
    assert mloop.get_tracking_uri() == f"sqlite:///{tmp_path / 'store' / 'mloop.db'}"
    with mloop.start_run():
        mloop.log_metric("m", 1)
    assert (tmp_path / "store" / "mloop.db").exists()


def test_log_figure(home: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with mloop.start_run() as run:
        mloop.log_figure(fig, "plots/curve.png")
        with pytest.raises(InvalidInput, match="matplotlib Figure"):
            mloop.log_figure("not a figure", "x.png")
    plt.close(fig)
    (info,) = mloop.Client().list_artifacts(run.info.run_id, "plots")
    assert info.path == "plots/curve.png" and (info.size or 0) > 100
