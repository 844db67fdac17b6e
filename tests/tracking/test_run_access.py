from __future__ import annotations

import pytest

import mloop
from mloop.errors import Conflict, InvalidInput, NotFound


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


def test_tags_must_be_a_mapping_and_run_ids_strings(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("access")).info.run_id
    with pytest.raises(InvalidInput, match="tags must be a mapping"):
        client.set_tags(run_id, [("k", "v")])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="non-empty string"):
        client.log_metric(7, "m", 1.0)  # type: ignore[arg-type]
    assert client.get_run(run_id).data.metrics == {}


def test_a_deleted_run_refuses_writes_until_restored(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("bin")).info.run_id
    client.set_terminated(run_id)
    fresh = mloop.Client()  # knows no run yet: checks the store
    client.delete_run(run_id)
    with pytest.raises(Conflict, match="restore it"):
        fresh.set_tag(run_id, "k", "v")
    client.restore_run(run_id)
    fresh.set_tag(run_id, "k", "v", synchronous=True)
    assert client.get_run(run_id).data.tags["k"] == "v"
