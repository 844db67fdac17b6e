"""Policy runs end to end: a real pipeline, model, gate, approvals and deployment."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import mloop
import mloop.serving
from mloop.automation import policies, policy_runs
from mloop.entities import PolicyRun
from mloop.errors import Conflict, InvalidInput, NotFound
from mloop.models.backend import backend
from mloop.serving.canary_analysis import Verdict
from mloop.serving.canary_decisions import carry_out
from tests.automation.conftest import add_table, spec
from tests.models.conftest import credit_frame, fit_classifier, log_and_register


def _steps(run: PolicyRun) -> list[str]:
    return [s["step"] for s in run.chain]


def _started(world: Path, **changes: object) -> PolicyRun:
    """The policy created, a new credit version added, and a run started for it."""
    policies.create_policy(spec(world, **changes))
    add_table(credit_frame(300, seed=5), world, "credit")
    [fired] = policies.due_policies()
    return policy_runs.start_run(fired.policy.name, fired.event)


def _analysis(decision: str, to_percent: int | None = None) -> None:
    """What the server's canary watch does with a verdict on credit-api's canary."""
    deployment = mloop.serving.get_deployment("credit-api")
    verdict = Verdict(decision, f"test verdict: {decision}", deployment.canary_percent, to_percent)
    carry_out(deployment, verdict)


def test_new_data_is_trained_gated_deployed_and_promoted(
    world: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = _started(world)
    assert _steps(run) == ["trigger"] and run.chain[0]["dataset"] == "credit@2"
    run = policy_runs.advance(run.run_id)
    assert run.status == "running"
    assert _steps(run) == ["trigger", "pipeline-run", "model-version", "gate", "approval", "canary"]
    ran, made, gated, _, deployed = run.chain[1:]
    assert ran["params"] == {"data": "credit@2"} and ran["status"] == "FINISHED"
    assert mloop.get_run(ran["run_id"]).data.tags["mloop.kind"] == "pipeline"
    assert made["ref"] == "credit/2" and made["run_id"] in ran["run_ids"]
    assert gated["passed"] and gated["baseline"] == "credit/1" and gated["data"] == "holdout@1"
    [record] = mloop.models.gate_results("credit", 2)
    assert record.passed
    served = mloop.serving.get_deployment("credit-api")
    assert (served.canary, served.canary_percent, served.revision) == ("credit/2", 10, 2)
    assert deployed["revision"] == 2

    _analysis("step", 50)
    run = policy_runs.advance(run.run_id)
    assert run.status == "running" and run.chain[-1]["step"] == "deployment-change"
    assert (run.chain[-1]["action"], run.chain[-1]["percent"]) == ("step", 50)

    with caplog.at_level(logging.INFO, logger="mloop.tests.policy"):
        _analysis("promote")
        run = policy_runs.advance(run.run_id)
    assert run.status == "succeeded" and run.ended_time is not None
    promoted = run.chain[-1]
    assert promoted["step"] == "promoted" and promoted["revision"] == 4
    assert promoted["alias_move"] == {"model": "credit", "alias": "champion", "from": 1, "to": 2}
    assert "(canary-analysis)" in promoted["actor"]
    assert promoted["notified"] == ["log: sent"]
    assert mloop.models.get_version("credit@champion").version == 2
    assert "policy-run-succeeded" in caplog.text and "credit/2" in caplog.text


def test_advance_never_repeats_a_step(world: Path) -> None:
    run = policy_runs.advance(_started(world).run_id)
    again = policy_runs.advance(run.run_id)
    assert again.chain == run.chain and again.status == "running"
    assert [v.version for v in mloop.models.list_versions("credit")] == [1, 2]  # trained once
    _analysis("promote")
    done = policy_runs.advance(run.run_id)
    assert policy_runs.advance(run.run_id) == done
    assert policy_runs.open_runs() == []


def test_a_failed_gate_fails_the_run_and_deploys_nothing(world: Path) -> None:
    gate = {"rules": ["accuracy >= 0.999"], "data": "holdout@latest", "targets": "label"}
    run = policy_runs.advance(_started(world, gate=gate).run_id)
    assert run.status == "failed" and _steps(run)[-1] == "gate"
    assert run.error is not None and "the gate failed: accuracy >= 0.999" in run.error
    assert not run.chain[-1]["passed"] and run.chain[-1]["notified"] == ["log: sent"]
    assert mloop.serving.get_deployment("credit-api").canary is None


def test_a_protected_champion_waits_for_an_approval_by_someone_else(world: Path) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=1)
    run = policy_runs.advance(_started(world).run_id)
    assert run.status == "waiting-approval" and _steps(run)[-1] == "waiting-approval"
    assert run.chain[-1]["missing"] == ["1 approval(s) (has 0)"]
    assert policy_runs.advance(run.run_id) == run  # still waiting: nothing new recorded
    assert [r.run_id for r in policy_runs.open_runs()] == [run.run_id]
    assert mloop.serving.get_deployment("credit-api").canary is None

    reviewer = backend().context.acting_as("reviewer")
    mloop.models.approve("credit", 2, comment="looks right", context=reviewer)
    run = policy_runs.advance(run.run_id)
    assert run.status == "running"
    assert _steps(run)[-2:] == ["approval", "canary"]
    assert run.chain[-2]["approved_by"] == ["reviewer"]
    _analysis("promote")
    assert policy_runs.advance(run.run_id).status == "succeeded"
    assert mloop.models.get_version("credit@champion").version == 2


def test_a_rejection_fails_the_waiting_run(world: Path) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=1)
    run = policy_runs.advance(_started(world).run_id)
    mloop.models.reject("credit", 2, context=backend().context.acting_as("reviewer"))
    run = policy_runs.advance(run.run_id)
    assert run.status == "failed" and run.chain[-1]["rejected_by"] == ["reviewer"]
    assert run.error == "credit/2 was rejected by reviewer"


def test_a_protection_approvals_cannot_meet_fails(world: Path) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=0, gates=["f1 >= 0.5"])
    run = policy_runs.advance(_started(world).run_id)
    assert run.status == "failed" and run.error is not None
    assert "a passed gate" in run.error and "f1 >= 0.5" in run.error


def test_the_analysis_taking_the_canary_out_rolls_the_run_back(world: Path) -> None:
    run = policy_runs.advance(_started(world).run_id)
    _analysis("abort")
    run = policy_runs.advance(run.run_id)
    assert run.status == "rolled-back" and _steps(run)[-1] == "rolled-back"
    assert run.chain[-1]["action"] == "abort" and run.chain[-1]["revision"] == 3
    assert run.error == "the deployment's abort took credit/2 out"
    assert mloop.models.get_version("credit@champion").version == 1


def test_a_rollback_by_hand_rolls_the_run_back(world: Path) -> None:
    run = policy_runs.advance(_started(world).run_id)
    mloop.serving.rollback("credit-api", reason="errors went up")
    run = policy_runs.advance(run.run_id)
    assert run.status == "rolled-back" and run.chain[-1]["reason"] == "errors went up"


def test_a_canary_replaced_by_hand_cancels_the_run(world: Path) -> None:
    run = policy_runs.advance(_started(world).run_id)
    mloop.serving.update_deployment("credit-api", canary="")
    run = policy_runs.advance(run.run_id)
    assert run.status == "cancelled" and _steps(run)[-1] == "replaced"


def test_a_canary_undecided_past_the_timeout_is_reported_once(world: Path) -> None:
    run = policy_runs.advance(_started(world, timeout="1h").run_id)
    deployed = run.chain[-1]["time"]
    assert policy_runs.advance(run.run_id, now=deployed + 3_599_000).chain == run.chain
    late = policy_runs.advance(run.run_id, now=deployed + 3_700_000)
    assert late.status == "running" and _steps(late)[-1] == "overdue"
    assert late.chain[-1]["waited_seconds"] == 3700
    assert policy_runs.advance(run.run_id, now=deployed + 9_000_000).chain == late.chain


def test_a_deployment_with_a_canary_already_is_left_alone(world: Path) -> None:
    frame = credit_frame(100, seed=3)
    log_and_register(fit_classifier(frame, 0.5), frame)  # credit/2, a person's canary
    run = _started(world)
    mloop.serving.update_deployment("credit-api", canary="credit/2", canary_percent=5)
    run = policy_runs.advance(run.run_id)
    assert run.status == "failed" and run.error is not None
    assert "already has a canary (credit/2)" in run.error
    assert mloop.serving.get_deployment("credit-api").canary == "credit/2"


def test_a_pipeline_that_registers_nothing_fails_clearly(world: Path) -> None:
    (world / "train.py").write_text(
        (world / "train.py")
        .read_text()
        .replace('registered_model_name="credit"', 'registered_model_name="other"')
    )
    run = policy_runs.advance(_started(world).run_id)
    assert run.status == "failed" and run.error is not None
    assert "registered no version of model 'credit'" in run.error


def test_a_failing_pipeline_fails_the_run_with_its_run_id(world: Path) -> None:
    failing = "raise RuntimeError('no data at https://bob:pw@db.example.org/x')\n    frame = "
    (world / "train.py").write_text((world / "train.py").read_text().replace("frame = ", failing))
    run = policy_runs.advance(_started(world).run_id)
    assert run.status == "failed" and run.chain[-1]["status"] == "FAILED"
    assert run.error is not None and "no data at https://bob:***@db.example.org/x" in run.error
    assert mloop.get_run(run.chain[-1]["run_id"]).info.status.value == "FAILED"


def test_a_notifier_that_cannot_send_does_not_stop_the_run(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLICY_TEST_HOOK", raising=False)
    gate = {"rules": ["accuracy >= 0.999"], "data": "holdout@latest", "targets": "label"}
    notify = [{"kind": "webhook", "url": "${POLICY_TEST_HOOK}"}]
    run = policy_runs.advance(_started(world, gate=gate, notify=notify).run_id)
    assert run.status == "failed"
    [line] = run.chain[-1]["notified"]
    assert line.startswith("webhook: failed") and "POLICY_TEST_HOOK" in line


def test_starting_a_run_checks_first(world: Path) -> None:
    with pytest.raises(NotFound):
        policy_runs.start_run("nothing", {})
    policies.create_policy(spec(world))
    with pytest.raises(InvalidInput, match="must be a mapping"):
        policy_runs.start_run("retrain-credit", ["credit@1"])  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        policy_runs.start_run("retrain-credit", {"dataset": "credit@9"})
    with pytest.raises(InvalidInput, match="holds a secret written out"):
        policy_runs.start_run("retrain-credit", {"url": "https://bob:pw@example.org/x"})
    assert policy_runs.list_runs("retrain-credit") == []
    policies.pause_policy("retrain-credit")
    with pytest.raises(Conflict, match="is paused"):
        policy_runs.start_run("retrain-credit", {})
    policies.resume_policy("retrain-credit")
    run = policy_runs.start_run("retrain-credit", {})
    assert run.chain[0]["manual"] and run.chain[0]["dataset"] == "credit@1"
    with pytest.raises(Conflict, match="has a run still open"):
        policy_runs.start_run("retrain-credit", {})
    assert policy_runs.list_runs("retrain-credit") == [run]


def test_a_run_advanced_elsewhere_is_not_advanced_twice(world: Path) -> None:
    run = _started(world)
    backend().stores.leases.acquire(f"policy-run:{run.run_id}", "another-host:1", 60_000)
    with pytest.raises(Conflict, match="is being advanced by another-host:1"):
        policy_runs.advance(run.run_id)
    assert policy_runs.get_run(run.run_id).chain == run.chain


def test_the_spec_may_set_the_deployments_canary_analysis(world: Path) -> None:
    deploy = {"deployment": "credit-api", "canary_percent": 20, "analysis": {"steps": [20, 60]}}
    run = policy_runs.advance(_started(world, deploy=deploy).run_id)
    served = mloop.serving.get_deployment("credit-api")
    assert served.policy is not None and served.policy["steps"] == [20, 60]
    assert (served.canary, served.canary_percent) == ("credit/2", 20)
    assert run.chain[-1]["analysis"] is True and run.chain[-1]["revision"] == 3
    history = mloop.serving.deployment_history("credit-api")
    assert [c.reason for c in history[1:]] == [f"policy retrain-credit run {run.run_id}"] * 2


def test_an_alert_starts_a_run_on_the_latest_version_of_the_spec_dataset(world: Path) -> None:
    trigger = {"on": "alert", "monitor": "credit-drift", "rule": "psi"}
    policies.create_policy(spec(world, trigger=trigger, dataset="credit"))
    [policy] = policies.policies_for_alert("credit-drift", "psi")
    event = {
        "monitor": "credit-drift",
        "rule": "psi",
        "fingerprint": "a23f",
        "values": {"psi": 0.4},
    }
    run = policy_runs.start_run(policy.name, event)
    first = run.chain[0]
    assert (first["on"], first["fingerprint"], first["values"]) == ("alert", "a23f", {"psi": 0.4})
    assert first["dataset"] == "credit@1" and run.trigger_event == event
    assert policy_runs.advance(run.run_id).chain[1]["params"] == {"data": "credit@1"}


def test_a_spec_dataset_without_versions_is_refused_at_start(world: Path) -> None:
    trigger = {"on": "schedule", "cron": "@daily"}
    policies.create_policy(spec(world, trigger=trigger, dataset="not-yet"))
    with pytest.raises(InvalidInput, match="binds dataset 'not-yet', which has no version yet"):
        policy_runs.start_run("retrain-credit", {"time": 0})
    assert policy_runs.list_runs("retrain-credit") == []
