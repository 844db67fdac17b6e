from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

import mloop
from mloop.config import load_settings
from tests.cli.conftest import invoke, run_mloop
from tests.pipelines import flows

FLOW = "tests.pipelines.flows"


def test_run_with_params_then_ls_and_show(home: Path) -> None:
    code, out, err = invoke("pipeline", "run", f"{FLOW}:training", "-p", "rows=20", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "FINISHED"
    run_id = result["run_id"]
    code, out, _ = invoke("pipeline", "ls", "--json")
    assert [r["run_id"] for r in json.loads(out)] == [run_id]
    code, out, _ = invoke("pipeline", "show", run_id, "--json")
    shown = json.loads(out)
    assert [(s["step"], s["status"]) for s in shown["steps"]] == [
        ("load", "FINISHED"),
        ("split", "FINISHED"),
        ("train", "FINISHED"),
        ("evaluate", "FINISHED"),
    ]
    assert shown["steps"][3]["upstream"] == ["split", "train"]
    code, out, _ = invoke("pipeline", "show", run_id[:6])  # a unique prefix will do
    assert code == 0
    assert f"pipeline training · FINISHED · run {run_id}" in out
    assert "evaluate · FINISHED" in out
    # the second run is served from the cache
    code, out, _ = invoke("pipeline", "run", f"{FLOW}:training", "-p", "rows=20")
    assert code == 0
    assert out.count("yes") == 4


def test_config_file_and_overrides(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "params.yaml"
    config.write_text("rows: 8\nlr: 2\n")
    code, out, err = invoke(
        "pipeline", "run", f"{FLOW}:training", "-c", str(config), "-p", "lr=1", "--json"
    )
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    import mloop

    assert mloop.Client().get_run(run_id).data.params == {"rows": "8", "lr": "1.0"}


def test_bad_input_exits_2(home: Path, tmp_path: Path) -> None:
    cases = [
        (f"{FLOW}:training", "-p", "rows=many"),
        (f"{FLOW}:training", "-p", "nope=1"),
        (f"{FLOW}:training", "-p", "rows"),
        (f"{FLOW}:square",),
        ("no.such.module:training",),
        ("training",),
        (str(tmp_path / "missing.py") + ":training",),
    ]
    for args in cases:
        code, _, err = invoke("pipeline", "run", *args)
        assert code == 2, (args, err)
        assert err.startswith("error:"), err
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    code, _, err = invoke("pipeline", "run", f"{FLOW}:training", "-c", str(bad))
    assert code == 2 and "must be a mapping" in err


def test_a_failing_pipeline_exits_9_and_resumes(home: Path) -> None:
    flows.FAIL.add("evaluate")
    try:
        code, _, err = invoke("pipeline", "run", f"{FLOW}:training")
    finally:
        flows.FAIL.clear()
    assert code == 9
    assert "step 'evaluate' failed" in err
    run_id = err.split("mloop pipeline resume ")[1].strip(" )\n")
    code, out, _ = invoke("pipeline", "show", run_id, "--json")
    assert json.loads(out)["status"] == "FAILED"
    code, out, err = invoke("pipeline", "resume", run_id[:8].upper(), "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "FINISHED"
    assert json.loads(out)["run_id"] == run_id
    code, _, err = invoke("pipeline", "show", "0" * 32)
    assert code == 3


def test_run_a_file_from_the_console_script(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "my_flow.py"
    script.write_text(
        "import mloop\n\n"
        "@mloop.step\n"
        "def hello(name: str) -> str:\n"
        "    print('hello', name)\n"
        "    return f'hello {name}'\n\n"
        "@mloop.pipeline\n"
        "def greet(name: str = 'world') -> None:\n"
        "    hello(name)\n"
    )
    env = {"MLOOP_HOME": str(home), "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd()]))}
    done = run_mloop("pipeline", "run", f"{script}:greet", "-p", "name=ml", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "FINISHED"
    assert "hello ml" in done.stderr  # with --json, what steps print goes to stderr


def run_with_global_stores(home: Path, tmp_path: Path, *options: str) -> None:
    """``mloop --tracking-uri T --artifacts-uri X pipeline run`` puts everything under X.

    Both the runner's records and what the step logs in its worker (a process, a
    Ray task) land in X; the environment (the ``home`` fixture's stores) is
    neither used nor changed.
    """
    tracking, artifacts = f"sqlite:///{tmp_path}/elsewhere/mloop.db", tmp_path / "objects"
    environment = dict(os.environ)
    code, out, err = invoke(
        "--tracking-uri",
        tracking,
        "--artifacts-uri",
        str(artifacts),
        "pipeline",
        "run",
        f"{FLOW}:noted",
        "-p",
        "text=kept",
        "--json",
        *options,
    )
    assert code == 0, err
    assert dict(os.environ) == environment  # no values passed through the environment
    result = json.loads(out)
    client = mloop.Client(tracking_uri=tracking, artifacts_uri=str(artifacts))
    step_run = result["steps"]["note"]["run_id"]
    assert client.load_text(step_run, "note.txt") == "kept"  # read back from X, hash-checked
    assert {a.path for a in client.list_artifacts(step_run, "outputs")} == {"outputs/output.json"}
    assert any(path.is_file() for path in artifacts.rglob("*"))
    assert not (home / "artifacts").exists()
    assert not (home / "mloop.db").exists()


@pytest.mark.parametrize("workers", ["1", "2"], ids=["in-process", "worker-processes"])
def test_global_stores_reach_the_steps(home: Path, tmp_path: Path, workers: str) -> None:
    run_with_global_stores(home, tmp_path, "--max-workers", workers)


def test_settings_travel_to_workers_by_pickle(home: Path) -> None:
    settings = load_settings()
    assert pickle.loads(pickle.dumps(settings)) == settings


@pytest.mark.parametrize("workers", ["1", "2"], ids=["in-process", "worker-processes"])
def test_the_project_and_the_actor_reach_the_steps(
    home: Path, tmp_path: Path, workers: str
) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("x")
    mloop.set_project("fraud")
    mloop.data.add(tmp_path / "d", name="ds")
    mloop.data.add(tmp_path / "d", name="ds", description="same content: still version 1")
    mloop.set_project(None)
    code, out, err = invoke(
        "--project",
        "fraud",
        "pipeline",
        "run",
        f"{FLOW}:located",
        "--json",
        "--max-workers",
        workers,
        env={"MLOOP_USER": "ana"},
    )
    assert code == 0, err
    step_run = json.loads(out)["steps"]["where_am_i"]["run_id"]
    seen = json.loads(mloop.Client().load_text(step_run, "outputs/output.json"))
    assert seen == "fraud ana ds@1"
