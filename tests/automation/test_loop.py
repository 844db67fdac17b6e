"""The loop closed by the agent alone: a drift alert starts a policy run that retrains, gates,
canaries and promotes; a bad canary is rolled back; a protected champion waits for approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import mloop
import mloop.serving
from mloop.automation import monitors, policies, policy_runs
from mloop.automation.agent import Agent
from mloop.errors import InvalidInput
from mloop.models.backend import backend
from mloop.models.card import model_card, render_markdown
from mloop.serving.canary_analysis import Verdict
from mloop.serving.canary_decisions import carry_out
from tests.automation.conftest import add_table, spec
from tests.models.conftest import credit_frame

START = datetime(2030, 1, 1, 12, tzinfo=UTC)


def watched(world: Path) -> Agent:
    """A monitor of new credit versions against credit@1, and a policy its alerts trigger."""
    monitors.create_monitor(
        "credit-watch", "dataset:credit", "credit@1", schedule="1h", window="3650d",
        checks=[{"kind": "drift", "columns": ["income", "debt"]}], rules=["drift_share > 0.3"],
    )  # fmt: skip
    gate = {"rules": ["accuracy >= 0.6"], "data": "holdout@latest", "targets": "label"}
    policies.create_policy(
        spec(world, trigger={"on": "alert", "monitor": "credit-watch"}, dataset="credit", gate=gate)
    )
    return Agent(holder="the-agent")


def shifted(world: Path) -> None:
    """Applicants whose incomes moved, versioned as the newest credit data."""
    frame = credit_frame(300, seed=9)
    frame["income"] += 20
    frame["label"] = ((frame.income - 1.5 * frame.debt) > 15).astype(int)  # the same rule
    add_table(frame, world, "credit")


def analysis(decision: str) -> None:
    """The server's canary watch deciding on credit-api's canary."""
    deployment = mloop.serving.get_deployment("credit-api")
    carry_out(deployment, Verdict(decision, f"canary {decision}", deployment.canary_percent, None))


def test_drift_retrains_gates_canaries_and_promotes(world: Path) -> None:
    agent = watched(world)
    [quiet] = agent.run_once(START)
    assert quiet.status == "ok" and agent.last_runs == []
    shifted(world)
    [report] = agent.run_once(START + timedelta(hours=1))
    assert report.status == "alerting"
    [run] = policy_runs.open_runs()
    assert run.chain[0]["step"] == "trigger" and run.chain[0]["monitor"] == "credit-watch"
    steps = [s["step"] for s in run.chain]
    assert steps == ["trigger", "pipeline-run", "model-version", "gate", "approval", "canary"]
    assert run.chain[1]["params"] == {"data": "credit@2"}  # the new data bound in
    assert mloop.serving.get_deployment("credit-api").canary == "credit/2"

    analysis("promote")
    agent.run_once(START + timedelta(hours=1, minutes=1))
    done = policy_runs.get_run(run.run_id)
    assert done.status == "succeeded" and done.chain[-1]["step"] == "promoted"
    assert mloop.models.get_version("credit@champion").version == 2
    assert agent.last_runs[-1].run_id == run.run_id
    # The model card says why this model is serving.
    card = model_card("credit/2")
    made_by = card["lineage"]["policy_run"]
    assert (made_by["policy"], made_by["run_id"], made_by["status"]) == (
        "retrain-credit",
        run.run_id,
        "succeeded",
    )
    assert made_by["trigger"]["monitor"] == "credit-watch"
    assert (
        f"alert drift_share_gt_0_3 of monitor credit-watch → policy retrain-credit run {run.run_id}"
        in render_markdown(card)
    )
    assert model_card("credit/1")["lineage"]["policy_run"] is None
    # Nothing starts again while the alert keeps firing: not when it is held back, nor when
    # it is sent again as a reminder (every 4 hours).
    for hours in (2, 6):
        agent.run_once(START + timedelta(hours=hours))
    assert [r.run_id for r in policy_runs.list_runs("retrain-credit")] == [run.run_id]


def test_a_monitor_that_fails_starts_no_policy(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = watched(world)
    agent.run_once(START)
    shifted(world)

    def unreadable(*args: object) -> None:
        raise InvalidInput("the dataset is unreadable")

    monkeypatch.setattr(monitors, "read_window", unreadable)
    [report] = agent.run_once(START + timedelta(hours=1))
    assert report.status == "failed" and report.alerts[0]["name"] == "monitor_failed"
    assert policy_runs.list_runs("retrain-credit") == []


def test_a_bad_canary_is_rolled_back_and_the_champion_stays(world: Path) -> None:
    agent = watched(world)
    agent.run_once(START)
    shifted(world)
    agent.run_once(START + timedelta(hours=1))
    [run] = policy_runs.open_runs()
    analysis("abort")
    agent.run_once(START + timedelta(hours=1, minutes=1))
    assert policy_runs.get_run(run.run_id).status == "rolled-back"
    assert mloop.models.get_version("credit@champion").version == 1
    assert mloop.serving.get_deployment("credit-api").canary is None


def test_a_protected_champion_waits_for_approval_then_goes_on(world: Path) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=1)
    agent = watched(world)
    agent.run_once(START)
    shifted(world)
    agent.run_once(START + timedelta(hours=1))
    [run] = policy_runs.open_runs()
    assert run.status == "waiting-approval"
    agent.run_once(START + timedelta(hours=1, minutes=1))
    assert policy_runs.get_run(run.run_id).status == "waiting-approval"  # still waiting
    mloop.models.approve("credit", 2, context=backend().context.acting_as("reviewer"))
    agent.run_once(START + timedelta(hours=1, minutes=2))
    assert mloop.serving.get_deployment("credit-api").canary == "credit/2"
    analysis("promote")
    agent.run_once(START + timedelta(hours=1, minutes=3))
    chain = policy_runs.get_run(run.run_id).chain
    assert [s["step"] for s in chain][-4:] == ["waiting-approval", "approval", "canary", "promoted"]
