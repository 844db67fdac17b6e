from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.entities import RunStatus, ViewType
from mloop.errors import AlreadyExists, Conflict, InvalidInput, NotFound


def test_experiments_by_id(client: mloop.Client) -> None:
    exp = client.create_experiment("e", tags={"owner": "me"})
    assert client.get_experiment(exp).tags == {"owner": "me"}
    with pytest.raises(AlreadyExists):
        client.create_experiment("e")
    client.delete_experiment(exp)
    assert [e.name for e in client.search_experiments(ViewType.DELETED_ONLY)] == ["e"]
    client.restore_experiment(exp)
    assert [e.name for e in client.search_experiments()] == ["e"]


def test_terminate_update_delete_restore(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("t"), run_name="r").info.run_id
    with pytest.raises(InvalidInput, match="FINISHED, FAILED or KILLED"):
        client.set_terminated(run_id, "RUNNING")
    with pytest.raises(ValueError, match="NOPE"):
        client.set_terminated(run_id, "NOPE")
    client.set_terminated(run_id, RunStatus.KILLED, end_time=5)
    assert client.get_run(run_id).info.end_time == 5
    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"
    client.delete_run(run_id)
    with pytest.raises(Conflict, match="deleted"):
        client.log_metric(run_id, "m", 1.0)
    client.restore_run(run_id)
    client.log_metric(run_id, "m", 1.0)
    assert client.get_run(run_id).data.metrics == {"m": 1.0}


def test_runs_are_checked_then_buffered(client: mloop.Client) -> None:
    exp = client.create_experiment("buffered")
    run = client.create_run(exp, run_name="r")
    other = mloop.Client(tracking_uri=client.tracking_uri)  # same backend: reads flush first
    assert other.get_run(run.info.run_id).info.run_name == "r"
    client.delete_experiment(exp)
    with pytest.raises(Conflict, match="deleted"):
        client.create_run(exp)
    with pytest.raises(NotFound):
        client.create_run("424242")
    with pytest.raises(NotFound):
        client.create_run(client.create_experiment("x"), parent_run_id="ghost")


def test_capture_environment_off(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_CAPTURE_ENVIRONMENT", "false")
    from mloop.tracking.connection import disconnect_all

    disconnect_all()
    client = mloop.Client()
    run = client.create_run(client.create_experiment("noenv"))
    assert not any(k.startswith("mloop.source") for k in client.get_run(run.info.run_id).data.tags)


def test_two_clients_share_one_backend(client: mloop.Client) -> None:
    other = mloop.Client()
    run_id = client.create_run(client.create_experiment("share")).info.run_id
    client.log_metric(run_id, "m", 1.0)
    assert other.get_run(run_id).data.metrics == {"m": 1.0}  # the other client's flush covers it
