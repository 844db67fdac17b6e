"""Policies stored by name, and which of them fire: alerts, schedules, new dataset versions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mloop.automation import policies, policy_runs
from mloop.errors import AlreadyExists, InvalidInput, NotFound
from tests.automation.conftest import add_table, spec
from tests.models.conftest import credit_frame


def _millis(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_create_get_list_pause_resume_delete(world: Path) -> None:
    made = policies.create_policy(spec(world))
    assert made.trigger == {"on": "dataset", "name": "credit"}
    assert made.state == {"last_version": 1}  # what is there already does not fire
    assert policies.get_policy("retrain-credit") == made
    assert [p.name for p in policies.list_policies()] == ["retrain-credit"]
    assert policies.pause_policy("retrain-credit").paused
    assert not policies.resume_policy("retrain-credit").paused
    with pytest.raises(AlreadyExists):
        policies.create_policy(spec(world))
    policies.delete_policy("retrain-credit")
    with pytest.raises(NotFound):
        policies.get_policy("retrain-credit")
    with pytest.raises(NotFound):
        policies.delete_policy("retrain-credit")
    with pytest.raises(NotFound):
        policies.pause_policy("retrain-credit")


def test_a_bad_spec_stores_nothing(world: Path) -> None:
    with pytest.raises(InvalidInput):
        policies.create_policy(spec(world, gate={"rules": [], "data": "x", "targets": "y"}))
    assert policies.list_policies() == []


def test_alerts_find_the_policies_of_their_monitor_and_rule(world: Path) -> None:
    any_rule = {"on": "alert", "monitor": "credit-drift"}
    one_rule = {"on": "alert", "monitor": "credit-drift", "rule": "psi"}
    policies.create_policy(spec(world, name="any", trigger=any_rule, dataset="credit"))
    policies.create_policy(spec(world, name="one", trigger=one_rule, dataset="credit"))
    policies.create_policy(spec(world, name="other"))
    names = lambda found: sorted(p.name for p in found)  # noqa: E731
    assert names(policies.policies_for_alert("credit-drift", "psi")) == ["any", "one"]
    assert names(policies.policies_for_alert("credit-drift", "accuracy")) == ["any"]
    assert names(policies.policies_for_alert("fraud-drift", "psi")) == []
    policies.pause_policy("any")
    assert names(policies.policies_for_alert("credit-drift", "psi")) == ["one"]


def test_a_schedule_fires_once_at_each_cron_time(world: Path) -> None:
    weekly = {"on": "schedule", "cron": "0 3 * * 1"}
    made = policies.create_policy(spec(world, name="weekly", trigger=weekly, dataset="credit"))
    first = made.state["next_time"]
    assert first > made.created_time
    assert datetime.fromtimestamp(first / 1000, UTC).strftime("%a %H:%M") == "Mon 03:00"
    assert policies.due_policies(first - 1) == []
    [fired] = policies.due_policies(first + 5)
    assert fired.event == {"on": "schedule", "cron": "0 3 * * 1", "time": first}
    assert fired.policy.state["next_time"] == first + 7 * 86_400_000
    assert policies.due_policies(first + 10) == []  # fired once


def test_a_paused_schedule_restarts_from_now_when_resumed(world: Path) -> None:
    daily = {"on": "schedule", "cron": "0 0 * * *"}
    policies.create_policy(spec(world, name="daily", trigger=daily, dataset="credit"))
    policies.pause_policy("daily")
    assert policies.due_policies(_millis("2999-01-01T00:00:00")) == []
    resumed = policies.resume_policy("daily")
    assert resumed.state["next_time"] - resumed.updated_time <= 86_400_000


def test_a_dataset_policy_fires_on_each_new_version(world: Path) -> None:
    policies.create_policy(spec(world))
    assert policies.due_policies() == []
    add_table(credit_frame(100, seed=7), world, "credit")
    add_table(credit_frame(100, seed=8), world, "credit")
    [fired] = policies.due_policies()
    assert fired.event == {"on": "dataset", "dataset": "credit@3"}  # the newest, once
    assert fired.policy.state["last_version"] == 3
    assert policies.due_policies() == []


def test_a_dataset_policy_on_a_dataset_not_made_yet(world: Path) -> None:
    trigger = {"on": "dataset", "name": "fresh"}
    made = policies.create_policy(spec(world, name="fresh", trigger=trigger))
    assert made.state == {"last_version": 0}
    add_table(credit_frame(100, seed=9), world, "fresh")
    assert [f.event["dataset"] for f in policies.due_policies()] == ["fresh@1"]


def test_a_policy_with_an_open_run_waits_before_firing_again(world: Path) -> None:
    policies.create_policy(spec(world))
    add_table(credit_frame(100, seed=7), world, "credit")
    [fired] = policies.due_policies()
    policy_runs.start_run(fired.policy.name, fired.event)
    add_table(credit_frame(100, seed=8), world, "credit")
    assert policies.due_policies() == []  # its run is open: credit@3 is kept for later
    assert policies.get_policy("retrain-credit").state == {"last_version": 2}


def test_a_deployment_a_policy_deploys_to_is_not_removed_from_under_it(world: Path) -> None:
    import mloop.serving
    from mloop.errors import Conflict

    policies.create_policy(spec(world))
    with pytest.raises(Conflict, match=r"policy retrain-credit \(mloop policy rm retrain-credit\)"):
        mloop.serving.delete_deployment("credit-api")
    policies.delete_policy("retrain-credit")
    assert mloop.serving.delete_deployment("credit-api").action == "delete"
