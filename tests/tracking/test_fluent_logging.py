from __future__ import annotations

import math
from pathlib import Path

import pytest

import mloop
from mloop.artifacts.cas import ContentStore
from mloop.errors import Conflict, InvalidInput, NotFound


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
