"""An autologged call: the run it starts or uses, and logging that never breaks training."""

from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.autologging import session
from mloop.autologging.options import Options
from mloop.autologging.session import Session
from mloop.entities import RunStatus
from mloop.errors import MloopWarning
from tests.autologging.conftest import runs

OPTIONS = Options.build("demo")


def nothing(_: Session) -> None:
    return None


def test_a_run_is_started_and_finished_around_the_call(home: Path) -> None:
    seen: list[Session] = []
    result = session.call(OPTIONS, lambda: 42, seen.append, lambda s, state, result: None)
    assert result == 42
    (run,) = runs()
    assert run.info.run_id == seen[0].run_id
    assert run.info.status == RunStatus.FINISHED
    assert session.current() is None and mloop.active_run() is None


def test_a_call_inside_a_call_logs_nothing_more(home: Path) -> None:
    inner: list[Session] = []

    def outer() -> int:
        return session.call(OPTIONS, lambda: 1, inner.append, lambda s, state, result: None)

    assert session.call(OPTIONS, outer, nothing, lambda s, state, result: None) == 1
    assert inner == [] and len(runs()) == 1


def test_the_users_exception_propagates_unchanged_and_fails_the_run(home: Path) -> None:
    error = KeyError("the user's own")

    def fail() -> None:
        raise error

    with pytest.raises(KeyError) as raised:
        session.call(OPTIONS, fail, nothing, lambda s, state, result: None)
    assert raised.value is error
    (run,) = runs()
    assert run.info.status == RunStatus.FAILED
    assert session.current() is None and mloop.active_run() is None


def test_ctrl_c_kills_the_run(home: Path) -> None:
    def stop() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.call(OPTIONS, stop, nothing, lambda s, state, result: None)
    assert runs()[0].info.status == RunStatus.KILLED


def test_a_logging_failure_becomes_a_warning(home: Path) -> None:
    def broken(_: Session) -> None:
        raise RuntimeError("store is down")

    with pytest.warns(MloopWarning, match="could not log before training .demo.: store is down"):
        assert session.call(OPTIONS, lambda: "ok", broken, lambda s, state, result: None) == "ok"
    assert runs()[0].info.status == RunStatus.FINISHED


def test_a_run_that_cannot_start_warns_and_trains_anyway(home: Path) -> None:
    mloop.set_experiment("gone")
    mloop.delete_experiment(mloop.get_experiment_by_name("gone").experiment_id)  # type: ignore[union-attr]
    with pytest.warns(MloopWarning, match="could not start a run"):
        assert session.call(OPTIONS, lambda: 7, nothing, lambda s, state, result: None) == 7


def test_exclusive_leaves_the_users_run_alone(home: Path) -> None:
    calls: list[Session] = []
    with mloop.start_run():
        session.call(
            Options.build("demo", exclusive=True), lambda: 1, calls.append, lambda s, state, r: None
        )
    assert calls == []


def test_ctrl_c_while_logging_ends_the_run_killed(home: Path) -> None:
    def interrupted(_: Session) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.call(OPTIONS, lambda: 1, interrupted, lambda s, state, result: None)
    assert runs()[0].info.status == RunStatus.KILLED
    assert mloop.active_run() is None
