from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import mloop
from tests.cli.conftest import MLOOP, invoke


def ls_json(*flags: str) -> list[dict[str, object]]:
    code, out, err = invoke("experiments", "ls", "--json", *flags)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def experiments(home: Path) -> dict[str, str]:
    client = mloop.Client()
    ids = {name: client.create_experiment(name) for name in ("alpha", "beta", "gone")}
    client.delete_experiment(ids["gone"])
    return ids


def test_empty_store(home: Path) -> None:
    mloop.Client()  # an empty store: read-only commands never create one
    assert ls_json() == []
    code, out, _ = invoke("experiments", "ls")
    assert code == 0
    assert "Experiments" in out
    assert "alpha" not in out


def test_ls_table_shows_active_experiments(experiments: dict[str, str]) -> None:
    code, out, err = invoke("experiments", "ls")
    assert code == 0
    assert err == ""
    assert "alpha" in out
    assert "beta" in out
    assert "gone" not in out
    assert "active" in out
    row = next(line for line in out.splitlines() if "alpha" in line)
    assert experiments["alpha"] in row
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row)


def test_ls_json(experiments: dict[str, str]) -> None:
    listed = ls_json()
    assert [e["name"] for e in listed] == ["alpha", "beta"]
    first = listed[0]
    assert first["experiment_id"] == experiments["alpha"]
    assert first["lifecycle_stage"] == "active"
    assert isinstance(first["creation_time"], int)
    assert set(first) >= {"experiment_id", "name", "lifecycle_stage", "creation_time", "tags"}


def test_ls_all_and_deleted(experiments: dict[str, str]) -> None:
    assert [e["name"] for e in ls_json("--all")] == ["alpha", "beta", "gone"]
    deleted = ls_json("--deleted")
    assert [(e["name"], e["lifecycle_stage"]) for e in deleted] == [("gone", "deleted")]
    code, out, _ = invoke("experiments", "ls", "--deleted")
    assert code == 0
    assert "gone" in out
    assert "deleted" in out
    assert "alpha" not in out


def test_deleted_wins_over_all(experiments: dict[str, str]) -> None:
    assert [e["name"] for e in ls_json("--all", "--deleted")] == ["gone"]


def test_restored_experiment_is_listed_again(experiments: dict[str, str]) -> None:
    mloop.Client().restore_experiment(experiments["gone"])
    assert [e["name"] for e in ls_json()] == ["alpha", "beta", "gone"]


def test_experiment_made_by_the_fluent_api(home: Path) -> None:
    mloop.set_experiment("fluent")
    with mloop.start_run(run_name="r"):
        mloop.log_metric("m", 1.0)
    assert "fluent" in [e["name"] for e in ls_json()]


def test_names_are_shown_literally(home: Path) -> None:
    mloop.Client().create_experiment("[bold]exp")
    code, out, _ = invoke("experiments", "ls")
    assert code == 0
    assert "[bold]exp" in out


def test_console_script(experiments: dict[str, str]) -> None:
    completed = subprocess.run(
        [str(MLOOP), "experiments", "ls", "--json", "--all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert [e["name"] for e in json.loads(completed.stdout)] == ["alpha", "beta", "gone"]
