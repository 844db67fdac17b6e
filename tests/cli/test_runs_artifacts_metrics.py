"""``mloop runs artifacts`` and ``mloop runs metrics``: what a run stored, and a metric's history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mloop
from mloop.errors import NotFound
from tests.cli.conftest import invoke, run_mloop


@pytest.fixture
def run_id(home: Path) -> str:
    """A finished run with three artifact files in two folders and a ``loss`` history."""
    client = mloop.Client()
    experiment = client.create_experiment("credit")
    run_id = client.create_run(experiment, run_name="fit").info.run_id
    client.log_text(run_id, "hello", "notes/a.txt")
    client.log_text(run_id, "world!", "notes/deep/b.txt")
    client.log_dict(run_id, {"lr": 0.1}, "config.json")
    for step, (loss, at) in enumerate([(0.9, 1_000), (0.5, 2_000), (float("nan"), 3_000)]):
        client.log_metric(run_id, "loss", loss, timestamp=1_700_000_000_000 + at, step=step)
    client.log_metric(run_id, "auc", 0.91)
    client.set_terminated(run_id)
    client.flush()
    return run_id


def test_artifacts_lists_the_top_folder_and_a_path(run_id: str) -> None:
    code, out, err = invoke("runs", "artifacts", run_id[:6], "--json")
    assert code == 0, err
    assert [(a["path"], a["is_dir"]) for a in json.loads(out)] == [
        ("config.json", False),
        ("notes", True),
    ]
    code, out, _ = invoke("runs", "artifacts", run_id, "notes", "--recursive", "--json")
    listed = json.loads(out)
    assert [(a["path"], a["size"]) for a in listed] == [("notes/a.txt", 5), ("notes/deep/b.txt", 6)]
    assert all(len(a["digest"]) == 64 for a in listed)
    code, out, _ = invoke("runs", "artifacts", run_id)
    assert code == 0 and f"Artifacts of run {run_id}" in out
    assert "notes/" in out and "config.json" in out


def test_artifacts_download_a_folder_or_everything(run_id: str, tmp_path: Path) -> None:
    target = tmp_path / "out"
    code, out, err = invoke("runs", "artifacts", run_id, "notes", "--download", str(target))
    assert code == 0, err
    assert Path(out.strip()) == target / "notes"
    assert (target / "notes" / "deep" / "b.txt").read_text() == "world!"
    assert not (target / "config.json").exists()
    every = tmp_path / "every"
    code, out, _ = invoke("runs", "artifacts", run_id, "-d", str(every), "--json")
    assert code == 0
    assert json.loads(out) == {"run_id": run_id, "path": "", "local_path": str(every)}
    assert json.loads((every / "config.json").read_text()) == {"lr": 0.1}


def test_artifacts_of_a_missing_path_or_run(run_id: str, tmp_path: Path) -> None:
    code, out, err = invoke("runs", "artifacts", run_id, "nothing/here")
    assert (code, out) == (NotFound.exit_code, "")
    assert "has no artifact at 'nothing/here'" in err
    code, _, err = invoke("runs", "artifacts", run_id, "nothing", "-d", str(tmp_path / "x"))
    assert code == NotFound.exit_code and "no artifacts at 'nothing'" in err
    assert not (tmp_path / "x").exists()
    code, _, err = invoke("runs", "artifacts", "0" * 32)
    assert code == NotFound.exit_code and "not found" in err


def test_metrics_prints_the_history_by_step(run_id: str) -> None:
    code, out, err = invoke("runs", "metrics", run_id, "loss", "--json")
    assert code == 0, err
    assert json.loads(out) == [
        {"step": 0, "value": 0.9, "timestamp": 1_700_000_001_000},
        {"step": 1, "value": 0.5, "timestamp": 1_700_000_002_000},
        {"step": 2, "value": "nan", "timestamp": 1_700_000_003_000},
    ]
    code, out, _ = invoke("runs", "metrics", run_id[:8], "loss")
    assert code == 0 and f"loss of run {run_id} (3 points)" in out
    cells = [line.replace("│", " ").split() for line in out.splitlines()]
    rows = [row for row in cells if row[:1] in (["0"], ["1"], ["2"])]
    assert [row[:2] for row in rows] == [["0", "0.9"], ["1", "0.5"], ["2", "nan"]]


def test_metrics_of_an_unknown_key_names_the_run_s_metrics(run_id: str) -> None:
    code, out, err = invoke("runs", "metrics", run_id, "los")
    assert (code, out) == (NotFound.exit_code, "")
    assert f"run {run_id} has no metric 'los' (its metrics: auc, loss)" in err


def test_metrics_piped_from_the_console_script(run_id: str) -> None:
    done = run_mloop("runs", "metrics", run_id, "auc")
    assert done.returncode == 0, done.stderr
    assert "0.91" in done.stdout
