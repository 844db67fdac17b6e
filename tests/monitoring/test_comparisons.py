"""Statistics from summaries equal SciPy's on the samples the summaries stand for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from mloop.errors import InvalidInput
from mloop.monitoring import comparisons, statistics
from mloop.monitoring.summaries import NumericSummary, summarize

RTOL = 1e-9


def numbers(values: object) -> NumericSummary:
    summary = summarize(pd.Series(values, dtype=np.float64))
    assert isinstance(summary, NumericSummary)
    return summary


SAMPLES = {
    "normal": lambda rng, n: rng.normal(0, 1, n),
    "shifted": lambda rng, n: rng.normal(0.3, 1.2, n),
    "ties": lambda rng, n: rng.integers(0, 7, n).astype(float),
    "zero-inflated": lambda rng, n: np.where(rng.random(n) < 0.6, 0.0, rng.exponential(3, n)),
    "heavy-tailed": lambda rng, n: rng.standard_cauchy(n),
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize(("n1", "n2"), [(40, 25), (3000, 5000), (30_000, 12_000), (200_000, 900)])
def test_ks_and_wasserstein_equal_scipys(kind: str, n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1 + n2)
    a = SAMPLES[kind](rng, n1)
    b = SAMPLES[kind if kind == "ties" else "shifted"](rng, n2)
    ours = comparisons.ks(numbers(a), numbers(b))
    theirs = scipy_stats.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=RTOL)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=RTOL, abs=1e-300)
    assert comparisons.wasserstein(numbers(a), numbers(b)) == pytest.approx(
        scipy_stats.wasserstein_distance(a, b), rel=RTOL
    )
    assert comparisons.wasserstein_scale(numbers(a)) == pytest.approx(
        statistics.wasserstein_scale(a), rel=RTOL
    )


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@settings(max_examples=80, deadline=None)
@given(st.lists(finite, min_size=1, max_size=40), st.lists(finite, min_size=1, max_size=40))
def test_any_small_samples_agree_with_scipy(a: list[float], b: list[float]) -> None:
    assert comparisons.ks(numbers(a), numbers(b)).statistic == pytest.approx(
        scipy_stats.ks_2samp(a, b).statistic, rel=RTOL
    )
    assert comparisons.wasserstein(numbers(a), numbers(b)) == pytest.approx(
        scipy_stats.wasserstein_distance(a, b), rel=RTOL, abs=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-5, 30), min_size=1, max_size=60),
    st.lists(st.integers(-10, 40), min_size=1, max_size=60),
    st.integers(1, 12),
)
def test_quantile_bins_equal_the_sample_based_ones(a: list[int], b: list[int], bins: int) -> None:
    ref, cur, edges = comparisons.binned_counts(numbers(a), numbers(b), bins)
    their_ref, their_cur, their_edges = statistics.binned_counts(a, b, bins)
    assert edges.tolist() == their_edges.tolist()
    assert ref.tolist() == their_ref.tolist() and cur.tolist() == their_cur.tolist()


def test_a_constant_reference_gets_three_bins() -> None:
    ref, cur, edges = comparisons.binned_counts(numbers([5.0] * 4), numbers([4.0, 5.0, 6.0]), 10)
    assert len(edges) == 2 and ref.tolist() == [0, 4, 0] and cur.tolist() == [1, 1, 1]


def test_category_counts_align_both_sides() -> None:
    ref, cur = comparisons.counts(
        summarize(pd.Series(["a", "b", "b"])),
        summarize(pd.Series(["c"])),
        categorical=True,
        bins=10,
    )
    assert ref.tolist() == [1, 2, 0] and cur.tolist() == [0, 0, 1]


def test_empty_or_categorical_sides_are_refused() -> None:
    empty = numbers([np.nan])
    with pytest.raises(InvalidInput, match="the current sample is empty"):
        comparisons.ks(numbers([1.0]), empty)
    with pytest.raises(InvalidInput, match="the reference summary is not of numbers"):
        comparisons.wasserstein(summarize(pd.Series(["a"])), numbers([1.0]))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="bins must be a positive integer"):
        comparisons.quantile_edges(numbers([1.0]), 0)
    with pytest.raises(InvalidInput, match="quantile bins need numbers"):
        comparisons.counts(summarize(pd.Series(["a"])), numbers([1.0]), categorical=False, bins=3)
