from __future__ import annotations

from types import SimpleNamespace

import pytest

import mloop
from mloop.entities import RUN_NAME_TAG, Metric, Param, RunTag
from mloop.errors import Conflict, InvalidInput, NotFound
from mloop.tracking.run_logging import as_run_io


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


def test_delete_tag_and_inputs(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("d")).info.run_id
    client.set_tag(run_id, "k", "v")
    client.delete_tag(run_id, "k")
    assert "k" not in client.get_run(run_id).data.tags
    with pytest.raises(NotFound):
        client.delete_tag(run_id, "k")


def test_synchronous_waits_and_must_be_a_bool(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("sync")).info.run_id
    client.flush()
    with pytest.raises(InvalidInput, match="synchronous is True, False or None"):
        client.log_metric(run_id, "m", 1.0, synchronous="yes")  # type: ignore[arg-type]
    client.log_metrics(run_id, {"a": 1.0, "b": 2.0}, step=3, synchronous=True)
    assert client._backend.writer.pending == 0  # durable before returning
    assert [(m.value, m.step) for m in client.get_metric_history(run_id, "b")] == [(2.0, 3)]


def test_bad_mappings_are_refused_before_anything_is_written(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("maps")).info.run_id
    with pytest.raises(InvalidInput, match="metrics must be a mapping"):
        client.log_metrics(run_id, [("m", 1.0)])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="params must be a mapping"):
        client.log_params(run_id, [("p", 1)])  # type: ignore[arg-type]
    stored = client.get_run(run_id).data
    assert (stored.metrics, stored.params) == ({}, {})


def test_the_run_name_tag_renames_the_run(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("rename"), run_name="old").info.run_id
    client.set_tags(run_id, {RUN_NAME_TAG: "new", "team": "risk"})
    stored = client.get_run(run_id)
    assert stored.info.run_name == "new"
    assert stored.data.tags["team"] == "risk"


def test_as_run_io_reads_a_digest_or_refuses() -> None:
    version = SimpleNamespace(digest="ab" * 32, name="train", kind="dataset")
    record = as_run_io(version, "input")
    assert (record.name, record.kind, record.direction) == ("train", "dataset", "input")
    assert as_run_io(SimpleNamespace(digest="cd" * 32), "output").name == "cd" * 6
    with pytest.raises(InvalidInput, match="no string 'digest'"):
        as_run_io(object(), "input")
