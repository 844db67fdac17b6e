"""``mloop deploy``: create, list, show, change, promote, roll back and remove, as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mloop
from tests.cli.conftest import invoke, run_mloop
from tests.serving.test_deployments import register_versions

ANA = {"MLOOP_USER": "ana"}


@pytest.fixture
def credit(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """credit/1..3; champion -> 1, challenger -> 2."""
    monkeypatch.setenv("MLOOP_USER", "ana")
    package = home.parent / "package"
    register_versions(package)
    mloop.models.set_alias("credit", "champion", 1)
    mloop.models.set_alias("credit", "challenger", 2)
    return package


def deploy(*args: str, user: str = "ana") -> tuple[int, str, str]:
    return invoke("deploy", *args, env={"MLOOP_USER": user})


def test_create_list_show_and_history(credit: Path) -> None:
    code, out, err = deploy(
        "create", "credit-api", "--model", "credit@champion",
        "--canary", "credit@challenger:10", "--shadow", "credit/3",
        "--sticky-header", "X-Customer", "--reason", "launch",
    )  # fmt: skip
    assert code == 0, err
    assert "created deployment credit-api (revision 1)" in out
    assert "canary credit@challenger at 10%" in out and "shadow credit/3" in out
    code, out, _ = deploy("ls")
    assert code == 0 and "credit-api" in out and "credit@challenger (10%)" in out
    code, out, _ = deploy("show", "credit-api")
    assert code == 0 and "x-customer" in out and "credit@champion" in out
    code, out, _ = deploy("show", "credit-api", "--json")
    shown = json.loads(out)
    assert (shown["primary"], shown["canary_percent"], shown["revision"]) == (
        "credit@champion",
        10,
        1,
    )
    code, out, _ = deploy("ls", "--json")
    assert [d["name"] for d in json.loads(out)] == ["credit-api"]
    code, out, _ = deploy("history", "credit-api")
    assert code == 0 and "create" in out and "launch" in out and "ana" in out
    code, out, _ = deploy("history", "credit-api", "--json")
    [change] = json.loads(out)
    assert (change["action"], change["after"]["canary"]) == ("create", "credit@challenger")


def test_set_promote_rollback_and_rm(credit: Path) -> None:
    assert deploy("create", "credit-api", "-m", "credit@champion")[0] == 0
    code, out, err = deploy("set", "credit-api", "--canary", "credit@challenger:20", user="bo")
    assert code == 0, err
    assert "changed deployment credit-api (revision 2)" in out and "at 20%" in out
    code, out, _ = deploy("set", "credit-api", "--percent", "50", "--revision", "2")
    assert code == 0 and "at 50%" in out
    code, out, err = deploy("promote", "credit-api", "--reason", "challenger won")
    assert code == 0, err
    assert "promoted deployment credit-api (revision 4): primary credit@champion" in out
    assert mloop.models.get_version("credit@champion").version == 2
    code, out, _ = deploy("history", "credit-api")
    assert "credit@champion: 1 -> 2" in out and "challenger won" in out and "bo" in out
    code, out, err = deploy("rollback", "credit-api", "--reason", "errors")
    assert code == 0, err
    assert "rolled back deployment credit-api (revision 5)" in out and "at 50%" in out
    assert mloop.models.get_version("credit@champion").version == 1
    code, out, _ = deploy("set", "credit-api", "--no-canary", "--shadow", "credit/3")
    assert code == 0 and "canary" not in out and "shadow credit/3" in out
    code, out, _ = deploy("rm", "credit-api", "--reason", "retired")
    assert code == 0 and "removed deployment credit-api" in out
    assert deploy("show", "credit-api")[0] == 3
    code, out, _ = deploy("history", "credit-api", "--json")
    assert [c["action"] for c in json.loads(out)] == [
        "create", "set", "set", "promote", "rollback", "set", "delete",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--model", "nope@champion"], 3, "'nope'"),
        (["--model", "credit@gone"], 3, "alias 'gone'"),
        (["--model", "credit/9"], 3, "9"),
        (["--model", "credit"], 2, "names no version"),
        (["--model", "credit@champion", "--canary", "credit/2:150"], 2, "0 to 100"),
        (["--model", "credit@champion", "--canary", "credit/2:ten"], 2, "MODEL_REF:PERCENT"),
        (["--model", "credit@champion", "--canary", "credit@champion:10"], 2, "as the primary"),
        (["--model", "credit/1", "--shadow", "credit@champion"], 2, "shadow"),
        (["--model", "credit/1", "--mode", "rainbow"], 2, "mode"),
    ],
)
def test_bad_input(credit: Path, args: list[str], code: int, message: str) -> None:
    got, _, err = deploy("create", "credit-api", *args)
    assert got == code, err
    assert message in err
    assert deploy("ls", "--json")[1].strip() == "[]"


def test_duplicates_stale_revisions_and_nothing_to_roll_back(credit: Path) -> None:
    assert deploy("create", "credit-api", "-m", "credit/1")[0] == 0
    code, _, err = deploy("create", "credit-api", "-m", "credit/2")
    assert code == 4 and "already exists" in err
    code, _, err = deploy("rollback", "credit-api")
    assert code == 11 and "no earlier routing" in err
    code, _, err = deploy("promote", "credit-api")
    assert code == 11 and "no canary to promote" in err
    assert deploy("set", "credit-api", "--shadow", "credit/2")[0] == 0
    code, _, err = deploy("set", "credit-api", "--shadow", "credit/3", "--revision", "1")
    assert code == 11 and "revision 2, not 1" in err
    code, _, err = deploy("rm", "credit-api", "--revision", "1")
    assert code == 11 and "revision 2, not 1" in err
    code, _, err = deploy("set", "credit-api", "--shadow", "credit/3", "--no-shadow")
    assert code == 2 and "not both" in err
    code, _, err = deploy("set", "credit-api")
    assert code == 2 and "nothing to change" in err
    code, _, err = deploy("show", "nope")
    assert code == 3 and "deployment 'nope' not found" in err


def test_a_protected_alias_refuses_an_unapproved_canary_unless_it_allows_canaries(
    credit: Path,
) -> None:
    assert invoke("models", "protect", "credit", "champion", env=ANA)[0] == 0
    code, _, err = deploy("create", "credit-api", "-m", "credit@champion", "--canary", "credit/2:5")
    assert code == 5
    assert "may not serve traffic of protected alias credit@champion" in err
    assert "1 approval(s) (has 0)" in err
    code, out, _ = invoke("models", "protect", "credit", "champion", "--allow-canary", env=ANA)
    assert code == 0 and "canaries of any version allowed" in out
    code, _, err = deploy("create", "credit-api", "-m", "credit@champion", "--canary", "credit/2:5")
    assert code == 0, err
    code, _, err = deploy("promote", "credit-api")
    assert code == 5 and "may not become credit@champion" in err


def test_console_script(credit: Path) -> None:
    created = run_mloop("deploy", "create", "api", "--model", "credit@champion", env=ANA)
    assert created.returncode == 0, created.stderr
    listed = run_mloop("deploy", "ls", "--json")
    assert [d["primary"] for d in json.loads(listed.stdout)] == ["credit@champion"]


def test_blue_green_shows_the_idle_twin(credit: Path) -> None:
    args = ("create", "twins", "-m", "credit/1", "--canary", "credit/2", "--mode", "blue-green")
    code, out, err = deploy(*args)
    assert code == 0, err
    assert "canary credit/2 (idle twin)" in out
    assert "credit/2 (idle)" in deploy("ls")[1]
    assert "idle twin" in deploy("show", "twins")[1]
    code, out, _ = deploy("promote", "twins")
    assert code == 0 and "primary credit/2, canary credit/1 (idle twin)" in out


def write_traffic(versions: dict[str, int], deployment: str = "credit-api") -> None:
    """Logged answers of ``deployment``: ``count`` one-row requests per version, now."""
    import time

    import numpy as np

    from mloop.serving.log_records import Prediction
    from mloop.serving.prediction_log import PredictionLog, PredictionLogSettings, log_objects

    log = PredictionLog(log_objects(), PredictionLogSettings())
    now = time.time()
    for version, count in versions.items():
        for n in range(count):
            log.record(
                Prediction(f"{version}-{n}", now, deployment, "credit", version, "plain",
                           {"x": [1.0]}, np.array([n % 2]), 0.003)
            )  # fmt: skip
    log.close()


def test_a_canary_policy_is_set_shown_judged_and_removed(credit: Path) -> None:
    assert deploy("create", "credit-api", "--model", "credit@champion",
                  "--canary", "credit/2:10")[0] == 0  # fmt: skip
    code, out, err = deploy("analyze", "credit-api")
    assert code == 11 and "no canary analysis policy" in out + err
    code, out, err = deploy(
        "policy", "credit-api", "--steps", "10,50", "--min-requests", "20", "--min-seconds", "0",
        "--metric", "accuracy", "--reason", "judge it",
    )  # fmt: skip
    assert code == 0, err
    assert "canary analysis steps 10%/50% then promote; 20 requests a step, accuracy" in out
    code, out, _ = deploy("show", "credit-api")
    assert "steps 10%/50% then promote" in out
    code, out, _ = deploy("analyze", "credit-api")
    assert code == 0 and "wait: the canary has answered 0 of 20 requests" in out
    write_traffic({"1": 180, "2": 20})
    code, out, _ = deploy("analyze", "credit-api")
    assert "pass  error_rate" in out and "pass  prediction_shift" in out
    assert "labelled requests for accuracy" in out and "(not applied" in out
    code, out, _ = deploy("analyze", "credit-api", "--json")
    evidence = json.loads(out)
    assert evidence["canary"]["requests"] == 20 and evidence["primary"]["requests"] == 180
    code, out, _ = deploy("policy", "credit-api", "--steps", "10,50", "--min-requests", "20",
                          "--min-seconds", "0")  # fmt: skip
    code, out, _ = deploy("analyze", "credit-api", "--apply")
    assert code == 0 and "wait" in out  # a new revision: its window starts now
    write_traffic({"1": 180, "2": 20})
    code, out, _ = deploy("analyze", "credit-api", "--apply")
    assert code == 0 and "step to 50%: every check passed at 10%" in out
    assert mloop.serving.get_deployment("credit-api").canary_percent == 50
    code, out, _ = deploy("history", "credit-api", "--json")
    assert json.loads(out)[-1]["evidence"]["decision"] == "step"
    code, out, _ = deploy("policy", "credit-api", "--off")
    assert code == 0 and "no canary analysis" in out
    assert mloop.serving.get_deployment("credit-api").policy is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "50,10"], "steps must rise"),
        (["--steps", "ten"], "--steps 'ten': write rising whole percentages"),
        (["--metric", "f1"], "--metric must be one of accuracy, mae, rmse"),
        (["--max-latency-ratio", "0.5"], "--max-latency-ratio must be a number >= 1"),
        (["--max-shift", "2"], "--max-shift must be a number from 0 to 1"),
    ],
)
def test_a_bad_policy_is_refused_and_nothing_changes(
    credit: Path, args: list[str], message: str
) -> None:
    assert deploy("create", "credit-api", "--model", "credit@champion")[0] == 0
    code, out, err = deploy("policy", "credit-api", *args)
    assert code != 0 and message in out + err and "Traceback" not in out + err
    assert mloop.serving.get_deployment("credit-api").revision == 1


def test_a_blue_green_deployment_takes_no_policy(credit: Path) -> None:
    assert deploy("create", "credit-api", "--model", "credit@champion",
                  "--canary", "credit/2", "--mode", "blue-green")[0] == 0  # fmt: skip
    code, out, err = deploy("policy", "credit-api")
    assert code != 0 and "in blue-green mode the twin takes no share" in out + err
