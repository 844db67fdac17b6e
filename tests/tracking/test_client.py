from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.entities import Metric, Param, RunStatus, RunTag, ViewType
from mloop.errors import AlreadyExists, Conflict, InvalidInput, NotFound


@pytest.fixture
def client(home: Path) -> mloop.Client:
    return mloop.Client()


def test_experiments_by_id(client: mloop.Client) -> None:
    exp = client.create_experiment("e", tags={"owner": "me"})
    assert client.get_experiment(exp).tags == {"owner": "me"}
    with pytest.raises(AlreadyExists):
        client.create_experiment("e")
    client.delete_experiment(exp)
    assert [e.name for e in client.search_experiments(ViewType.DELETED_ONLY)] == ["e"]
    client.restore_experiment(exp)
    assert [e.name for e in client.search_experiments()] == ["e"]


def test_log_batch(client: mloop.Client) -> None:
    run = client.create_run(client.create_experiment("b"))
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("m", float(i), 1000 + i, i) for i in range(1000)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "x")],
    )
    stored = client.get_run(run_id)
    assert stored.data.metrics == {"m": 999.0}
    assert stored.data.params == {"p": "1"}
    assert stored.data.tags["t"] == "x"
    assert len(client.get_metric_history(run_id, "m")) == 1000
    with pytest.raises(InvalidInput):
        client.log_batch(run_id, metrics=[Metric("m", "x", 0, 0)])  # type: ignore[arg-type]


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


def test_params_of_owned_and_foreign_runs(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("p")).info.run_id
    client.log_params(run_id, {"a": 1})
    with pytest.raises(Conflict, match="immutable"):
        client.log_params(run_id, {"b": 2, "a": 2})
    client.set_terminated(run_id)
    assert client.get_run(run_id).data.params == {"a": "1"}
    # after the run ended, params go straight to the store and are checked there
    with pytest.raises(Conflict, match="immutable"):
        client.log_param(run_id, "a", 3)
    client.log_param(run_id, "c", 3)
    assert client.get_run(run_id).data.params == {"a": "1", "c": "3"}


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


def test_unknown_run_ids(client: mloop.Client) -> None:
    for call in (
        lambda: client.log_metric("ghost", "m", 1.0),
        lambda: client.log_param("ghost", "p", 1),
        lambda: client.set_tag("ghost", "t", 1),
        lambda: client.set_terminated("ghost"),
        lambda: client.get_run("ghost"),
        lambda: client.log_text("ghost", "x", "a.txt"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(InvalidInput):
        client.log_metric("", "m", 1.0)
    with pytest.raises(NotFound):
        client.create_run("424242")


def test_delete_tag_and_inputs(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("d")).info.run_id
    client.set_tag(run_id, "k", "v")
    client.delete_tag(run_id, "k")
    assert "k" not in client.get_run(run_id).data.tags
    with pytest.raises(NotFound):
        client.delete_tag(run_id, "k")


def test_log_dict_yaml_and_bad_json(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("y")).info.run_id
    client.log_dict(run_id, {"a": [1, 2]}, "cfg.yaml")
    assert client.load_text(run_id, "cfg.yaml").startswith("a:")
    with pytest.raises(InvalidInput, match="serialize"):
        client.log_dict(run_id, {"a": float("nan"), "b": {1, 2}, ("t",): 1}, "x.json")  # type: ignore[dict-item]
    with pytest.raises(InvalidInput):
        client.log_text(run_id, b"bytes", "x.txt")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="name a file"):
        client.log_text(run_id, "x", "")
    with pytest.raises(NotFound):
        client.load_text(run_id, "missing.txt")


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


def test_record_artifacts_and_io_of_a_live_run_are_buffered(client: mloop.Client) -> None:
    from mloop.entities import RunIO

    run_id = client.create_run(client.create_experiment("io")).info.run_id
    digest = client.content.put_bytes(b"stored once")
    client.record_artifacts(run_id, [("out/a.bin", digest, 11), ("out/b.bin", digest, 11)])
    client.record_artifacts(run_id, [("out/a.bin", digest, 11)])  # logged again: one row
    client.log_inputs(run_id, [RunIO(digest, "a", "artifact", "output", "step")], "output")
    assert client._backend.writer.pending > 0  # nothing written yet
    assert [a.path for a in client.list_artifacts(run_id, "out")] == ["out/a.bin", "out/b.bin"]
    assert client.load_text(run_id, "out/a.bin") == "stored once"
    assert [(r, io.direction) for r, io in client.find_io(digest)] == [(run_id, "output")]
    with pytest.raises(NotFound, match="is not stored"):
        client.record_artifacts(run_id, [("x.bin", "0" * 64, 1)])
    with pytest.raises(InvalidInput, match=r"escapes|must"):
        client.record_artifacts(run_id, [("../x.bin", digest, 11)])
    with pytest.raises(InvalidInput, match="direction must be"):
        client.log_inputs(run_id, [RunIO(digest, "a", "artifact", "sideways")])
    client.set_terminated(run_id)
    # a run this client does not own is written straight away
    other = mloop.Client()
    other.record_artifacts(run_id, [("late.bin", digest, 11)])
    assert "late.bin" in [a.path for a in client.list_artifacts(run_id)]
