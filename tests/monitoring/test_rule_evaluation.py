"""Deciding a rule on a window: values, facts, three-valued logic, and windows with no data."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from mloop.monitoring.rule_evaluation import decide
from mloop.monitoring.rule_language import parse_rule


def decided(
    text: str, metrics: dict[str, Any], champion: dict[str, Any] | None = None
) -> tuple[bool | None, list[str], dict[str, float]]:
    return decide(parse_rule(text)[0], metrics, champion)


@pytest.mark.parametrize(
    ("text", "holds", "facts"),
    [
        ("rows < 100", False, ["rows = 1200 >= 100"]),
        ("rows != 1200", False, ["rows = 1200 == 1200"]),
        ("rows > 1000 and rows < 2000", True, ["rows = 1200 > 1000", "rows = 1200 < 2000"]),
        ("rows > 2000 or rows < 1000", False, ["rows = 1200 <= 2000", "rows = 1200 >= 1000"]),
        ("rows > 2000 and rows < 1000", False, ["rows = 1200 <= 2000", "rows = 1200 >= 1000"]),
        ("rows / 1000 <= 1.2", True, ["rows / 1000 = 1.2 <= 1.2"]),
        ("-rows * 1e-3 == -1.2", True, ["-rows * 1e-3 = -1.2 == -1.2"]),
        ("rows > 10% * 1000", True, ["rows = 1200 > 10% * 1000"]),
        ("rows / 7 > 0", True, ["rows / 7 = 171.429 > 0"]),
        ("1 / rows > 0", True, ["1 / rows = 0.000833333 > 0"]),
    ],
)
def test_the_facts_that_decided(text: str, holds: bool, facts: list[str]) -> None:
    assert decided(text, {"rows": 1200}) == (holds, facts, {"rows": 1200.0})


def test_the_values_seen_are_every_metric_read_even_beside_a_missing_one() -> None:
    holds, facts, values = decided(
        "estimated_roc_auc < champion.roc_auc - 0.05 or lost > 1",
        {"estimated_roc_auc": 0.77, "accuracy": 0.83},
        {"roc_auc": 0.84},
    )
    assert holds is True  # true or unknown is true
    assert facts == ["estimated_roc_auc = 0.77 < champion.roc_auc - 0.05 = 0.79"]
    assert values == {"estimated_roc_auc": 0.77, "champion.roc_auc": 0.84}
    assert decided("lost > accuracy", {"accuracy": 0.83}) == (
        None,
        ["lost is not in this window's metrics"],
        {"accuracy": 0.83},
    )


FINE = {"psi(income)": 0.3, "rows": 10}


@pytest.mark.parametrize(
    ("metrics", "champion", "message"),
    [
        ({"rows": 10}, {"psi": 0.1}, "psi(income) is not in this window's metrics"),
        ({**FINE, "psi(income)": math.nan}, {"psi": 0.1}, "psi(income) is NaN"),
        ({**FINE, "psi(income)": None}, {"psi": 0.1}, "psi(income) is None, not a number"),
        (
            {**FINE, "psi(income)": "0.3"},
            {"psi": 0.1},
            "psi(income) is '0.3', not a number",
        ),
        (
            {**FINE, "psi(income)": [0.3]},
            {"psi": 0.1},
            "psi(income) is [0.3], not a number",
        ),
        ({**FINE, "rows": 0}, {"psi": 0.1}, "division by zero: rows is 0"),
        (FINE, None, "champion.psi: no champion metrics were given"),
        (FINE, {}, "champion.psi is not in the champion's metrics"),
        (FINE, {"psi": math.nan}, "champion.psi is NaN"),
        (
            {**FINE, "psi(income)": math.inf},
            {"psi": math.inf},
            "psi(income) - champion.psi is not a number",
        ),
        (
            {},
            None,
            "psi(income) is not in this window's metrics; champion.psi: no "
            "champion metrics were given; rows is not in this window's metrics",
        ),
    ],
)
def test_a_window_that_cannot_tell_has_no_data_and_says_why(
    metrics: dict[str, Any], champion: dict[str, Any] | None, message: str
) -> None:
    rule = "psi(income) - champion.psi > 1 / rows"
    assert decided(rule, FINE, {"psi": 0.1})[0] is True
    holds, reasons, _ = decided(rule, metrics, champion)
    assert (holds, "; ".join(reasons)) == (None, message)


def test_numbers_of_other_types_are_read() -> None:
    metrics = {"a": np.float32(0.5), "b": np.int64(1), "c": Decimal("1.5"), "d": True}
    holds, _, values = decided("a + b + c + d > 3", metrics)
    assert holds is True
    assert values == {"a": 0.5, "b": 1.0, "c": 1.5, "d": 1.0}
    assert all(type(value) is float for value in values.values())
    assert decided("a > 0", {"a": 10**400})[1] == [f"a is {10**400!r}, not a number"]


@pytest.mark.parametrize(
    ("a", "b", "and_", "or_"),
    [
        (True, True, True, True),
        (True, False, False, True),
        (True, None, None, True),
        (False, None, False, None),
        (None, None, None, None),
        (False, False, False, False),
    ],
)
def test_and_or_not_follow_three_valued_logic(
    a: bool | None, b: bool | None, and_: bool | None, or_: bool | None
) -> None:
    def window(holds: bool | None, key: str) -> dict[str, float]:
        return {} if holds is None else {key: 1.0 if holds else 0.0}

    metrics = {**window(a, "a"), **window(b, "b")}
    assert decided("a > 0.5 and b > 0.5", metrics)[0] is and_
    assert decided("b > 0.5 and a > 0.5", metrics)[0] is and_
    assert decided("a > 0.5 or b > 0.5", metrics)[0] is or_
    assert decided("b > 0.5 or a > 0.5", metrics)[0] is or_
    assert decided("not a > 0.5", metrics)[0] is (None if a is None else not a)


def test_no_data_reasons_are_given_once() -> None:
    assert decided("lost > 1 or lost < 0 or other > 1", {}) == (
        None,
        ["lost is not in this window's metrics", "other is not in this window's metrics"],
        {},
    )
