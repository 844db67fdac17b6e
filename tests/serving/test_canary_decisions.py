"""Canary analysis on live traffic: a real server judges its canary, steps it up and promotes
it, or takes it out, and records each decision with its evidence."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import mloop
import mloop.serving
from mloop.errors import Conflict
from mloop.serving.asgi import app
from mloop.serving.canary_policy import CanaryPolicy
from mloop.serving.prediction_log import PredictionLogSettings
from mloop.serving.server import ServerSettings
from tests.serving.live import running

FAST = ServerSettings(refresh_seconds=0.1, prediction_log=PredictionLogSettings(flush_seconds=0.1))
# Latency on a busy test machine is noise: these tests are of the decisions, and the latency
# check has its own (tests/serving/test_canary_analysis.py).
QUICK = CanaryPolicy(
    steps=(10, 50),
    min_requests=15,
    min_seconds=0,
    interval_seconds=0.2,
    max_latency_ratio=20,
    latency_grace_ms=500,
)


def register(home: Path, slope: float, column: str = "x") -> int:
    """A version of ``scorer`` answering ``slope * column``; its number."""
    example = pd.DataFrame({column: [1.0, 2.0]})
    path = home.parent / f"scorer-{len(list(home.parent.glob('scorer-*')))}"
    model = LinearRegression().fit(example, [slope, 2 * slope])
    mloop.models.save(model, str(path), input_example=example)
    return mloop.models.register(str(path), "scorer").version


@pytest.fixture
def champion(home: Path) -> Path:
    register(home, 1.0)
    mloop.models.set_alias("scorer", "champion", 1)
    return home


def actions(name: str = "scorer-api") -> list[str]:
    return [change.action for change in mloop.serving.deployment_history(name)]


class Traffic:
    """Callers sending one-row requests until stopped; counts the statuses they got."""

    def __init__(self, url: str, column: str = "x") -> None:
        self.url, self.column = url, column
        self.statuses: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = np.random.default_rng(0)
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                body = {"inputs": {self.column: [float(rng.uniform(0, 10))]}}
                status = client.post(f"{self.url}/invocations", json=body).status_code
                self.statuses[status] = self.statuses.get(status, 0) + 1

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)


def wait_for(action: str, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while action not in actions():
        last = mloop.serving.deployment_history("scorer-api")[-1]
        assert time.monotonic() < deadline, f"no {action} in time: {actions()}; {last.evidence}"
        time.sleep(0.1)


@pytest.fixture
def served(champion: Path) -> Iterator[str]:
    mloop.serving.create_deployment("scorer-api", "scorer@champion")
    with running(app(["scorer-api"], settings=FAST)) as url:
        yield url


def test_a_good_canary_is_stepped_up_then_promoted(champion: Path, served: str) -> None:
    canary = register(champion, 1.005)  # answers within half a percent of the champion
    mloop.serving.update_deployment("scorer-api", canary=f"scorer/{canary}", canary_percent=10)
    # Judged on a few dozen requests, a p-value under 0.01 comes by chance 1% of the time:
    # this test is of the steps, not of the statistics (tests/serving/test_canary_analysis.py).
    sure = dataclasses.replace(QUICK, shift_significance=1e-9)
    mloop.serving.set_canary_policy("scorer-api", sure, reason="judge it")
    with Traffic(served):
        wait_for("promote")
    history = mloop.serving.deployment_history("scorer-api")
    assert [c.action for c in history] == ["create", "set", "set", "step", "promote"]
    step, promoted = history[3], history[4]
    assert (step.before["canary_percent"], step.after["canary_percent"]) == (10, 50)
    assert step.evidence["decision"] == "step" and step.evidence["canary"]["requests"] >= 15
    assert all(check["passed"] for check in step.evidence["checks"])
    assert {c["name"] for c in step.evidence["checks"]} == {
        "error_rate",
        "invalid_predictions",
        "latency_p99",
        "prediction_shift",
    }
    assert step.actor.endswith("(canary-analysis)") and step.reason.startswith("canary analysis")
    assert promoted.actor == step.actor  # the analysis's own decision, and its alias move
    assert mloop.models.alias_history("scorer", "champion")[-1].actor == step.actor
    assert promoted.evidence["percent"] == 50
    assert promoted.alias_move == {"model": "scorer", "alias": "champion", "from": 1, "to": 2}
    assert mloop.models.get_version("scorer@champion").version == canary
    deadline = time.monotonic() + 10  # the server follows the promotion
    while httpx.post(f"{served}/invocations", json={"inputs": {"x": [1.0]}}).headers[
        "x-model-version"
    ] != str(canary):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_canary_whose_predictions_shift_is_taken_out(champion: Path, served: str) -> None:
    canary = register(champion, 3.0)
    mloop.serving.create_deployment(
        "other", "scorer@champion", canary=f"scorer/{canary}", canary_percent=10
    )  # a deployment no server serves: never judged
    mloop.serving.update_deployment("scorer-api", canary=f"scorer/{canary}", canary_percent=10)
    mloop.serving.set_canary_policy("scorer-api", QUICK)
    with Traffic(served) as traffic:
        wait_for("abort")
    aborted = mloop.serving.deployment_history("scorer-api")[-1]
    assert aborted.after["canary"] is None and aborted.after["canary_percent"] == 0
    failed = [c for c in aborted.evidence["checks"] if not c["passed"]]
    assert [c["name"] for c in failed] == ["prediction_shift"]
    assert failed[0]["value"] > 0.1
    assert traffic.statuses == {200: sum(traffic.statuses.values())}
    assert mloop.models.get_version("scorer@champion").version == 1  # nothing promoted
    assert actions("other") == ["create"]


def test_a_failing_canary_is_taken_out_on_its_error_rate(champion: Path, served: str) -> None:
    canary = register(champion, 1.0, column="y")  # refuses every request the callers send
    mloop.serving.update_deployment("scorer-api", canary=f"scorer/{canary}", canary_percent=10)
    mloop.serving.set_canary_policy("scorer-api", QUICK)
    with Traffic(served) as traffic:
        wait_for("abort")
    aborted = mloop.serving.deployment_history("scorer-api")[-1]
    failed = {c["name"] for c in aborted.evidence["checks"] if not c["passed"]}
    assert "error_rate" in failed
    assert aborted.evidence["canary"]["error_rate"] == 1.0
    assert traffic.statuses.get(400, 0) >= 15  # the callers the canary failed


def test_analysis_needs_a_policy_and_a_canary(champion: Path) -> None:
    mloop.serving.create_deployment("scorer-api", "scorer@champion")
    with pytest.raises(Conflict, match="no canary analysis policy"):
        mloop.serving.analyze_canary("scorer-api")
    mloop.serving.set_canary_policy("scorer-api", QUICK)
    with pytest.raises(Conflict, match="no canary to judge"):
        mloop.serving.analyze_canary("scorer-api")


def test_a_canary_at_zero_is_started_at_the_first_step(champion: Path) -> None:
    canary = register(champion, 1.0)
    mloop.serving.create_deployment(
        "scorer-api", "scorer@champion", canary=f"scorer/{canary}", policy=QUICK
    )
    verdict = mloop.serving.analyze_canary("scorer-api", apply=False)
    assert (verdict.decision, verdict.to_percent) == ("step", 10)
    assert mloop.serving.get_deployment("scorer-api").canary_percent == 0  # not applied
    mloop.serving.analyze_canary("scorer-api")
    assert mloop.serving.get_deployment("scorer-api").canary_percent == 10
    verdict = mloop.serving.analyze_canary("scorer-api")  # no traffic yet: it waits
    assert verdict.decision == "wait" and "0 of 15 requests" in verdict.reason


def test_a_server_without_a_prediction_log_says_it_cannot_judge(
    champion: Path, caplog: pytest.LogCaptureFixture
) -> None:
    canary = register(champion, 3.0)
    mloop.serving.create_deployment(
        "scorer-api", "scorer@champion", canary=f"scorer/{canary}", canary_percent=50, policy=QUICK
    )
    unlogged = ServerSettings(prediction_log=PredictionLogSettings(enabled=False))
    with (
        caplog.at_level("WARNING", logger="mloop.serving"),
        running(app(["scorer-api"], settings=unlogged)) as url,
    ):
        for _ in range(60):
            httpx.post(f"{url}/invocations", json={"inputs": {"x": [1.0]}})
        time.sleep(1.0)
    assert "keeps no prediction log: the analysis cannot run here" in caplog.text
    assert actions() == ["create"]


def test_after_a_person_rolls_back_the_analysis_holds_until_the_next_change(
    champion: Path,
) -> None:
    canary = register(champion, 1.0)
    mloop.serving.create_deployment(
        "scorer-api", "scorer@champion", canary=f"scorer/{canary}", canary_percent=10, policy=QUICK
    )
    mloop.serving.update_deployment("scorer-api", canary_percent=50, reason="faster")
    mloop.serving.rollback("scorer-api", reason="too fast")
    verdict = mloop.serving.analyze_canary("scorer-api")
    assert verdict.decision == "hold" and "rolled the deployment back" in verdict.reason
    assert actions()[-1] == "rollback"  # nothing was done
    mloop.serving.set_canary_policy("scorer-api", QUICK, reason="resume")
    assert mloop.serving.analyze_canary("scorer-api").decision == "wait"


def test_a_canary_alias_that_moves_starts_its_ramp_again(champion: Path) -> None:
    for slope in (1.0, 1.0):
        register(champion, slope)
    mloop.models.set_alias("scorer", "challenger", 2)
    mloop.serving.create_deployment(
        "scorer-api", "scorer@champion", canary="scorer@challenger", canary_percent=50,
        policy=QUICK,
    )  # fmt: skip
    assert mloop.serving.analyze_canary("scorer-api", apply=False).decision == "wait"
    mloop.models.set_alias("scorer", "challenger", 3)  # another version takes the canary's share
    verdict = mloop.serving.analyze_canary("scorer-api")
    assert (verdict.decision, verdict.to_percent) == ("step", 10)
    assert "moved to version 3" in verdict.reason
    assert mloop.serving.get_deployment("scorer-api").canary_percent == 10
