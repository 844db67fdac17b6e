"""Run ids on the command line: a unique prefix of four or more hex digits names the run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import mloop
from mloop.errors import InvalidInput, NotFound
from mloop.store.protocols.tracking import Batch, NewRun
from tests.cli.conftest import invoke

IDS = {
    "first": "abcd" + "0" * 28,
    "second": "abcd" + "1" * 28,
    "third": "abce" + "2" * 28,
}


@pytest.fixture
def client(home: Path) -> mloop.Client:
    """Three finished runs whose ids share the prefix ``abc`` (two share ``abcd``)."""
    client = mloop.Client()
    experiment = client.create_experiment("prefixes")
    runs = []
    for name, run_id in IDS.items():
        new = NewRun.build(experiment, name, 1_000, {})
        runs.append(dataclasses.replace(new, info=dataclasses.replace(new.info, run_id=run_id)))
    client.stores.runs.write_batch(Batch(runs=runs))
    for name, run_id in IDS.items():
        client.log_metric(run_id, "auc", len(name) / 10)
        client.set_terminated(run_id)
    client.flush()
    return client


def test_a_unique_prefix_names_the_run_and_output_keeps_the_full_id(
    client: mloop.Client,
) -> None:
    for prefix in ("abce", "ABCE2", IDS["third"][:20]):
        code, out, err = invoke("runs", "show", prefix, "--json")
        assert code == 0, err
        assert json.loads(out)["run"]["info"]["run_id"] == IDS["third"]
    code, out, _ = invoke("runs", "show", "abcd1")
    assert code == 0 and f"Run {IDS['second']}" in out


def test_an_ambiguous_prefix_lists_the_candidates_and_exits_2(client: mloop.Client) -> None:
    code, out, err = invoke("runs", "show", "abcd")
    assert (code, out) == (InvalidInput.exit_code, "")
    assert "run id prefix 'abcd' is ambiguous" in err
    assert IDS["first"] in err and IDS["second"] in err and IDS["third"] not in err


def test_a_prefix_too_short_or_matching_nothing(client: mloop.Client) -> None:
    code, _, err = invoke("runs", "show", "abc")
    assert code == InvalidInput.exit_code and "at least 4 characters" in err
    code, _, err = invoke("runs", "show", "0123")
    assert code == NotFound.exit_code and "no run id starts with '0123'" in err
    code, _, err = invoke("runs", "show", "not-hex")  # not an id at all: the store says so
    assert code == NotFound.exit_code and "run 'not-hex' not found" in err


def test_compare_and_delete_take_prefixes(client: mloop.Client) -> None:
    code, out, err = invoke("runs", "compare", "abcd0", "abce", "--json")
    assert code == 0, err
    assert json.loads(out)["metrics.auc"] == {IDS["first"]: 0.5, IDS["third"]: 0.5}
    code, out, err = invoke("runs", "delete", "abcd1", "abce")
    assert (code, out.strip()) == (0, "deleted 2 run(s)"), err
    assert client.get_run(IDS["second"]).info.lifecycle_stage.value == "deleted"
    code, _, err = invoke("runs", "delete", "--restore", "abcd1")  # runs in the bin resolve too
    assert code == 0, err
    assert client.get_run(IDS["second"]).info.lifecycle_stage.value == "active"
    code, _, err = invoke("runs", "delete", "abcd0", "abcd")  # one ambiguous: nothing changes
    assert code == InvalidInput.exit_code and "is ambiguous" in err
    assert client.get_run(IDS["first"]).info.lifecycle_stage.value == "active"
