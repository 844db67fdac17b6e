"""Judging a canary from logged traffic: waiting, each check failing alone, steps, promotion,
holding, and the feedback metric."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.serving.canary_analysis import judge, shift
from mloop.serving.canary_policy import CanaryPolicy

PRIMARY, CANARY = ("credit", "1"), ("credit", "2")
POLICY = CanaryPolicy(steps=(10, 50), min_requests=100, min_seconds=0)


def traffic(
    version: tuple[str, str],
    count: int,
    *,
    errors: int = 0,
    latency: float = 0.004,
    answers: Any = None,
    labels: Any = None,
) -> pd.DataFrame:
    rng = np.random.default_rng(int(version[1]))
    values = answers if answers is not None else rng.integers(0, 2, count).tolist()
    return pd.DataFrame(
        {
            "model": version[0],
            "version": version[1],
            "status": [500] * errors + [200] * (count - errors),
            "latency_seconds": rng.normal(latency, latency / 10, count).clip(0),
            "outputs": [None] * errors + [[v] for v in values[errors:]],
            "label": labels if labels is not None else [None] * count,
        }
    )


def verdict_on(*frames: pd.DataFrame, policy: CanaryPolicy = POLICY, percent: int = 10) -> Any:
    log = pd.concat(frames, ignore_index=True)
    return judge(policy, percent, log, PRIMARY, CANARY, since=0.0, now=120.0)


def failed(verdict: Any) -> list[str]:
    return [check.name for check in verdict.checks if not check.passed]


def test_too_little_traffic_waits() -> None:
    verdict = verdict_on(traffic(PRIMARY, 900), traffic(CANARY, 99))
    assert verdict.decision == "wait" and "99 of 100 requests" in verdict.reason
    slow = CanaryPolicy(steps=(10,), min_requests=10, min_seconds=600)
    assert verdict_on(traffic(PRIMARY, 900), traffic(CANARY, 99), policy=slow).decision == "wait"


def test_a_canary_like_its_primary_steps_up_then_is_promoted_or_held() -> None:
    same = (traffic(PRIMARY, 900), traffic(CANARY, 150))
    stepped = verdict_on(*same)
    assert (stepped.decision, stepped.to_percent, failed(stepped)) == ("step", 50, [])
    assert verdict_on(*same, percent=50).decision == "promote"
    held = verdict_on(*same, policy=CanaryPolicy(steps=(10, 50), min_seconds=0, promote=False),
                      percent=50)  # fmt: skip
    assert held.decision == "hold" and "promote it when you choose" in held.reason
    assert verdict_on(*same, percent=30).to_percent == 50  # a share set by hand: the next step


def test_each_check_fails_on_its_own() -> None:
    base = traffic(PRIMARY, 900, errors=9)  # 1% errors
    assert failed(verdict_on(base, traffic(CANARY, 200, errors=3))) == []  # 1.5%: +0.5 point
    erring = verdict_on(base, traffic(CANARY, 200, errors=10))  # 5%
    assert erring.decision == "abort" and failed(erring) == ["error_rate"]
    slow = verdict_on(base, traffic(CANARY, 200, latency=0.05))
    assert failed(slow) == ["latency_p99"] and "p99" in slow.reason
    tilted = verdict_on(base, traffic(CANARY, 200, answers=[1] * 200))
    assert failed(tilted) == ["prediction_shift"]


def test_a_small_difference_or_an_unsure_one_is_no_shift() -> None:
    rng = np.random.default_rng(7)
    numbers = rng.normal(10, 2, 5000)
    hair = shift(numbers, numbers[:2000] * 1.01)  # sure, but tiny
    assert hair.distance < 0.1
    few = shift(numbers, rng.normal(10, 2, 12))  # far by chance, not sure
    assert few.p_value > 0.05
    primary = traffic(PRIMARY, 2500, answers=numbers[:2500].tolist())
    canary = traffic(CANARY, 2500, answers=(numbers[2500:] * 1.01).tolist())
    assert failed(verdict_on(primary, canary)) == []
    moved = traffic(CANARY, 150, answers=(numbers[2500:2650] + 4).tolist())
    assert failed(verdict_on(primary, moved)) == ["prediction_shift"]


def test_the_metric_waits_for_labels_then_judges() -> None:
    policy = CanaryPolicy(steps=(10, 50), min_requests=100, min_seconds=0, metric="accuracy",
                          min_labels=50)  # fmt: skip
    answers = [0, 1] * 100
    right = traffic(PRIMARY, 200, answers=answers, labels=answers)
    unlabelled = traffic(CANARY, 200, answers=answers)
    waiting = verdict_on(right, unlabelled, policy=policy)
    assert waiting.decision == "wait" and "0 of 50 labelled" in waiting.reason
    wrong = traffic(
        CANARY, 200, answers=answers, labels=[1 - a for a in answers[:100]] + answers[100:]
    )
    worse = verdict_on(right, wrong, policy=policy)
    assert worse.decision == "abort" and failed(worse) == ["accuracy"]
    assert worse.canary.metric == 0.5 and worse.primary.metric == 1.0
    good = verdict_on(right, traffic(CANARY, 200, answers=answers, labels=answers), policy=policy)
    assert good.decision == "step" and good.canary.labelled == 200


def test_mae_on_numbers() -> None:
    policy = CanaryPolicy(steps=(10,), min_requests=10, min_seconds=0, metric="mae", min_labels=10)
    truth = [1.0, 2.0, 3.0] * 10
    primary = traffic(PRIMARY, 30, answers=[t + 0.1 for t in truth], labels=truth)
    canary = traffic(CANARY, 30, answers=[t + 0.5 for t in truth], labels=truth)
    verdict = verdict_on(primary, canary, policy=policy)
    assert failed(verdict) == ["mae"]
    assert verdict.canary.metric == pytest.approx(0.5)


def test_a_canary_starts_at_the_first_step() -> None:
    verdict = judge(POLICY, 0, pd.DataFrame(), PRIMARY, CANARY, since=0.0, now=1.0)
    assert (verdict.decision, verdict.to_percent) == ("step", 10)


def test_without_primary_traffic_the_canary_is_held_to_absolute_limits() -> None:
    alone = verdict_on(traffic(CANARY, 150))
    assert alone.decision == "step"
    assert {c.name: c.detail for c in alone.checks}["latency_p99"] == "no latency to compare"


def test_the_evidence_is_plain_values() -> None:
    import json

    evidence = verdict_on(traffic(PRIMARY, 900), traffic(CANARY, 150)).evidence()
    assert json.loads(json.dumps(evidence)) == evidence
    assert evidence["canary"]["requests"] == 150 and evidence["primary"]["error_rate"] == 0.0


def test_a_canary_answering_nothing_fails_and_nan_stays_out_of_the_evidence() -> None:
    import json

    nulls = verdict_on(traffic(PRIMARY, 900), traffic(CANARY, 150, answers=[None] * 150))
    assert nulls.decision == "abort" and failed(nulls) == ["invalid_predictions"]
    nans = verdict_on(traffic(PRIMARY, 900), traffic(CANARY, 150, answers=[float("nan")] * 150))
    assert failed(nans) == ["invalid_predictions"]
    json.dumps(nans.evidence(), allow_nan=False)  # no NaN in what the history keeps


def test_many_text_classes_are_compared_by_their_shares() -> None:
    names = [f"class-{n}" for n in range(40)]
    primary = traffic(PRIMARY, 900, answers=[names[n % 40] for n in range(900)])
    same = traffic(CANARY, 200, answers=[names[n % 40] for n in range(200)])
    assert failed(verdict_on(primary, same)) == []
    stuck = traffic(CANARY, 200, answers=["zzz"] * 200)
    assert failed(verdict_on(primary, stuck)) == ["prediction_shift"]


def test_a_null_in_the_labels_or_answers_is_no_evidence_for_the_metric() -> None:
    policy = CanaryPolicy(steps=(10,), min_requests=10, min_seconds=0, metric="mae", min_labels=10)
    truth = [1.0, 2.0, 3.0] * 10
    answers = [*truth[:-1], float("nan")]
    primary = traffic(PRIMARY, 30, answers=answers, labels=truth)
    canary = traffic(CANARY, 30, answers=truth, labels=truth)
    verdict = verdict_on(primary, canary, policy=policy)
    assert verdict.primary.metric == 0.0 and "mae" not in failed(verdict)


def test_requests_that_named_the_canary_are_not_its_evidence() -> None:
    named = traffic(CANARY, 150).assign(role="direct")
    verdict = verdict_on(traffic(PRIMARY, 900).assign(role="primary"), named)
    assert verdict.decision == "wait" and verdict.canary.requests == 0
