"""Drift of a table: the automatic methods, thresholds, missing values, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.errors import InvalidInput
from mloop.monitoring import statistics
from mloop.monitoring.table_drift import ColumnDrift, drift

RNG = np.random.default_rng(7)


def frame(size: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(size + int(shift * 10))
    return pd.DataFrame(
        {
            "income": rng.normal(50 + shift, 10, size),
            "plan": rng.choice(["basic", "plus", "pro"], size),
            "churned": rng.choice([True, False], size),
            "children": rng.integers(0, 4, size),
        }
    )


def test_small_reference_uses_the_tests() -> None:
    report = drift(frame(300), frame(200, shift=10))
    methods = {c.column: (c.kind, c.method) for c in report.columns}
    assert methods == {
        "income": ("numerical", "ks"),
        "plan": ("categorical", "chi2"),
        "churned": ("categorical", "z"),
        "children": ("categorical", "chi2"),  # an integer column of 4 values
    }
    assert report.column("income").drifted
    assert report.column("income").threshold == 0.05
    assert report.drifted_columns == ["income"]
    assert report.drift_share == 0.25 and not report.dataset_drifted


def test_large_reference_uses_the_distances() -> None:
    report = drift(frame(1500), frame(1000))
    methods = {c.column: c.method for c in report.columns}
    assert methods == {
        "income": "wasserstein",
        "plan": "jensenshannon",
        "churned": "jensenshannon",
        "children": "jensenshannon",
    }
    assert all(c.p_value is None and c.threshold == 0.1 for c in report.columns)
    assert not report.dataset_drifted


def test_the_threshold_between_tests_and_distances_is_1000_reference_values() -> None:
    reference = pd.DataFrame({"x": np.arange(1001.0)})
    assert drift(reference, reference).column("x").method == "wasserstein"
    reference.loc[0, "x"] = np.nan  # 1000 values left: missing ones do not count
    assert drift(reference, reference).column("x").method == "ks"


def test_the_values_are_the_statistics_of_the_clean_columns() -> None:
    reference, current = frame(300), frame(200, shift=3)
    report = drift(reference, current)
    income = statistics.ks(reference["income"], current["income"])
    assert report.column("income").statistic == income.statistic
    assert report.column("income").p_value == income.p_value
    plan = statistics.chi_squared(reference["plan"], current["plan"])
    assert report.column("plan").p_value == plan.p_value
    assert report.column("plan").details["dof"] == 2
    churned = statistics.z_test(reference["churned"], current["churned"])
    assert report.column("churned").statistic == churned.statistic
    large = drift(frame(1500), frame(1200, shift=3))
    wasserstein = large.column("income")
    assert wasserstein.statistic == statistics.wasserstein_normed(
        frame(1500)["income"], frame(1200, shift=3)["income"]
    )
    assert wasserstein.details["wasserstein"] > wasserstein.statistic


def test_distance_drifts_at_the_threshold_and_test_below_it() -> None:
    reference = pd.DataFrame({"x": ["a", "b"] * 10})
    current = pd.DataFrame({"x": ["a", "c"] * 10})
    result = drift(reference, current, method="jensenshannon").column("x")
    exact = result.statistic
    assert exact is not None
    assert drift(reference, current, method="jensenshannon", threshold=exact).column("x").drifted
    p_value = drift(reference, current, method="chi2").column("x").p_value
    assert p_value is not None
    assert not drift(reference, current, method="chi2", threshold=p_value).column("x").drifted


@pytest.mark.parametrize("method", ["ks", "chi2", "psi", "jensenshannon", "wasserstein"])
def test_each_method_can_be_asked_for(method: str) -> None:
    report = drift(frame(300), frame(300, shift=20), columns=["income"], method=method)
    result = report.column("income")
    assert result.method == method and result.drifted
    assert (result.p_value is None) == (method in {"psi", "jensenshannon", "wasserstein"})


def test_methods_and_thresholds_per_column_override_the_defaults() -> None:
    report = drift(
        frame(300),
        frame(300, shift=2),
        method="psi",
        methods={"plan": "chi2"},
        thresholds={"income": 5.0},
    )
    assert report.column("plan").method == "chi2"
    assert report.column("income").method == "psi"
    assert report.column("income").threshold == 5.0 and not report.column("income").drifted
    assert report.column("income").details["bins"] == 10


def test_categories_new_in_current_and_vanished_from_it() -> None:
    reference = pd.DataFrame({"city": ["Oslo", "Rome", "Lima"] * 20})
    current = pd.DataFrame({"city": ["Oslo", "Rome", "Kyiv"] * 20})
    result = drift(reference, current).column("city")
    assert result.details["new_categories"] == ["Kyiv"]
    assert result.details["vanished_categories"] == ["Lima"]
    assert result.drifted


def test_missing_values_are_left_out_and_their_share_reported() -> None:
    reference = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0] * 10, "c": ["a", None] * 20})
    current = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 10, "c": ["a", "a", "a", np.nan] * 10})
    report = drift(reference, current)
    assert report.column("x").reference_missing == 0.25
    assert report.column("x").current_missing == 0.0
    assert report.column("c").reference_missing == 0.5
    assert report.column("c").current_missing == 0.25
    assert report.column("c").statistic == 0.0 and report.column("c").p_value == 1.0


def test_an_all_missing_column_is_explained_not_computed() -> None:
    reference = pd.DataFrame({"x": [np.nan] * 5, "y": [1.0] * 5})
    current = pd.DataFrame({"x": [1.0, 2.0], "y": [np.nan, np.nan]})
    report = drift(reference, current)
    x = report.column("x")
    assert x.statistic is None and x.p_value is None and not x.drifted
    assert x.note == "reference has no values (all missing): nothing to compare"
    assert x.reference_missing == 1.0
    assert "current has no values" in report.column("y").note


def test_constant_and_zero_inflated_columns_give_finite_results() -> None:
    zeros = np.zeros(2000)
    zero_inflated = np.where(RNG.random(2000) < 0.8, 0.0, RNG.exponential(5, 2000))
    reference = pd.DataFrame({"constant": zeros, "sparse": zero_inflated})
    current = pd.DataFrame({"constant": zeros + 1.0, "sparse": zero_inflated[::-1]})
    report = drift(reference, current, method="psi")
    assert report.column("constant").drifted
    assert np.isfinite(report.column("constant").statistic or np.nan)
    assert not report.column("sparse").drifted
    normed = drift(reference, current, method="wasserstein").column("constant")
    assert normed.statistic == pytest.approx(1.0 / 0.001)


values = st.one_of(
    st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3)), min_size=1, max_size=40),
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=40),
    st.lists(st.booleans(), min_size=1, max_size=40),
    st.lists(st.integers(-3, 3), min_size=1, max_size=40),
)


@settings(max_examples=60, deadline=None)
@given(values, st.data(), st.sampled_from(["auto", "chi2", "psi", "jensenshannon"]))
def test_any_column_gives_a_finite_result_or_a_note(
    reference: list[object], data: st.DataObject, method: str
) -> None:
    current = data.draw(st.lists(st.sampled_from(reference), min_size=1, max_size=40))
    report = drift(pd.DataFrame({"x": reference}), pd.DataFrame({"x": current}), method=method)
    result = report.column("x")
    if result.statistic is None:
        assert result.note and not result.drifted
    else:
        assert math.isfinite(result.statistic) and not result.note
        assert result.p_value is None or 0.0 <= result.p_value <= 1.0
    same = drift(pd.DataFrame({"x": reference}), pd.DataFrame({"x": reference}), method=method)
    assert not same.column("x").drifted


def test_category_dtype_columns_with_unobserved_categories() -> None:
    dtype = pd.CategoricalDtype(["a", "b", "c", "z"])
    reference = pd.DataFrame({"x": pd.Series(["a", "b", "c"] * 10, dtype=dtype)})
    current = pd.DataFrame({"x": pd.Series(["a", "b", "b"] * 10, dtype=dtype)})
    result = drift(reference, current).column("x")
    assert (result.kind, result.method, result.details["dof"]) == ("categorical", "chi2", 2)
    assert result.details["vanished_categories"] == ["c"]


def test_bool_columns_are_categorical() -> None:
    reference = pd.DataFrame({"flag": [True, False] * 20})
    current = pd.DataFrame({"flag": [True] * 40})
    result = drift(reference, current).column("flag")
    assert (result.kind, result.method, result.drifted) == ("categorical", "z", True)


def test_numpy_arrays_are_tables_with_numbered_columns() -> None:
    reference = RNG.normal(size=(200, 2))
    report = drift(reference, reference + np.array([0.0, 3.0]))
    assert [c.column for c in report.columns] == [0, 1]
    assert report.drifted_columns == [1]


def test_the_table_drifts_at_the_share() -> None:
    reference = pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0)})
    current = pd.DataFrame({"a": np.arange(100.0) + 500, "b": np.arange(100.0)})
    assert drift(reference, current).dataset_drifted  # 1 of 2 >= 0.5
    assert not drift(reference, current, share=0.6).dataset_drifted


def test_report_is_frozen() -> None:
    result = drift(frame(50), frame(50)).column("plan")
    assert isinstance(result, ColumnDrift)
    with pytest.raises(AttributeError):
        result.drifted = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"columns": ["nope"]}, r"the reference table has no column\(s\) \['nope'\]"),
        ({"columns": "income"}, "columns must be a list of names"),
        ({"columns": []}, "no columns to compare"),
        ({"method": "kl"}, "unknown drift method 'kl' for column 'income'"),
        ({"methods": {"plan": "ks"}}, "method 'ks' needs numbers, and column 'plan'"),
        (
            {"methods": {"churned": "wasserstein"}},
            "needs numbers, and column 'churned' holds categories",
        ),
        ({"methods": {"plan": "z"}}, "method 'z' compares two categories"),
        ({"methods": {"other": "ks"}}, r"methods names columns not compared: \['other'\]"),
        ({"thresholds": {"other": 0.1}}, "thresholds names columns not compared"),
        ({"threshold": 1.5}, "is a p-value for 'ks' and must be in"),
        ({"threshold": 0.0}, "must be in"),
        ({"method": "jensenshannon", "threshold": 2.0}, "Jensen-Shannon distance"),
        ({"method": "psi", "threshold": -1.0}, "positive finite distance"),
        ({"method": "psi", "threshold": float("inf")}, "positive finite distance"),
        ({"threshold": "0.1"}, "must be a number"),
        ({"share": 0.0}, r"share must be in \(0, 1\]"),
        ({"share": "half"}, r"share must be in \(0, 1\]"),
        ({"bins": 0}, "bins must be a positive integer"),
    ],
)
def test_bad_input_is_refused_before_computing(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        drift(frame(20), frame(20), **kwargs)  # type: ignore[arg-type]


def test_current_missing_a_column_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"the current table has no column\(s\) \['plan'\]"):
        drift(frame(20), frame(20).drop(columns="plan"))


def test_empty_tables_and_other_types_are_refused() -> None:
    with pytest.raises(InvalidInput, match="the current table has no rows"):
        drift(frame(20), frame(20).iloc[:0])
    with pytest.raises(
        InvalidInput, match="must be a pandas DataFrame, a NumPy array or a TableProfile, got list"
    ):
        drift([1, 2], frame(20))
    twice = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInput, match="duplicate column names"):
        drift(twice, twice)


def test_dates_are_refused_with_a_way_out() -> None:
    dates = pd.DataFrame({"when": pd.date_range("2026-01-01", periods=10)})
    with pytest.raises(InvalidInput, match="column 'when' has dtype datetime64"):
        drift(dates, dates)


def test_report_column_of_an_unknown_name() -> None:
    with pytest.raises(InvalidInput, match="no column 'nope' in this report"):
        drift(frame(20), frame(20)).column("nope")


def test_large_tables_are_compared_on_threads_with_the_same_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mloop.monitoring import table_drift

    reference, current = frame(120_000), frame(110_000, shift=1.0)
    threaded = drift(reference, current)
    monkeypatch.setattr(table_drift, "PARALLEL_ROWS", 10**9)
    assert drift(reference, current) == threaded
