"""Data quality of a window: each check by hand, missing values, kinds, the suite, bad input."""

from __future__ import annotations

import datetime
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.data.expectations import Expectation, ExpectationSuite
from mloop.errors import InvalidInput
from mloop.monitoring.quality import ColumnQuality, QualityReport, data_quality
from mloop.monitoring.quality_baseline import QualityBaseline

INF = float("inf")


def baseline_of(**columns: Any) -> QualityBaseline:
    return QualityBaseline.from_frame(pd.DataFrame(columns))


def check(baseline: QualityBaseline, **columns: Any) -> QualityReport:
    return data_quality(pd.DataFrame(columns), baseline)


def test_a_window_like_the_reference_passes() -> None:
    baseline = baseline_of(x=[0.0, 10.0], c=["a", "b"], ok=[True, False])
    report = check(baseline, x=[5.0, 10.0, 0.0], c=["b", "b", "a"], ok=[True, True, False])
    assert report.passed and report.issues == ()
    assert report.volume is None and report.validation is None
    assert report.column("x") == ColumnQuality(
        "x", "numerical", "float64", 0.0, 0.0, out_of_range=0, out_of_range_share=0.0
    )


def test_missing_shares_count_none_nan_and_inf() -> None:
    baseline = baseline_of(x=[1.0, 2.0, np.nan, 4.0], c=["a", None, "b", "a"])
    report = check(
        baseline, x=[1.0, np.nan, INF, -INF, None, 2.0, 3.0, 4.0], c=["a", None, np.nan] + ["b"] * 5
    )
    x, c = report.column("x"), report.column("c")
    assert (x.missing, x.reference_missing, x.missing_rose) == (0.5, 0.25, True)
    assert (c.missing, c.reference_missing, c.missing_rose) == (0.25, 0.25, False)
    assert report.metrics()["missing(x)"] == 0.5
    assert report.issues == ("column 'x': missing share rose from 0.25 to 0.5 (tolerance 0.05)",)


def test_the_missing_tolerance_is_a_rise_beyond_it_not_at_it() -> None:
    baseline = baseline_of(x=[1.0] * 10)
    window = pd.DataFrame({"x": [1.0] * 9 + [np.nan]})  # 0.1 missing against 0.0
    assert not data_quality(window, baseline, missing_tolerance=0.1).column("x").missing_rose
    assert data_quality(window, baseline, missing_tolerance=0.09).column("x").missing_rose
    assert data_quality(window, baseline).column("x").missing_rose  # 0.05 by default


def test_out_of_range_counts_values_outside_the_reference_range_not_missing_ones() -> None:
    baseline = baseline_of(x=[0, 3, 10])
    report = check(baseline, x=[-1.0, 0.0, 5.0, 10.0, 11.0, np.nan, INF, 10.5])
    x = report.column("x")
    assert (x.out_of_range, x.out_of_range_share) == (3, 3 / 8)
    assert x.missing == 2 / 8
    assert report.metrics()["out_of_range(x)"] == 3 / 8
    assert "column 'x': 3 value(s) (37.50%) outside the reference's range" in report.issues


def test_integer_columns_with_missing_values_keep_their_kind_and_range() -> None:
    baseline = QualityBaseline.from_frame(
        pd.DataFrame({"n": pd.Series([1, None, 5], dtype="Int64"), "m": [2, 4, 6]})
    )
    window = pd.DataFrame(
        {"n": pd.Series([0, None, 5, 6], dtype="Int64"), "m": [2.0, np.nan, 7.0, 6.0]}
    )
    report = data_quality(window, baseline)
    n, m = report.column("n"), report.column("m")
    assert (n.type_changed, n.missing, n.out_of_range) == (False, 0.25, 2)
    assert (m.type_changed, m.missing, m.out_of_range) == (False, 0.25, 1)


def test_unseen_categories_count_rows_and_show_a_few_sorted_examples() -> None:
    baseline = baseline_of(c=["a", "b", "a"])
    report = check(baseline, c=["a", "d", "c", "d", None, "b"])
    c = report.column("c")
    assert (c.unseen, c.unseen_share, c.unseen_categories, c.unseen_examples) == (
        3,
        0.5,
        2,
        ("c", "d"),
    )
    assert report.metrics()["unseen(c)"] == 0.5
    assert (
        "column 'c': 3 row(s) (50.00%) with a category not in the reference, 2 distinct, "
        "e.g. ['c', 'd']"
    ) in (report.issues)


def test_the_examples_are_bounded() -> None:
    baseline = baseline_of(c=["a"])
    report = check(baseline, c=["z", "y", "x", "w", "v", "u", "t", "a"])
    c = report.column("c")
    assert (c.unseen, c.unseen_categories) == (7, 7)
    assert c.unseen_examples == ("t", "u", "v", "w", "x")


def test_category_columns_on_either_side() -> None:
    baseline = QualityBaseline.from_frame(
        pd.DataFrame({"size": pd.Categorical(["s", "m"], categories=["s", "m", "l"])})
    )
    window = pd.DataFrame({"size": pd.Categorical(["l", "s", None, "xl"])})
    size = data_quality(window, baseline).column("size")
    assert (size.type_changed, size.unseen, size.unseen_examples, size.missing) == (
        False,
        2,
        ("l", "xl"),
        0.25,
    )
    # A text window against a category reference, and the other way round, are the same kind.
    assert data_quality(pd.DataFrame({"size": ["m", "l"]}), baseline).column("size").unseen == 1
    text = baseline_of(size=["s", "m"])
    assert data_quality(window, text).column("size").unseen == 2


def test_boolean_columns() -> None:
    baseline = baseline_of(ok=[True, True], maybe=[True, None])
    report = check(baseline, ok=[True, False, False], maybe=[None, None, True])
    ok, maybe = report.column("ok"), report.column("maybe")
    assert (ok.unseen, ok.unseen_examples, ok.type_changed) == (2, (False,), False)
    assert (maybe.unseen, maybe.missing, maybe.reference_missing) == (0, 2 / 3, 0.5)
    assert maybe.missing_rose


def test_mixed_categories_sort_numbers_first() -> None:
    baseline = baseline_of(code=["a", 1])
    code = check(baseline, code=[10, "b", 2, "a", 1]).column("code")
    assert code.unseen_examples == (2, 10, "b")


@pytest.mark.parametrize(
    ("reference", "window", "note"),
    [
        ([1.0, 2.0], ["1.5", "2"], "was numerical (float64), now categorical (str)"),
        ([1, 2], [1, "x"], "was numerical (int64), now categorical (object)"),
        (["a", "b"], [1, 2], "was categorical (str), now numerical (int64)"),
        ([True, False], [1, 0], "was boolean (bool), now numerical (int64)"),
        (
            pd.to_datetime(["2026-01-01"]),
            ["2026-01-02"],
            "was datetime (datetime64[us]), now categorical (str)",
        ),
        ([1.0, 2.0], [pd.Timedelta(1)], "was numerical (float64), now unsupported"),
        (["a", "b"], [["a"], None], "was categorical (str), now values that are not categories"),
    ],
)
def test_a_change_of_kind_is_a_type_change_and_skips_the_value_checks(
    reference: Any, window: Any, note: str
) -> None:
    report = check(baseline_of(v=reference), v=window)
    v = report.column("v")
    assert v.type_changed and v.note.startswith(note)
    assert (v.out_of_range, v.unseen) == (None, None)
    assert report.metrics()["type_changed(v)"] == 1.0
    assert f"column 'v': type changed: {v.note}" in report.issues


@pytest.mark.parametrize(
    "window",
    [
        [np.nan, np.nan],
        [None, None],
        [INF, np.nan],
        pd.Series([None, None], dtype="str"),
        pd.Series([pd.NaT, pd.NaT], dtype="timedelta64[ns]"),
    ],
)
def test_a_column_that_became_all_missing_is_a_type_change(window: Any) -> None:
    v = check(baseline_of(v=[1.0, np.nan]), v=window).column("v")
    assert v.type_changed and v.missing == 1.0
    assert (v.out_of_range, v.out_of_range_share) == (0, 0.0)
    assert v.note == "every value is missing (the reference's missing share was 0.5)"
    assert v.missing_rose


def test_all_missing_on_both_sides_is_no_change() -> None:
    report = check(baseline_of(v=[None, None], x=[np.nan, np.nan]), v=[None], x=[np.nan])
    v, x = report.column("v"), report.column("x")
    assert not v.type_changed and not x.type_changed
    assert x.out_of_range is None and "the range is not checked" in x.note
    assert v.unseen is None and "no values: unseen categories" in v.note
    assert report.passed


def test_text_and_untracked_categories_are_not_checked_for_unseen_values() -> None:
    reference = pd.DataFrame({"note": ["a", "b", "c"], "code": pd.Categorical(["x", "y", "z"])})
    baseline = QualityBaseline.from_frame(reference, max_categories=2)
    report = data_quality(pd.DataFrame({"note": ["q"], "code": ["q"]}), baseline)
    for name in ("note", "code"):
        result = report.column(name)
        assert (result.unseen, result.tracked, result.type_changed) == (None, False, False)
        assert (
            result.note == "too many categories to track (3 > 2): unseen categories are not checked"
        )
        assert f"unseen({name})" not in report.metrics()
    raw = QualityBaseline.from_frame(pd.DataFrame({"raw": [b"a"]}))
    assert "not text, numbers or booleans" in check(raw, raw=[b"b"]).column("raw").note


def test_datetime_columns_are_checked_for_missing_values_only() -> None:
    baseline = baseline_of(at=pd.to_datetime(["2026-01-01", "2026-01-02"]))
    at = check(baseline, at=pd.to_datetime(["2027-01-01", None])).column("at")
    assert (at.missing, at.missing_rose, at.out_of_range, at.unseen) == (0.5, True, None, None)
    dates = check(baseline, at=[datetime.date(2026, 1, 1)]).column("at")
    assert not dates.type_changed


def test_missing_and_new_columns() -> None:
    baseline = baseline_of(a=[1], b=["x"], c=[True])
    report = check(baseline, b=["x", "x"], z=[0, 0], y=[1, 1])
    assert report.missing_columns == ("a", "c")
    assert report.new_columns == ("z", "y")
    a = report.column("a")
    assert (a.present, a.dtype, a.missing, a.note) == (False, None, None, "absent from the window")
    assert report.issues == (
        "column 'a' is missing from the window",
        "column 'c' is missing from the window",
        "new column(s) not in the reference: ['z', 'y']",
    )
    metrics = report.metrics()
    assert (metrics["missing_columns"], metrics["new_columns"]) == (2.0, 2.0)
    assert (metrics["missing(a)"], metrics["type_changed(a)"], metrics["out_of_range(a)"]) == (
        1.0,
        0.0,
        0.0,
    )


@pytest.mark.parametrize(
    ("rows", "volume"), [(49, "low"), (50, "ok"), (100, "ok"), (150, "ok"), (151, "high")]
)
def test_volume_against_the_expected_rows(rows: int, volume: str) -> None:
    baseline = baseline_of(x=[1.0])
    report = data_quality(pd.DataFrame({"x": [1.0] * rows}), baseline, expected_rows=100)
    assert report.volume == volume
    assert report.passed is (volume == "ok")
    if volume == "low":
        assert report.issues == ("volume low: 49 rows, expected 100 within 50%",)


def test_the_volume_tolerance_is_a_share_of_the_expected_rows() -> None:
    baseline = baseline_of(x=[1.0])
    window = pd.DataFrame({"x": [1.0] * 90})
    assert data_quality(window, baseline, expected_rows=100, volume_tolerance=0.1).volume == "ok"
    assert data_quality(window, baseline, expected_rows=100, volume_tolerance=0.09).volume == "low"
    assert data_quality(window, baseline, expected_rows=90, volume_tolerance=0).volume == "ok"


def test_an_empty_window_is_reported_as_such() -> None:
    baseline = baseline_of(x=[1.0, 2.0], c=["a", "b"])
    window = pd.DataFrame({"x": pd.Series([], dtype=float), "c": pd.Series([], dtype=object)})
    report = data_quality(window, baseline)
    x, c = report.column("x"), report.column("c")
    assert (x.missing, x.out_of_range, x.out_of_range_share, x.type_changed) == (
        None,
        0,
        None,
        False,
    )
    assert (c.missing, c.unseen, c.unseen_share, c.type_changed) == (None, 0, None, False)
    assert report.passed
    assert report.metrics() == {
        "rows": 0.0,
        "missing(x)": 0.0,
        "out_of_range(x)": 0.0,
        "type_changed(x)": 0.0,
        "missing(c)": 0.0,
        "unseen(c)": 0.0,
        "type_changed(c)": 0.0,
        "missing_columns": 0.0,
        "new_columns": 0.0,
        "failed_expectations": 0.0,
    }
    low = data_quality(window, baseline, expected_rows=10)
    assert (low.volume, low.passed) == ("low", False)
    bare = data_quality(pd.DataFrame(), baseline)
    assert bare.missing_columns == ("x", "c") and bare.metrics()["missing(x)"] == 0.0


def test_a_suite_runs_on_the_window_and_its_failures_are_issues() -> None:
    baseline = baseline_of(x=[1.0, 5.0], c=["a", "b"])
    suite = ExpectationSuite(
        "live",
        [
            Expectation("between", column="x", min=0, max=4),
            Expectation("not_null", column="c"),
            Expectation("row_count", min=1),
        ],
    )
    window = pd.DataFrame({"x": [1.0, 5.0, 2.0, 4.5], "c": ["a", "b", "a", "b"]})
    report = data_quality(window, baseline, suite=suite)
    assert report.validation is not None and report.validation.suite == "live"
    assert [r.expectation for r in report.failed_expectations] == ["between(x)"]
    assert report.issues == ("expectation between(x) failed: 50% unexpected",)
    assert report.metrics()["failed_expectations"] == 1.0
    assert report.to_dict()["validation"]["failed"][0]["examples"] == [5.0, 4.5]
    good = data_quality(window.head(1), baseline, suite=suite)
    assert good.passed and good.validation is not None and good.validation.success
    empty = data_quality(window.head(0), baseline, suite=suite)
    assert empty.issues == ("expectation row_count() failed: 0",)


def test_a_suite_on_a_column_of_mixed_types_fails_that_check_only() -> None:
    baseline = baseline_of(x=[1.0, 5.0])
    suite = ExpectationSuite("live", [Expectation("between", column="x", min=0, max=9)])
    report = data_quality(pd.DataFrame({"x": [1.0, "two"]}), baseline, suite=suite)
    assert report.column("x").type_changed
    assert [r.expectation for r in report.failed_expectations] == ["between(x)"]


def test_metrics_have_a_key_per_check_that_applies_to_the_baseline() -> None:
    baseline = baseline_of(
        n=[1, 2], c=["a", "b"], ok=[True, False], at=pd.to_datetime(["2026"] * 2)
    )
    metrics = check(baseline, n=[3], c=["a"], ok=[True], at=pd.to_datetime(["2026"])).metrics()
    assert metrics == {
        "rows": 1.0,
        "missing(n)": 0.0,
        "out_of_range(n)": 1.0,
        "type_changed(n)": 0.0,
        "missing(c)": 0.0,
        "unseen(c)": 0.0,
        "type_changed(c)": 0.0,
        "missing(ok)": 0.0,
        "unseen(ok)": 0.0,
        "type_changed(ok)": 0.0,
        "missing(at)": 0.0,
        "type_changed(at)": 0.0,
        "missing_columns": 0.0,
        "new_columns": 0.0,
        "failed_expectations": 0.0,
    }


def test_to_dict_is_json_ready() -> None:
    baseline = baseline_of(x=[1.0, 2.0], c=["a", "b"])
    suite = ExpectationSuite("s", [Expectation("between", column="x", min=0, max=1)])
    window = pd.DataFrame({"x": [INF, 3.0], "c": [datetime.date(2026, 1, 1), "a"], 7: [b"z"] * 2})
    report = data_quality(window, baseline, suite=suite, expected_rows=2)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["passed"] is False and data["volume"] == "ok" and data["new_columns"] == [7]
    assert data["columns"][1]["unseen_examples"] == ["2026-01-01"]
    assert data["columns"][0]["present"] is True
    assert data["metrics"] == report.metrics()
    assert data["issues"] == list(report.issues)
    assert data["validation"]["failed"][0]["examples"] == ["inf", 3.0]


def test_report_column_lookup_names_the_columns_it_has() -> None:
    report = check(baseline_of(x=[1]), x=[1])
    with pytest.raises(InvalidInput, match=r"no column 'y' in this report; it has \['x'\]"):
        report.column("y")


def test_a_wide_window_finds_its_few_bad_values() -> None:
    rng = np.random.default_rng(3)
    size = 20_000
    reference = pd.DataFrame(
        {
            **{f"x{i}": rng.normal(size=size) for i in range(10)},
            **{f"c{i}": rng.choice(["a", "b", "c"], size) for i in range(10)},
        }
    )
    window = reference.copy()
    window.loc[:99, "x0"] = 100.0
    window.loc[:9, "c0"] = "new"
    report = data_quality(window, QualityBaseline.from_frame(reference))
    assert report.column("x0").out_of_range == 100
    assert report.column("c0").unseen == 10
    assert len(report.issues) == 2


BASELINE = QualityBaseline.from_frame(pd.DataFrame({"x": [1.0]}))
WINDOW = pd.DataFrame({"x": [1.0]})


@pytest.mark.parametrize(
    ("current", "baseline", "options", "message"),
    [
        ({"x": [1.0]}, BASELINE, {}, "the window must be a pandas DataFrame, got dict"),
        (np.ones((2, 1)), BASELINE, {}, "the window must be a pandas DataFrame, got ndarray"),
        (pd.DataFrame([[1, 2]], columns=["x", "x"]), BASELINE, {}, "duplicate column names"),
        (WINDOW, BASELINE.to_dict(), {}, "baseline must be a QualityBaseline, got dict"),
        (WINDOW, None, {}, "baseline must be a QualityBaseline, got NoneType"),
        (WINDOW, BASELINE, {"suite": {"name": "s"}}, "suite must be an ExpectationSuite"),
        (WINDOW, BASELINE, {"expected_rows": 0}, "expected_rows must be a positive integer"),
        (WINDOW, BASELINE, {"expected_rows": -5}, "expected_rows must be a positive integer"),
        (WINDOW, BASELINE, {"expected_rows": 2.5}, "expected_rows must be a positive integer"),
        (WINDOW, BASELINE, {"expected_rows": True}, "expected_rows must be a positive integer"),
        (WINDOW, BASELINE, {"expected_rows": "10"}, "expected_rows must be a positive integer"),
        (WINDOW, BASELINE, {"volume_tolerance": -0.1}, "volume_tolerance must be a finite"),
        (WINDOW, BASELINE, {"volume_tolerance": INF}, "volume_tolerance must be a finite"),
        (WINDOW, BASELINE, {"volume_tolerance": "0.5"}, "volume_tolerance must be a finite"),
        (WINDOW, BASELINE, {"missing_tolerance": -0.01}, "missing_tolerance must be a finite"),
        (WINDOW, BASELINE, {"missing_tolerance": np.nan}, "missing_tolerance must be a finite"),
        (WINDOW, BASELINE, {"missing_tolerance": False}, "missing_tolerance must be a finite"),
        (WINDOW, BASELINE, {"missing_tolerance": None}, "missing_tolerance must be a finite"),
    ],
)
def test_bad_input_is_refused_before_anything_is_checked(
    current: Any, baseline: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        data_quality(current, baseline, **options)
