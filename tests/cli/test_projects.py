from __future__ import annotations

import json
from pathlib import Path

import mloop
from tests.cli.conftest import invoke, run_mloop


def test_the_same_names_in_two_projects_from_the_command_line(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n")
    assert invoke("data", "add", str(folder), "-n", "credit")[0] == 0
    (folder / "a.csv").write_text("x\n2\n")
    code, out, err = invoke("--project", "fraud", "data", "add", str(folder), "-n", "credit")
    assert code == 0, err
    assert out.startswith("credit@1")  # its own numbering
    code, out, _ = invoke("--project", "fraud", "data", "get", "credit", "-o", str(tmp_path / "f"))
    assert (tmp_path / "f" / "a.csv").read_text() == "x\n2\n"
    invoke("data", "get", "credit", "-o", str(tmp_path / "d"))
    assert (tmp_path / "d" / "a.csv").read_text() == "x\n1\n"
    assert mloop.get_project() == "default"  # an option lasts one command

    code, out, _ = invoke("projects", "ls", "--json")
    assert [p["name"] for p in json.loads(out)] == ["default", "fraud"]
    code, out, _ = invoke("--project", "fraud", "projects", "ls")
    assert "fraud" in out and "*" in out


def test_the_project_from_the_environment_and_create(home: Path) -> None:
    code, out, err = invoke("projects", "create", "vision", "-d", "images")
    assert code == 0, err
    code, out, err = invoke("projects", "create", "vision")
    assert code != 0 and "already exists" in err
    code, out, _ = invoke("projects", "ls", "--json", env={"MLOOP_PROJECT": "vision"})
    assert {p["name"]: p["description"] for p in json.loads(out)}["vision"] == "images"
    code, out, err = invoke("--project", "vision", "experiments", "ls", "--json")
    assert code == 0 and json.loads(out) == []


def test_a_bad_project_name_is_refused_before_anything_runs(home: Path) -> None:
    code, _, err = invoke("--project", "no spaces", "projects", "create", "x")
    assert code == 2
    assert "project name 'no spaces' is not valid" in err
    assert not (home / "mloop.db").exists()
    done = run_mloop("--project", "../up", "data", "ls")
    assert done.returncode == 2 and "project name" in done.stderr


def test_fsck_checks_copies_of_models_loaded_in_another_project(home: Path) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    mloop.set_project("beta")
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
    with mloop.start_run():
        mloop.models.log_model(model, "model", registered_model_name="m")
    mloop.models.load("models:/m/1")  # a local copy on this machine
    mloop.set_project(None)
    code, out, err = invoke("fsck", "--json")
    assert code == 0, err
    assert json.loads(out)["local_copies"] == {}


def test_a_project_that_does_not_exist_is_pointed_out(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n")
    invoke("data", "add", str(folder), "-n", "credit")
    code, out, err = invoke("--project", "fruad", "data", "ls", "--json")
    assert code == 0 and json.loads(out) == []
    assert "note: project 'fruad' has nothing in this store yet" in err
    assert "its projects: default" in err
    code, _, err = invoke("--project", "fruad", "experiments", "ls")
    assert "project 'fruad'" in err
    code, _, err = invoke("data", "ls")
    assert "note:" not in err


def test_the_global_options_may_follow_the_command(home: Path) -> None:
    invoke("projects", "create", "fraud")
    done = run_mloop("projects", "ls", "--json", "--project", "fraud")
    assert done.returncode == 0, done.stderr
    assert [p["name"] for p in json.loads(done.stdout)] == ["default", "fraud"]
    done = run_mloop("projects", "ls", "--project", "no spaces")
    assert done.returncode == 2 and "project name 'no spaces' is not valid" in done.stderr
