from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.entities import RunStatus
from mloop.errors import Conflict, NotFound


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
