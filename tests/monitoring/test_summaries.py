"""Column summaries: what they keep of a sample, merging, quantiles, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.errors import InvalidInput
from mloop.monitoring.summaries import (
    CategoricalSummary,
    NumericSummary,
    aligned_counts,
    summarize,
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def test_numbers_keep_distinct_values_counts_and_missing() -> None:
    summary = summarize(pd.Series([2.0, np.nan, 1.0, 2.0, np.inf, -np.inf, None]))
    assert isinstance(summary, NumericSummary)
    assert summary.values.tolist() == [1.0, 2.0]
    assert summary.counts.tolist() == [1, 2]
    assert (summary.missing, summary.count, summary.total, summary.distinct) == (4, 3, 7, 2)
    assert not summary.integer


def test_integers_and_nullable_integers_are_numbers() -> None:
    summary = summarize(pd.Series([3, 1, 3], dtype="Int64"))
    assert isinstance(summary, NumericSummary) and summary.integer
    nullable = summarize(pd.Series([1, None], dtype="Int64"))
    assert nullable.missing == 1 and nullable.count == 1


@pytest.mark.parametrize(
    ("values", "dtype"),
    [(["b", "a", None, "b"], None), ([True, False, True], None), (["x", "y"], "category")],
)
def test_text_bool_and_category_columns_are_categories(values: list[object], dtype: str) -> None:
    summary = summarize(pd.Series(values, dtype=dtype))
    assert isinstance(summary, CategoricalSummary)
    assert list(summary.categories) == sorted(v for v in set(values) if v is not None)


def test_unobserved_categories_of_a_category_dtype_are_left_out() -> None:
    series = pd.Series(pd.Categorical(["a", "a"], categories=["a", "b"]))
    summary = summarize(series)
    assert isinstance(summary, CategoricalSummary)
    assert summary.categories == ("a",) and summary.counts.tolist() == [2]


def test_dates_are_refused_with_the_column_name() -> None:
    with pytest.raises(InvalidInput, match="column 'when' has dtype datetime64"):
        summarize(pd.Series(pd.to_datetime(["2026-01-01"])), "when")


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=1, max_size=60), st.lists(finite, min_size=1, max_size=60))
def test_merging_equals_summarising_both_samples(a: list[float], b: list[float]) -> None:
    merged = summarize(pd.Series(a)).merge(summarize(pd.Series(b)))
    whole = summarize(pd.Series(a + b))
    assert isinstance(merged, NumericSummary) and isinstance(whole, NumericSummary)
    assert merged.values.tolist() == whole.values.tolist()
    assert merged.counts.tolist() == whole.counts.tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=1, max_size=80))
def test_quantiles_and_std_are_numpys(values: list[float]) -> None:
    summary = summarize(pd.Series(values))
    assert isinstance(summary, NumericSummary)
    points = np.linspace(0.0, 1.0, 11)
    np.testing.assert_allclose(summary.quantiles(points), np.quantile(values, points), rtol=1e-12)
    assert summary.std() == pytest.approx(float(np.std(values)), rel=1e-9, abs=1e-9)


def test_merging_categories_adds_counts_and_missing() -> None:
    merged = summarize(pd.Series(["a", None])).merge(summarize(pd.Series(["c", "a"])))
    assert isinstance(merged, CategoricalSummary)
    assert merged.categories == ("a", "c") and merged.counts.tolist() == [2, 1]
    assert merged.missing == 1


def test_numbers_and_categories_do_not_merge() -> None:
    with pytest.raises(InvalidInput, match="numbers on one side and categories"):
        summarize(pd.Series([1.0])).merge(summarize(pd.Series(["a"])))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="categories on one side and numbers"):
        summarize(pd.Series(["a"])).merge(summarize(pd.Series([1.0])))  # type: ignore[arg-type]


def test_aligned_counts_read_integers_as_whole_numbers() -> None:
    categories, (ref, cur) = aligned_counts(
        summarize(pd.Series([1, 2, 2])), summarize(pd.Series([2, 3]))
    )
    assert categories == [1, 2, 3] and all(isinstance(c, int) for c in categories)
    assert ref.tolist() == [1, 2, 0] and cur.tolist() == [0, 1, 1]


def test_categories_that_do_not_compare_are_sorted_by_type_and_text() -> None:
    categories, _ = aligned_counts(summarize(pd.Series(["b", 1], dtype=object)))
    assert categories == [1, "b"]


def test_an_empty_sample_has_no_quantiles() -> None:
    with pytest.raises(InvalidInput, match="has no quantiles"):
        summarize(pd.Series([np.nan])).quantiles(np.array([0.5]))  # type: ignore[union-attr]
