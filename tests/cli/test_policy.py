"""``mloop policy``: create, list, show, run, advance, pause, resume and remove, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

import mloop
import mloop.serving
from mloop.errors import EXIT_CHECK_FAILED
from tests.automation.conftest import spec
from tests.automation.conftest import world as world
from tests.cli.conftest import invoke


def _write(world: Path, **changes: object) -> Path:
    path = world / "retrain.yaml"
    values = spec(world, **changes)
    values["pipeline"]["file"] = "train.py"  # relative to the spec file's folder
    path.write_text(yaml.safe_dump(values))
    return path


def test_create_list_show_pause_resume_remove(world: Path) -> None:
    code, out, err = invoke("policy", "create", str(_write(world)))
    assert code == 0, err
    assert "created policy retrain-credit: on new version of dataset credit" in out
    code, out, _ = invoke("policy", "ls")
    assert code == 0 and "retrain-credit" in out and "credit-api" in out and "active" in out
    code, out, _ = invoke("policy", "show", "retrain-credit")
    assert code == 0
    assert f"{world / 'train.py'}:train(data=${{dataset}})" in out
    assert "accuracy >= champion.accuracy - 0.05 on holdout@latest (label label)" in out
    assert "credit-api, canary at 10%" in out
    code, out, _ = invoke("policy", "pause", "retrain-credit")
    assert (code, out.strip()) == (0, "paused policy retrain-credit")
    listed = json.loads(invoke("policy", "ls", "--json")[1])
    assert listed[0]["policy"]["paused"] is True and listed[0]["latest_run"] is None
    assert invoke("policy", "resume", "retrain-credit")[0] == 0
    shown = json.loads(invoke("policy", "show", "retrain-credit", "--json")[1])
    assert shown["policy"]["paused"] is False and shown["runs"] == []
    code, out, _ = invoke("policy", "rm", "retrain-credit")
    assert (code, out.strip()) == (0, "removed policy retrain-credit")
    code, out, err = invoke("policy", "show", "retrain-credit")
    assert code == 3 and "policy 'retrain-credit' not found" in out + err


def test_run_show_and_advance_tell_the_chain(world: Path) -> None:
    invoke("policy", "create", str(_write(world)))
    code, out, err = invoke("policy", "run", "retrain-credit", "--dataset", "credit@latest")
    assert code == 0, out + err
    run_id = out.split()[3].rstrip(":")
    assert f"policy retrain-credit run {run_id}: running" in out
    assert "1. triggered by a run started by hand; ${dataset} = credit@1" in out
    assert "pipeline " in out and "(data=credit@1) ran as run" in out
    assert "model version credit/2" in out
    assert "gate passed: credit/2 against credit@champion (credit/1) on holdout@1" in out
    assert "no approval needed (champion is not protected)" in out
    assert "deployed credit/2 as the canary of credit-api at 10% (revision 2)" in out

    mloop.serving.promote("credit-api", reason="looked fine")
    code, out, _ = invoke("policy", "advance", run_id)
    assert code == 0 and f"run {run_id}: succeeded" in out
    assert "PROMOTED (revision 3" in out and "credit@champion moved 1 -> 2" in out
    assert "notified log: sent" in out
    shown = json.loads(invoke("policy", "show", run_id, "--json")[1])
    assert shown["status"] == "succeeded" and shown["chain"][-1]["step"] == "promoted"
    code, out, _ = invoke("policy", "show", "retrain-credit")
    assert run_id in out and "succeeded" in out


def test_a_failed_run_exits_1(world: Path) -> None:
    gate = {"rules": ["accuracy >= 0.999"], "data": "holdout@latest", "targets": "label"}
    invoke("policy", "create", str(_write(world, gate=gate)))
    code, out, _ = invoke("policy", "run", "retrain-credit", "--json")
    assert code == EXIT_CHECK_FAILED
    run = json.loads(out)
    assert run["status"] == "failed" and "the gate failed" in run["error"]
    code, out, _ = invoke("policy", "advance", run["run_id"])
    assert code == EXIT_CHECK_FAILED and "error: the gate failed" in out


def test_mistakes_are_clear_errors(world: Path) -> None:
    bad = world / "bad.yaml"
    bad.write_text("name: x\ntrigger: {on: whim}\n")
    code, out, err = invoke("policy", "create", str(bad))
    assert code == 2 and 'missing "pipeline"' in out + err and "Traceback" not in out + err
    code, out, err = invoke("policy", "create", str(_write(world, trigger={"on": "whim"})))
    assert code == 2 and "trigger \"on\" is 'whim'" in out + err
    code, out, err = invoke("policy", "create", str(world / "missing.yaml"))
    assert code == 2 and "cannot read policy file" in out + err
    code, out, err = invoke("policy", "run", "nothing")
    assert code == 3 and "policy 'nothing' not found" in out + err
    code, out, err = invoke("policy", "advance", "ab" * 16)
    assert code == 3 and "not found" in out + err
    code, out, err = invoke("policy", "show", "ab" * 16)
    assert code == 3 and f"policy run {'ab' * 16!r} not found" in out + err
    invoke("policy", "create", str(_write(world)))
    invoke("policy", "pause", "retrain-credit")
    code, out, err = invoke("policy", "run", "retrain-credit")
    assert code == 11 and "is paused" in out + err
    code, out, err = invoke("policy", "resume", "nothing")
    assert code == 3
