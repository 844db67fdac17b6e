from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mloop
from mloop.entities import RunIO
from tests.cli.conftest import MLOOP, invoke, run_mloop

T0 = 1_700_000_000_000  # fixed start times keep "newest first" deterministic


def ls_json(*args: str) -> list[dict[str, Any]]:
    code, out, err = invoke("runs", "ls", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def names(listed: list[dict[str, Any]]) -> list[str]:
    return [r["run_name"] for r in listed]


@dataclass
class Tracked:
    client: mloop.Client
    experiments: dict[str, str]
    runs: dict[str, str]


@pytest.fixture
def tracked(home: Path) -> Tracked:
    """credit: base (oldest), tuned, broken (FAILED); other: solo (newest)."""
    client = mloop.Client()
    experiments = {name: client.create_experiment(name) for name in ("credit", "other")}
    runs: dict[str, str] = {}
    plan = [
        ("credit", "base", "0.1", 0.9),
        ("credit", "tuned", "0.2", 0.95),
        ("credit", "broken", "0.1", 0.5),
        ("other", "solo", "0.3", 0.7),
    ]
    for position, (experiment, name, lr, auc) in enumerate(plan):
        start = T0 + position * 1000
        run = client.create_run(experiments[experiment], run_name=name, start_time=start)
        run_id = run.info.run_id
        runs[name] = run_id
        client.log_param(run_id, "lr", lr)
        client.log_metric(run_id, "auc", auc)
        if name == "base":
            client.log_metric(run_id, "loss", 0.25)
            client.set_tag(run_id, "team", "risk")
            client.log_text(run_id, "hi", "notes/a.txt")
        if name == "broken":
            client.set_terminated(
                run_id, "FAILED", end_time=start + 500, error="Traceback\nValueError: bad lr"
            )
        else:
            client.set_terminated(run_id, end_time=start + 65_000)
    client.flush()
    return Tracked(client, experiments, runs)


# -- ls ------------------------------------------------------------------------


def test_ls_empty_store(home: Path) -> None:
    mloop.Client()  # an empty store: read-only commands never create one
    assert ls_json() == []
    code, out, _ = invoke("runs", "ls")
    assert code == 0
    assert "Runs (0)" in out


def test_ls_table(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "ls")
    assert code == 0
    assert err == ""
    assert "Runs (4)" in out
    header = next(line for line in out.splitlines() if "run_id" in line)
    for column in ("name", "status", "started", "duration", "auc", "loss"):
        assert column in header
    for name, run_id in tracked.runs.items():
        row = next(line for line in out.splitlines() if run_id in line)
        assert name in row
    base_row = next(line for line in out.splitlines() if tracked.runs["base"] in line)
    assert "FINISHED" in base_row
    assert "1m 05s" in base_row
    assert "0.9" in base_row
    assert "0.25" in base_row
    broken_row = next(line for line in out.splitlines() if tracked.runs["broken"] in line)
    assert "FAILED" in broken_row
    assert "0.5s" in broken_row


def test_ls_json_is_newest_first(tracked: Tracked) -> None:
    listed = ls_json()
    assert names(listed) == ["solo", "broken", "tuned", "base"]
    base = listed[-1]
    assert base == {
        "run_id": tracked.runs["base"],
        "run_name": "base",
        "experiment_id": tracked.experiments["credit"],
        "status": "FINISHED",
        "dead": False,
        "start_time": T0,
        "end_time": T0 + 65_000,
        "metrics": {"auc": 0.9, "loss": 0.25},
        "params": {"lr": "0.1"},
    }


def test_ls_experiment(tracked: Tracked) -> None:
    assert names(ls_json("--experiment", "credit")) == ["broken", "tuned", "base"]
    assert names(ls_json("-e", "other")) == ["solo"]
    assert names(ls_json("-e", "other", "-e", "credit")) == ["solo", "broken", "tuned", "base"]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.auc > 0.85", ["tuned", "base"]),
        ("params.lr = '0.1'", ["broken", "base"]),
        ("metrics.auc > 0.6 and params.lr != '0.2'", ["solo", "base"]),
        ("attributes.status = 'FAILED'", ["broken"]),
        ("tags.team = 'risk'", ["base"]),
        ("metrics.auc > 2", []),
    ],
)
def test_ls_filter(tracked: Tracked, filter_string: str, expected: list[str]) -> None:
    assert names(ls_json("--filter", filter_string)) == expected
    assert names(ls_json("-f", filter_string)) == expected


def test_ls_order_by(tracked: Tracked) -> None:
    assert names(ls_json("--order-by", "metrics.auc ASC")) == ["broken", "solo", "base", "tuned"]
    assert names(ls_json("-o", "metrics.auc DESC")) == ["tuned", "base", "solo", "broken"]
    assert names(ls_json("-o", "params.lr ASC", "-o", "metrics.auc DESC")) == [
        "base",
        "broken",
        "tuned",
        "solo",
    ]


def test_ls_max_results(tracked: Tracked) -> None:
    assert names(ls_json("--max-results", "2")) == ["solo", "broken"]
    assert names(ls_json("-n", "1", "-o", "metrics.auc DESC")) == ["tuned"]
    code, out, _ = invoke("runs", "ls", "-n", "2")
    assert code == 0
    assert "Runs (2)" in out


def test_ls_max_results_must_be_positive(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "ls", "--max-results", "0")
    assert code == 2
    assert "--max-results" in err
    assert out == ""


def test_ls_deleted(tracked: Tracked) -> None:
    tracked.client.delete_run(tracked.runs["tuned"])
    assert names(ls_json()) == ["solo", "broken", "base"]
    assert names(ls_json("--deleted")) == ["tuned"]
    assert names(ls_json("--deleted", "-e", "other")) == []
    code, out, _ = invoke("runs", "ls", "--deleted")
    assert code == 0
    assert tracked.runs["tuned"] in out
    assert tracked.runs["base"] not in out


# -- show ----------------------------------------------------------------------


def test_show_json(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "show", tracked.runs["base"], "--json")
    assert code == 0, err
    shown = json.loads(out)
    info = shown["run"]["info"]
    assert info["run_id"] == tracked.runs["base"]
    assert info["run_name"] == "base"
    assert info["status"] == "FINISHED"
    assert info["lifecycle_stage"] == "active"
    assert info["error"] is None
    data = shown["run"]["data"]
    assert data["params"] == {"lr": "0.1"}
    assert data["metrics"] == {"auc": 0.9, "loss": 0.25}
    assert data["tags"]["team"] == "risk"
    assert shown["artifacts"] == [
        {
            "path": "notes/a.txt",
            "is_dir": False,
            "size": 2,
            "digest": hashlib.sha256(b"hi").hexdigest(),
        }
    ]


def test_show_json_of_failed_run(tracked: Tracked) -> None:
    code, out, _ = invoke("runs", "show", tracked.runs["broken"], "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["run"]["info"]["status"] == "FAILED"
    assert shown["run"]["info"]["error"] == "Traceback\nValueError: bad lr"
    assert shown["artifacts"] == []


def test_show_tables(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "show", tracked.runs["base"])
    assert code == 0
    assert err == ""
    assert f"Run {tracked.runs['base']}" in out
    for title in ("Params", "Metrics", "Tags", "Artifacts"):
        assert title in out
    lines = out.splitlines()

    def row(key: str) -> str:
        return next(line for line in lines if re.search(rf"\b{re.escape(key)}\b", line))

    assert "base" in row("name")
    assert "FINISHED" in row("status")
    assert "1m 05s" in row("duration")
    assert "active" in row("stage")
    assert "0.1" in row("lr")
    assert "0.9" in row("auc")
    assert "risk" in row("team")
    artifact = row("notes/a.txt")
    assert hashlib.sha256(b"hi").hexdigest() in artifact
    assert "error recorded" not in out
    assert "Inputs and outputs" not in out


def test_show_error_recorded(tracked: Tracked) -> None:
    code, out, _ = invoke("runs", "show", tracked.runs["broken"])
    assert code == 0
    assert "FAILED" in out
    assert "Artifacts" not in out
    tail = out[out.index("error recorded:") :].splitlines()
    assert tail == ["error recorded:", "Traceback", "ValueError: bad lr"]


def test_show_inputs_and_outputs(tracked: Tracked) -> None:
    run_id = tracked.runs["solo"]
    digest = hashlib.sha256(b"dataset").hexdigest()
    tracked.client.log_inputs(run_id, [RunIO(digest, "train.csv", "dataset", "input")])
    code, out, _ = invoke("runs", "show", run_id)
    assert code == 0
    assert "Inputs and outputs" in out
    row = next(line for line in out.splitlines() if "train.csv" in line)
    assert "input" in row
    assert "dataset" in row
    assert digest in row


def test_show_deleted_run(tracked: Tracked) -> None:
    tracked.client.delete_run(tracked.runs["solo"])
    code, out, _ = invoke("runs", "show", tracked.runs["solo"], "--json")
    assert code == 0
    assert json.loads(out)["run"]["info"]["lifecycle_stage"] == "deleted"


# -- compare ---------------------------------------------------------------------


def test_compare_two_runs(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "compare", tracked.runs["base"], tracked.runs["broken"])
    assert code == 0, err
    assert "Compare runs" in out
    header = next(line for line in out.splitlines() if "key" in line)
    assert header.index("base") < header.index("broken")
    lines = out.splitlines()
    lr = next(line for line in lines if "params.lr" in line)
    auc = next(line for line in lines if "metrics.auc" in line)
    loss = next(line for line in lines if "metrics.loss" in line)
    assert "*params.lr" not in lr  # the same in both runs
    assert lr.count("0.1") == 2
    assert "*metrics.auc" in auc
    assert "0.9" in auc
    assert "0.5" in auc
    assert "*metrics.loss" in loss  # missing from one run counts as different
    assert "0.25" in loss
    assert "-" in loss.split("metrics.loss", 1)[1]


def test_compare_three_runs(tracked: Tracked) -> None:
    ids = [tracked.runs[name] for name in ("base", "tuned", "solo")]
    code, out, _ = invoke("runs", "compare", *ids)
    assert code == 0
    header = next(line for line in out.splitlines() if "key" in line)
    assert header.index("base") < header.index("tuned") < header.index("solo")
    assert "*params.lr" in out
    assert "*metrics.auc" in out


def test_compare_json(tracked: Tracked) -> None:
    base, tuned, broken = (tracked.runs[n] for n in ("base", "tuned", "broken"))
    code, out, _ = invoke("runs", "compare", base, tuned, broken, "--json")
    assert code == 0
    assert json.loads(out) == {
        "params.lr": {base: "0.1", tuned: "0.2", broken: "0.1"},
        "metrics.auc": {base: 0.9, tuned: 0.95, broken: 0.5},
        "metrics.loss": {base: 0.25, tuned: None, broken: None},
    }


def test_compare_identical_runs_marks_nothing(tracked: Tracked) -> None:
    client = tracked.client
    twin = client.create_run(tracked.experiments["credit"], run_name="twin").info.run_id
    client.log_param(twin, "lr", "0.1")
    client.log_metric(twin, "auc", 0.5)
    client.set_terminated(twin)
    code, out, _ = invoke("runs", "compare", tracked.runs["broken"], twin)
    assert code == 0
    assert "params.lr" in out
    assert "metrics.auc" in out
    assert "*" not in out


def test_compare_needs_two_runs(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "compare", tracked.runs["base"])
    assert code == 2
    assert out == ""
    assert "at least two run ids" in err
    assert "Usage:" in err


def test_compare_needs_run_ids(home: Path) -> None:
    code, _, err = invoke("runs", "compare")
    assert code == 2
    assert "Missing argument" in err


def test_compare_unknown_run(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "compare", tracked.runs["base"], "nope")
    assert code == 3
    assert out == ""
    assert err.startswith("error:")
    assert "'nope'" in err


# -- delete ------------------------------------------------------------------------


def test_delete_and_restore(tracked: Tracked) -> None:
    base, tuned = tracked.runs["base"], tracked.runs["tuned"]
    code, out, err = invoke("runs", "delete", base, tuned)
    assert code == 0, err
    assert out.strip() == "deleted 2 run(s)"
    assert names(ls_json("--deleted")) == ["tuned", "base"]
    assert names(ls_json()) == ["solo", "broken"]

    code, out, _ = invoke("runs", "delete", "--restore", base)
    assert code == 0
    assert out.strip() == "restored 1 run(s)"
    assert names(ls_json("--deleted")) == ["tuned"]
    assert names(ls_json()) == ["solo", "broken", "base"]


def test_delete_checks_every_id_before_changing_anything(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "delete", tracked.runs["base"], "nope")
    assert code == 3
    assert out == ""
    assert err.startswith("error:")
    assert "'nope'" in err
    assert ls_json("--deleted") == []


def test_restore_unknown_run(tracked: Tracked) -> None:
    code, _, err = invoke("runs", "delete", "--restore", "nope")
    assert code == 3
    assert err.startswith("error:")


def test_delete_needs_a_run_id(home: Path) -> None:
    code, _, err = invoke("runs", "delete")
    assert code == 2
    assert "Missing argument" in err


# -- error paths -----------------------------------------------------------------


def test_show_unknown_run(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "show", "nope")
    assert code == 3
    assert out == ""
    assert err == "error: run 'nope' not found\n"


@pytest.mark.parametrize(
    ("filter_string", "position"),
    [("metrics.auc >", 13), ("params.lr = 0.1", 12), ("metrics.a ! 1", 10)],
)
def test_malformed_filter(tracked: Tracked, filter_string: str, position: int) -> None:
    code, out, err = invoke("runs", "ls", "--filter", filter_string)
    assert code == 2
    assert out == ""
    assert err.startswith("error:")
    assert f"at position {position}:" in err
    lines = err.splitlines()
    text_line = lines.index(f"  {filter_string}")
    caret = lines[text_line + 1]
    assert caret.strip() == "^"
    assert caret.index("^") == position + 2


def test_malformed_order_by(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "ls", "--order-by", "metrics.auc sideways")
    assert code == 2
    assert out == ""
    assert err.startswith("error:")
    assert "  metrics.auc sideways" in err.splitlines()


def test_unknown_experiment(tracked: Tracked) -> None:
    code, out, err = invoke("runs", "ls", "--experiment", "nope")
    assert code == 3
    assert out == ""
    assert err == "error: experiment 'nope' not found (see: mloop experiments ls)\n"


def test_unknown_experiment_among_known_ones(tracked: Tracked) -> None:
    code, _, err = invoke("runs", "ls", "-e", "credit", "-e", "nope")
    assert code == 3
    assert "'nope'" in err


# -- markup in user data -----------------------------------------------------------


def test_error_message_with_brackets(tracked: Tracked) -> None:
    code, _, err = invoke("runs", "show", "[/x]")
    assert code == 3
    assert "'[/x]'" in err


def test_show_param_with_closing_tag(tracked: Tracked) -> None:
    tracked.client.log_param(tracked.runs["solo"], "exclude", "[/data/raw]")
    code, out, _ = invoke("runs", "show", tracked.runs["solo"])
    assert code == 0
    assert "[/data/raw]" in out


def test_show_param_values_literally(tracked: Tracked) -> None:
    tracked.client.log_param(tracked.runs["solo"], "style", "[red]x")
    code, out, _ = invoke("runs", "show", tracked.runs["solo"])
    assert code == 0
    assert "[red]x" in out


def test_show_error_recorded_literally(tracked: Tracked) -> None:
    client = tracked.client
    run_id = client.create_run(tracked.experiments["other"], run_name="shape").info.run_id
    client.set_terminated(run_id, "FAILED", error="ValueError: expected shape [batch, 3]")
    code, out, _ = invoke("runs", "show", run_id)
    assert code == 0
    assert "ValueError: expected shape [batch, 3]" in out


# -- the real console script ---------------------------------------------------------


def test_console_script_ls_and_show(tracked: Tracked) -> None:
    completed = run_mloop("runs", "ls", "--json", "-e", "credit", "-f", "metrics.auc > 0.85")
    assert completed.returncode == 0, completed.stderr
    assert names(json.loads(completed.stdout)) == ["tuned", "base"]
    completed = run_mloop("runs", "show", tracked.runs["base"], "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["run"]["data"]["params"] == {"lr": "0.1"}


def test_console_script_errors(tracked: Tracked) -> None:
    completed = run_mloop("runs", "show", "nope")
    assert completed.returncode == 3
    assert completed.stdout == ""
    assert completed.stderr.startswith("error: run 'nope' not found")
    assert "Traceback" not in completed.stderr
    completed = run_mloop("runs", "ls", "--filter", "metrics.auc >")
    assert completed.returncode == 2
    assert "  metrics.auc >\n" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_console_script_delete_and_restore(tracked: Tracked) -> None:
    run_id = tracked.runs["tuned"]
    completed = run_mloop("runs", "delete", run_id)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "deleted 1 run(s)"
    assert names(ls_json("--deleted")) == ["tuned"]
    completed = run_mloop("runs", "delete", "--restore", run_id)
    assert completed.returncode == 0, completed.stderr
    assert ls_json("--deleted") == []


def test_console_script_long_filter_error_is_not_wrapped(tracked: Tracked) -> None:
    long_filter = (
        "params.lr = '0.1' and metrics.auc > 0.5 and tags.team = 'alpha' "
        "and metrics.loss < 2 and metrics.x ! 3"
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    completed = run_mloop("runs", "ls", "--filter", long_filter, env=env)
    assert completed.returncode == 2
    lines = completed.stderr.splitlines()
    assert f"  {long_filter}" in lines
    text_line = lines.index(f"  {long_filter}")
    assert lines[text_line + 1].index("^") == long_filter.index("!") + 2


def test_piped_tables_keep_whole_lines_and_escape_control_characters(home: Path) -> None:
    with mloop.start_run(run_name="a-rather-long-run-name-for-a-pipe") as run:
        mloop.set_tag("title", "\x1b]0;pwned\x07\x1b[2Jcleared")
        mloop.log_metric("loss", 0.000150852)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # as in `mloop runs ls > f`

    def piped(*args: str) -> str:
        done = subprocess.run([str(MLOOP), *args], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    row = next(line for line in piped("runs", "ls").splitlines() if run.info.run_id in line)
    assert "a-rather-long-run-name-for-a-pipe" in row and "FINISHED" in row and "0.000150852" in row
    shown = piped("runs", "show", run.info.run_id)
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b]0;pwned\\x07\\x1b[2Jcleared" in shown
