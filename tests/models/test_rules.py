from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mloop.errors import InvalidInput
from mloop.models.rules import parse_rule


def test_a_rule_against_the_baseline() -> None:
    rule = parse_rule("roc_auc >= champion.roc_auc - 0.005")
    assert rule.uses_baseline
    passed = rule.check({"roc_auc": 0.90}, {"roc_auc": 0.904})
    assert passed == {
        "rule": "roc_auc >= champion.roc_auc - 0.005",
        "passed": True,
        "value": 0.90,
        "threshold": pytest.approx(0.899),
        "note": "",
    }
    assert not rule.check({"roc_auc": 0.89}, {"roc_auc": 0.904})["passed"]


def test_without_a_baseline_a_comparison_is_skipped_and_says_so() -> None:
    outcome = parse_rule("f1 > baseline.f1").check({"f1": 0.1}, None)
    assert outcome["passed"]
    assert "no baseline" in outcome["note"]


def test_absolute_rules_and_arithmetic() -> None:
    assert parse_rule("dp_diff <= 0.1").check({"dp_diff": 0.05}, None)["passed"]
    assert not parse_rule("dp_diff <= 0.1").check({"dp_diff": 0.2}, None)["passed"]
    rule = parse_rule("abs(candidate.rmse - champion.rmse) < max(0.1, champion.rmse * 0.05)")
    assert rule.check({"rmse": 1.0}, {"rmse": 1.05})["passed"]
    assert parse_rule("-accuracy != -1").check({"accuracy": 0.5}, None)["passed"]
    assert parse_rule("accuracy == 1").check({"accuracy": 1.0}, None)["passed"]


def test_nan_never_passes() -> None:
    assert not parse_rule("roc_auc >= 0.5").check({"roc_auc": math.nan}, None)["passed"]


def test_canonical_text_matches_across_spacing() -> None:
    assert (
        parse_rule("roc_auc>=champion.roc_auc-0.005").text
        == parse_rule("roc_auc >= champion.roc_auc - 0.005").text
    )


def test_an_unknown_metric_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"'auc'.*available: accuracy, f1"):
        parse_rule("auc > 0.5").check({"accuracy": 1.0, "f1": 1.0}, None)
    with pytest.raises(InvalidInput, match=r"the baseline \(champion\)"):
        parse_rule("f1 > champion.auc").check({"f1": 1.0}, {"f1": 1.0})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a comparison"),
        ("accuracy", "one comparison"),
        ("0.5 < accuracy < 0.9", "one comparison"),
        ("accuracy >", "does not parse"),
        ("__import__('os').system('x') > 1", "none of these"),
        ("accuracy > 'high'", "none of these"),
        ("accuracy ** 2 > 1", "none of these"),
        ("open(x) > 1", "none of these"),
        ("a.b.c > 1", "none of these"),
        ("accuracy > 1 if x else 2", "one comparison"),
        ("accuracy > (1 if x else 2)", "none of these"),
    ],
)
def test_anything_but_a_simple_comparison_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_rule(text)


def test_baseline_names_can_be_restricted() -> None:
    parse_rule("f1 > prod.f1", {"prod", "champion"})
    with pytest.raises(InvalidInput, match="names 'staging'"):
        parse_rule("f1 > staging.f1", {"prod", "champion"})


@given(st.text(max_size=40))
def test_any_text_parses_or_is_refused_clearly(text: str) -> None:
    try:
        rule = parse_rule(text)
    except InvalidInput:
        return
    assert rule.text
