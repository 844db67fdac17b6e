"""A canary policy: its checks of every setting, and its plain-values round trip."""

from __future__ import annotations

from typing import Any

import pytest

from mloop.errors import InvalidInput
from mloop.serving.canary_policy import CanaryPolicy


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"steps": ()}, "steps must rise"),
        ({"steps": (10, 10)}, "steps must rise"),
        ({"steps": (0, 50)}, "steps must rise"),
        ({"steps": (10, 100)}, "steps must rise"),
        ({"steps": [10, 20]}, "steps must rise"),
        ({"steps": (10.5,)}, "steps must rise"),
        ({"min_requests": 0}, "min_requests must be a whole number >= 1"),
        ({"min_requests": 1.5}, "min_requests must be a whole number"),
        ({"min_seconds": -1}, "min_seconds must be a number >= 0"),
        ({"max_error_rate_increase": 2}, "max_error_rate_increase must be a number from 0 to 1"),
        ({"max_latency_ratio": 0.5}, "max_latency_ratio must be a number >= 1"),
        ({"max_shift": True}, "max_shift must be a number"),
        ({"metric": "f1"}, "metric must be one of accuracy, mae, rmse"),
        ({"promote": "yes"}, "promote must be true or false"),
        ({"interval_seconds": 0}, "interval_seconds must be a number >= 0.05"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CanaryPolicy(**settings)


def test_plain_values_round_trip_and_unknown_settings_are_named() -> None:
    policy = CanaryPolicy(steps=(5, 20, 60), metric="rmse", promote=False)
    assert CanaryPolicy.from_mapping(policy.to_mapping()) == policy
    assert policy.to_mapping()["steps"] == [5, 20, 60]
    with pytest.raises(InvalidInput, match=r"unknown canary policy setting.*stpes"):
        CanaryPolicy.from_mapping({"stpes": [10]})


def test_next_step() -> None:
    policy = CanaryPolicy(steps=(10, 25, 50))
    assert [policy.next_step(p) for p in (1, 10, 30, 50, 90)] == [10, 25, 50, None, None]
