"""Alert rules: parsed, evaluated on a window, tracked across windows, turned into alerts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import mloop.monitoring
from mloop.errors import FilterSyntaxError, InvalidInput
from mloop.monitoring.alerting import AlertBook
from mloop.monitoring.rules import (
    MAX_NAME_LENGTH,
    AlertRule,
    RuleResult,
    RuleTracker,
    rule_alerts,
)

WINDOW = {
    "drift_share": 0.4,
    "psi(income)": 0.25,
    "missing(income)": 0.02,
    "accuracy": 0.83,
    "estimated_roc_auc": 0.77,
    "rows": 1200,
    "drift(age)": 0.12,
    "drift(plan)": 0.05,
    "p_value(age)": 0.004,
    "missing(age)": 0.0,
    "missing(annual income)": 0.5,
}
CHAMPION = {"roc_auc": 0.84, "accuracy": 0.9}
T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "holds", "message"),
    [
        ("drift_share > 0.3", True, "drift_share = 0.4 > 0.3"),
        ("psi(income) > 0.2", True, "psi(income) = 0.25 > 0.2"),
        ("accuracy < 0.85 for 2 windows", True, "accuracy = 0.83 < 0.85"),
        (
            "estimated_roc_auc < champion.roc_auc - 0.05",
            True,
            "estimated_roc_auc = 0.77 < champion.roc_auc - 0.05 = 0.79",
        ),
        ("missing(income) > 0.01", True, "missing(income) = 0.02 > 0.01"),
        ("rows < 100", False, "rows = 1200 >= 100"),
        ("drift(age) >= 0.1 and drift(plan) >= 0.1", False, "drift(plan) = 0.05 < 0.1"),
        (
            "drift(age) >= 0.1 or drift(plan) >= 0.1",
            True,
            "drift(age) = 0.12 >= 0.1",
        ),
        (
            "p_value(age) < 0.01 or missing(age) > 0.2",
            True,
            "p_value(age) = 0.004 < 0.01",
        ),
        (
            "p_value(age) > 0.01 or missing(age) > 0.2",
            False,
            "p_value(age) = 0.004 <= 0.01 and missing(age) = 0 <= 0.2",
        ),
        ('missing("annual income") > 40%', True, 'missing("annual income") = 0.5 > 40%'),
        ("not rows < 100", True, "rows = 1200 >= 100"),
        ("rows / 1000 == 1.2", True, "rows / 1000 = 1.2 == 1.2"),
        ("-accuracy * 2 != -1.66", False, "-accuracy * 2 = -1.66 == -1.66"),
        ("0.5 < drift_share", False, "0.5 >= drift_share = 0.4"),
    ],
)
def test_the_rules_users_write_hold_or_not_with_the_values_seen(
    text: str, holds: bool, message: str
) -> None:
    result = AlertRule.parse(text).evaluate(WINDOW, champion=CHAMPION)
    assert (result.holds, result.message) == (holds, message)


def test_names_are_derived_from_the_canonical_text() -> None:
    assert AlertRule.parse("psi(income) > 0.2").name == "psi_income_gt_0_2"
    assert AlertRule.parse("  PSI(income)>0.2 ").name == "psi_income_gt_0_2"
    assert AlertRule.parse("accuracy < 0.85 FOR 2 Windows").name == "accuracy_lt_0_85_for_2_windows"
    assert AlertRule.parse('missing("annual income") >= 5%').name == (
        "missing_annual_income_ge_5_pct"
    )
    assert AlertRule.parse("a - b / c * d != -1e-3").name == (
        "a_minus_b_over_c_times_d_ne_minus_1e_minus_3"
    )
    assert AlertRule.parse('missing("âge") > 0').name == "missing_âge_gt_0"
    long = AlertRule.parse(" or ".join(f"metric_number_{i} > {i}" for i in range(20)))
    other = AlertRule.parse(" or ".join(f"metric_number_{i} > {i}" for i in range(21)))
    assert len(long.name) <= MAX_NAME_LENGTH
    assert re.fullmatch(r"metric_number_0_gt_0_or_\w+_[0-9a-f]{8}", long.name)
    assert long.name[:80] == other.name[:80]
    assert long.name != other.name  # the hash of the whole text tells them apart
    assert AlertRule.parse("rows < 100", name="Few rows").name == "Few rows"


def test_rules_as_values() -> None:
    rule = AlertRule.parse("rows < 100 for 3 windows", severity="critical", labels={"t": "r"})
    assert (rule.text, rule.windows, rule.severity, rule.labels) == (
        "rows < 100 for 3 windows",
        3,
        "critical",
        {"t": "r"},
    )
    same = AlertRule.parse("rows<100  for 3 WINDOWS", severity="critical", labels={"t": "r"})
    assert same == rule and hash(same) == hash(rule) and len({rule, same}) == 1
    assert rule != AlertRule.parse("rows < 100 for 3 windows", labels={"t": "r"})
    assert rule != "rows < 100 for 3 windows"
    assert str(AlertRule.parse("x > 1 for 1 window")) == "x > 1"
    stored = json.loads(json.dumps(rule.to_dict()))
    assert AlertRule.from_dict(stored) == rule
    assert AlertRule.from_dict({"text": "x > 1"}) == AlertRule.parse("x > 1")
    assert mloop.monitoring.AlertRule is AlertRule
    assert mloop.monitoring.rule_alerts is rule_alerts


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: AlertRule.parse(""), "alert rule: the rule is empty"),
        (lambda: AlertRule.parse(None), "an alert rule is text, got NoneType"),  # type: ignore[arg-type]
        (lambda: AlertRule.parse("x > 1", name=""), "a rule's name is non-empty text, got ''"),
        (lambda: AlertRule.parse("x > 1", name=3), "a rule's name is non-empty text, got 3"),  # type: ignore[arg-type]
        (
            lambda: AlertRule.parse("x > 1", name=" padded"),
            "a rule's name is 1 to 100 printable characters with no space at either end, "
            "got ' padded'",
        ),
        (
            lambda: AlertRule.parse("x > 1", name="a\nb"),
            "a rule's name is 1 to 100 printable characters",
        ),
        (
            lambda: AlertRule.parse("x > 1", name="n" * 101),
            "a rule's name is 1 to 100 printable characters",
        ),
        (
            lambda: AlertRule.parse("x > 1", severity="page"),
            "alert rule 'x_gt_1': severity 'page' is not one of info, warning, critical",
        ),
        (
            lambda: AlertRule.parse("x > 1", labels={"team": 1}),  # type: ignore[dict-item]
            "alert rule 'x_gt_1': labels map names to text, as in {'team': 'risk'}; "
            "got {'team': 1}",
        ),
        (
            lambda: AlertRule.parse("x > 1", labels={"": "x"}),
            "alert rule 'x_gt_1': labels map names to text",
        ),
        (
            lambda: AlertRule.from_dict({"name": "x"}),
            "not an alert rule: {'name': 'x'} has no 'text'",
        ),
        (
            lambda: AlertRule.parse("x > 1").evaluate([("x", 2)]),  # type: ignore[arg-type]
            "rule 'x_gt_1': metrics must map metric keys to numbers, got list",
        ),
        (
            lambda: AlertRule.parse("x > 1").evaluate({}, champion=0.9),  # type: ignore[arg-type]
            "rule 'x_gt_1': champion must map metric keys to numbers, got float",
        ),
    ],
)
def test_bad_rules_are_refused(call: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert str(caught.value).startswith(message)


def test_a_syntax_error_points_at_the_text_given() -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        AlertRule.parse("psi(income) > 0.2 for 2 days")
    assert caught.value.position == 24
    assert str(caught.value).endswith("psi(income) > 0.2 for 2 days\n                          ^")


def test_a_rule_fires_after_n_windows_in_a_row_and_no_data_breaks_the_streak() -> None:
    rule = AlertRule.parse("accuracy < 0.85 for 3 windows")
    tracker = RuleTracker()
    seen = []
    for accuracy in (0.8, 0.8, None, 0.8, 0.8, 0.8, 0.8, 0.9, 0.8):
        window = {} if accuracy is None else {"accuracy": accuracy}
        seen.append(tracker.record(rule, rule.evaluate(window)))
    assert seen == [False, False, False, False, False, True, True, False, False]
    assert tracker.history(rule) == (True, False, True)
    assert tracker.firing(rule) is False


def test_a_rule_without_for_fires_in_the_window_it_holds() -> None:
    rule = AlertRule.parse("rows < 100")
    tracker = RuleTracker()
    assert [tracker.record(rule, rule.evaluate({"rows": n})) for n in (5, 500, 5)] == [
        True,
        False,
        True,
    ]
    assert tracker.history(rule) == (True,)


def test_a_rule_whose_text_changed_under_its_name_starts_again() -> None:
    tracker = RuleTracker()
    old = AlertRule.parse("rows < 100 for 2 windows", name="few_rows")
    tracker.record(old, old.evaluate({"rows": 5}))
    new = AlertRule.parse("rows < 200 for 2 windows", name="few_rows")
    assert tracker.history(new) == ()
    assert tracker.record(new, new.evaluate({"rows": 5})) is False
    assert tracker.record(new, new.evaluate({"rows": 5})) is True


def test_the_tracker_survives_a_restart_through_its_state() -> None:
    rules = [AlertRule.parse("rows < 100 for 2 windows"), AlertRule.parse("x > 1")]
    tracker = RuleTracker()
    for rule in rules:
        tracker.record(rule, rule.evaluate({"rows": 5}))
    state = json.loads(json.dumps(tracker.to_state()))
    assert state == {
        "rules": {
            "rows_lt_100_for_2_windows": {"rule": "rows < 100 for 2 windows", "history": [True]},
            "x_gt_1": {"rule": "x > 1", "history": [None]},
        }
    }
    again = RuleTracker.from_state(state)
    assert again.record(rules[0], rules[0].evaluate({"rows": 5})) is True
    again.retain(rules[:1])
    assert list(again.to_state()["rules"]) == ["rows_lt_100_for_2_windows"]


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"rules": []},
        {"rules": {"a": {"history": []}}},
        {"rules": {"a": {"rule": "x > 1", "history": [1]}}},
        {"rules": {"a": {"rule": "x > 1", "history": ["yes"]}}},
        {"rules": {"a": {"rule": 3, "history": []}}},
        {"rules": {"a": {"rule": "x > 1", "history": 5}}},
    ],
)
def test_state_that_is_not_a_trackers_is_refused(state: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="not the state of a rule tracker"):
        RuleTracker.from_state(state)


def test_a_result_is_recorded_for_its_own_rule_only() -> None:
    rule = AlertRule.parse("x > 1")
    with pytest.raises(InvalidInput, match="the result of rule 'other' is recorded for rule"):
        RuleTracker().record(rule, RuleResult("other", True, "x = 2 > 1"))


def test_rule_alerts_fire_resolve_and_carry_the_evidence_through_an_alert_book() -> None:
    rules = [
        AlertRule.parse("psi(income) > 0.2", severity="critical", labels={"column": "income"}),
        AlertRule.parse("accuracy < 0.85 for 2 windows", name="accuracy_low"),
        AlertRule.parse("estimated_roc_auc < champion.roc_auc - 0.05"),
    ]
    tracker = RuleTracker()
    book = AlertBook(repeat_interval=timedelta(hours=1))
    labels = {"model": "credit", "column": "all"}

    holding = rule_alerts(rules, tracker, WINDOW, CHAMPION, labels, at=T0)
    assert [(a.name, a.severity) for a in holding] == [
        ("psi_income_gt_0_2", "critical"),
        ("estimated_roc_auc_lt_champion_roc_auc_minus_0_05", "warning"),
    ]
    psi = holding[0]
    assert psi.labels == {"model": "credit", "column": "income"}  # the rule's labels win
    assert psi.summary == "psi(income) = 0.25 > 0.2"
    assert psi.description == "alert rule psi_income_gt_0_2: psi(income) > 0.2"
    assert psi.values == {"psi(income)": 0.25}
    assert psi.started_at == T0
    assert holding[1].values == {"estimated_roc_auc": 0.77, "champion.roc_auc": 0.84}
    assert [a.state for a in book.observe(holding, at=T0)] == ["firing", "firing"]

    later = T0 + timedelta(minutes=10)
    calmer = {**WINDOW, "psi(income)": 0.1, "estimated_roc_auc": 0.8}
    holding = rule_alerts(rules, tracker, calmer, CHAMPION, labels, at=later)
    assert [(a.name, a.summary) for a in holding] == [
        ("accuracy_low", "accuracy = 0.83 < 0.85 (2 windows in a row)")
    ]
    sent = book.observe(holding, at=later)
    assert sorted((a.name, a.state) for a in sent) == [
        ("accuracy_low", "firing"),
        ("estimated_roc_auc_lt_champion_roc_auc_minus_0_05", "resolved"),
        ("psi_income_gt_0_2", "resolved"),
    ]


def test_rule_alerts_refuse_bad_input_before_recording_anything() -> None:
    rule = AlertRule.parse("x > 1")
    tracker = RuleTracker()
    with pytest.raises(
        InvalidInput,
        match=r"two rules are named 'x_gt_1': name one of them \(AlertRule.parse\(text, name=",
    ):
        rule_alerts([rule, AlertRule.parse("x>1", severity="critical")], tracker, {"x": 2})
    with pytest.raises(InvalidInput, match="give an aware time"):
        rule_alerts([rule], tracker, {"x": 2}, at=datetime(2027, 3, 1))
    with pytest.raises(InvalidInput, match="labels map names to text, got list"):
        rule_alerts([rule], tracker, {"x": 2}, labels=["model"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="metrics must map metric keys to numbers"):
        rule_alerts([rule], tracker, "x=2")  # type: ignore[arg-type]
    assert tracker.to_state() == {"rules": {}}
    [alert] = rule_alerts([rule], tracker, {"x": 2})
    assert alert.started_at.tzinfo is not None


def test_a_window_without_data_gives_a_result_that_says_so() -> None:
    rule = AlertRule.parse("psi(income) > 0.2 and rows / total > 0.5")
    result = rule.evaluate({"rows": 5, "total": 0})
    assert (result.holds, result.no_data, result.values) == (
        None,
        True,
        {"rows": 5.0, "total": 0.0},
    )
    assert result.message == (
        "no data: psi(income) is not in this window's metrics; division by zero: total is 0"
    )
    assert rule.evaluate({"psi(income)": 0.1, "rows": 5, "total": 0}).holds is False
