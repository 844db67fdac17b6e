"""Each step of a policy run's chain told in one line."""

from __future__ import annotations

from typing import Any

import pytest

from mloop.automation.policy_chain import describe_step


@pytest.mark.parametrize(
    ("record", "line"),
    [
        (
            {"step": "trigger", "on": "alert", "monitor": "credit-drift", "rule": "psi",
             "fingerprint": "a23f", "values": {"psi": 0.3}, "dataset": "credit@4"},
            "triggered by alert of monitor credit-drift (rule psi), fingerprint a23f, "
            "values {'psi': 0.3}; ${dataset} = credit@4",
        ),
        (
            {"step": "trigger", "on": "schedule", "cron": "0 3 * * 1", "time": 5},
            "triggered by schedule 0 3 * * 1",
        ),
        (
            {"step": "trigger", "on": "dataset", "dataset": "credit@4"},
            "triggered by new dataset version credit@4",
        ),
        (
            {"step": "model-version", "model": "credit", "version": None},
            "no version of model credit was registered",
        ),
        (
            {"step": "gate", "passed": False, "candidate": "credit/2", "against": "credit@champion",
             "baseline": None, "data": "holdout@1",
             "rules": [{"rule": "accuracy >= 0.9", "passed": False, "value": 0.8}]},
            "gate FAILED: credit/2 against credit@champion (no champion yet) on holdout@1: "
            "accuracy >= 0.9: no (0.8)",
        ),
        (
            {"step": "approval", "needed": True, "alias": "champion", "rejected_by": ["bob"]},
            "rejected by bob",
        ),
        (
            {"step": "waiting-approval", "alias": "champion", "missing": ["1 approval(s) (has 0)"]},
            "waiting for approval to take champion: needs 1 approval(s) (has 0)",
        ),
        (
            {"step": "rolled-back", "action": "abort", "revision": 4, "actor": "ops",
             "reason": "canary analysis: errors"},
            "ROLLED BACK (abort, revision 4, by ops): canary analysis: errors",
        ),
        (
            {"step": "replaced", "action": "set", "revision": 5},
            "cancelled: the canary was changed (set, revision 5)",
        ),
        ({"step": "overdue", "note": "no decision after 1h"}, "overdue: no decision after 1h"),
        ({"step": "gate", "error": "NotFound: no holdout"}, "gate: failed: NotFound: no holdout"),
        ({"step": "custom", "time": 1, "what": "x"}, "custom: what=x"),
    ],
)  # fmt: skip
def test_each_step_reads_as_a_sentence(record: dict[str, Any], line: str) -> None:
    assert describe_step(record) == line
