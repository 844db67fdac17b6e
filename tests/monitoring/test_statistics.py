"""The two-sample statistics: equal to SciPy's where SciPy has them, hand-computed elsewhere."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats  # type: ignore[import-untyped]
from scipy.spatial.distance import jensenshannon  # type: ignore[import-untyped]

from mloop.errors import InvalidInput
from mloop.monitoring import statistics

REL = 1e-9

samples = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=60,
)
tied = st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=60)
labels = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=60)


def scipy_ks(reference: object, current: object, method: str = "auto") -> object:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        return scipy_stats.ks_2samp(reference, current, method=method)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_ks_is_scipys(reference: list[float], current: list[float]) -> None:
    ours = statistics.ks(reference, current)
    theirs: Any = scipy_ks(reference, current)
    assert close(ours.statistic, theirs.statistic)
    assert close(ours.p_value, theirs.pvalue)


@settings(max_examples=40, deadline=None)
@given(tied, tied)
def test_ks_with_ties_is_scipys(reference: list[int], current: list[int]) -> None:
    ours = statistics.ks(reference, current)
    theirs: Any = scipy_ks(reference, current)
    assert (ours.statistic, ours.p_value) == pytest.approx((theirs.statistic, theirs.pvalue))


def test_ks_on_large_samples_uses_the_asymptotic_p_value() -> None:
    rng = np.random.default_rng(1)
    reference, current = rng.normal(size=20_000), rng.normal(0.02, size=20_000)
    ours = statistics.ks(reference, current)
    theirs: Any = scipy_ks(reference, current, "asymp")
    assert close(ours.p_value, theirs.pvalue)


@settings(max_examples=60, deadline=None)
@given(labels, labels)
def test_chi_squared_is_scipys_on_the_two_row_table(
    reference: list[str], current: list[str]
) -> None:
    categories = sorted(set(reference) | set(current))
    table = np.array([[r.count(c) for c in categories] for r in (reference, current)])
    theirs = scipy_stats.chi2_contingency(table)
    ours = statistics.chi_squared(reference, current)
    assert close(ours.statistic, theirs.statistic)
    assert close(ours.p_value, theirs.pvalue)
    assert ours.dof == theirs.dof == len(categories) - 1


def test_chi_squared_of_numbers_tests_the_quantile_bins() -> None:
    reference, current = [0.0, 10.0], [0.0, 5.0, 10.0, 10.0]
    ref, cur, _ = statistics.binned_counts(reference, current, bins=10)
    kept = (ref + cur) > 0  # bins 1..8 hold nothing on either side
    assert kept.sum() == 3
    theirs = scipy_stats.chi2_contingency(np.stack([ref[kept], cur[kept]]))
    ours = statistics.chi_squared(reference, current, categorical=False)
    assert close(ours.statistic, theirs.statistic) and ours.dof == 2


def test_chi_squared_by_hand_with_yates_correction() -> None:
    # Table [[30, 30], [10, 50]]: expected [[20, 40], [20, 40]]; |O - E| - 0.5 = 9.5 each.
    result = statistics.chi_squared(["a"] * 30 + ["b"] * 30, ["a"] * 10 + ["b"] * 50)
    by_hand = 9.5**2 * (1 / 20 + 1 / 40 + 1 / 20 + 1 / 40)
    assert close(result.statistic, by_hand)
    assert result.dof == 1


def test_chi_squared_of_one_category_is_no_difference() -> None:
    assert statistics.chi_squared(["a"] * 3, ["a"] * 7) == statistics.TestResult(0.0, 1.0, 0)


def test_chi_squared_counts_new_and_vanished_categories() -> None:
    categories, ref, cur = statistics.category_counts(["a", "b"], ["b", "c", "c"])
    assert categories == ["a", "b", "c"]
    assert ref.tolist() == [1, 1, 0] and cur.tolist() == [0, 1, 2]
    assert statistics.chi_squared(["a", "b"], ["b", "c", "c"]).dof == 2


def test_unobserved_categories_of_a_category_dtype_are_left_out() -> None:
    dtype = pd.CategoricalDtype(["a", "b", "c", "z"])
    reference = pd.Series(["a", "b", "c"] * 10, dtype=dtype)
    current = pd.Series(["a", "b", "b"] * 10, dtype=dtype)
    categories, _, cur = statistics.category_counts(reference, current)
    assert categories == ["a", "b", "c"] and cur.tolist() == [10, 20, 0]
    assert statistics.chi_squared(reference, current).dof == 2


def test_categories_of_mixed_types_are_sorted_by_text() -> None:
    categories, _, _ = statistics.category_counts(["b", 2], ["a"])
    assert categories == [2, "a", "b"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.booleans(), min_size=1, max_size=80),
    st.lists(st.booleans(), min_size=1, max_size=80),
)
def test_z_test_is_the_uncorrected_chi_squared(reference: list[bool], current: list[bool]) -> None:
    ours = statistics.z_test(reference, current)
    if len(set(reference) | set(current)) < 2:
        assert (ours.statistic, ours.p_value) == (0.0, 1.0)
        return
    table = np.array([[r.count(False), r.count(True)] for r in (reference, current)])
    theirs = scipy_stats.chi2_contingency(table, correction=False)
    assert close(ours.statistic**2, theirs.statistic)
    assert close(ours.p_value, theirs.pvalue)


def test_z_test_by_hand() -> None:
    # p1 = 0.5, p2 = 1/6 of the first category (False), pooled 1/3.
    result = statistics.z_test([False] * 30 + [True] * 30, [False] * 10 + [True] * 50)
    z = (0.5 - 1 / 6) / math.sqrt(1 / 3 * 2 / 3 * (1 / 60 + 1 / 60))
    assert close(result.statistic, z)
    assert close(result.p_value, math.erfc(z / math.sqrt(2)))


def test_z_test_refuses_three_categories() -> None:
    with pytest.raises(InvalidInput, match="has 3: use the chi-squared test"):
        statistics.z_test(["a", "b"], ["c"])


def test_quantile_edges_deduplicate_ties_and_zero_inflation() -> None:
    assert statistics.quantile_edges(np.arange(1, 101), bins=4).tolist() == [25.75, 50.5, 75.25]
    zero_inflated = [0.0] * 70 + list(np.linspace(1, 30, 30))
    edges = statistics.quantile_edges(zero_inflated)
    assert edges[0] > 0 and len(edges) == len(set(edges)) == 3


def test_constant_reference_gets_bins_below_at_and_above_it() -> None:
    ref, cur, edges = statistics.binned_counts([5.0] * 4, [4.0, 5.0, 6.0, 6.0])
    assert edges[0] == 5.0 and ref.tolist() == [0, 4, 0] and cur.tolist() == [1, 1, 2]


def test_psi_by_hand_with_the_epsilon_for_an_empty_bin() -> None:
    # Reference quartile bins 25/25/25/25 %; current 50/50/0/0 %.
    reference = np.arange(1, 101, dtype=float)
    current = np.array([1.0] * 50 + [30.0] * 50)
    shares = np.array([0.25] * 4)
    moved = np.array([0.5, 0.5, 1e-4, 1e-4])
    by_hand = float(np.sum((moved - shares) * np.log(moved / shares)))
    assert close(statistics.psi(reference, current, bins=4), by_hand)


def test_psi_of_categories_by_hand_with_new_and_vanished_ones() -> None:
    result = statistics.psi(["a", "a", "b", "b"], ["a", "c"], categorical=True)
    r = np.array([0.5, 0.5, 1e-4])
    c = np.array([0.5, 1e-4, 0.5])
    assert close(result, float(np.sum((c - r) * np.log(c / r))))


def test_psi_of_a_constant_reference_sees_a_move() -> None:
    assert statistics.psi([1.0] * 10, [1.0] * 10) == 0.0
    assert statistics.psi([1.0] * 10, [2.0] * 10) > 1.0


@settings(max_examples=40, deadline=None)
@given(samples, samples, st.integers(min_value=1, max_value=12))
def test_jensen_shannon_is_scipys_on_the_binned_shares(
    reference: list[float], current: list[float], bins: int
) -> None:
    ref, cur, _ = statistics.binned_counts(reference, current, bins)
    theirs = jensenshannon(ref / ref.sum(), cur / cur.sum())
    ours = statistics.jensen_shannon(reference, current, bins=bins)
    assert close(ours, theirs)
    assert 0.0 <= ours <= 1.0


def test_jensen_shannon_of_categories() -> None:
    ours = statistics.jensen_shannon(["a", "b", "b"], ["b", "c"], categorical=True)
    theirs = jensenshannon([1 / 3, 2 / 3, 0], [0, 0.5, 0.5])
    assert close(ours, theirs)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_wasserstein_is_scipys_and_normed_by_the_reference_std(
    reference: list[float], current: list[float]
) -> None:
    raw = scipy_stats.wasserstein_distance(reference, current)
    assert close(statistics.wasserstein(reference, current), raw)
    normed = raw / max(np.std(reference), 0.001)
    assert close(statistics.wasserstein_normed(reference, current), normed)


def test_wasserstein_normed_of_a_constant_reference_divides_by_the_floor() -> None:
    assert statistics.wasserstein_normed([3.0] * 5, [3.0, 3.0]) == 0.0
    assert statistics.wasserstein_normed([3.0] * 5, [3.5]) == pytest.approx(500.0)


def test_split_missing_drops_nan_none_na_and_infinities() -> None:
    clean, share = statistics.split_missing(pd.Series([1.0, np.nan, np.inf, -np.inf, 2.0]))
    assert clean.tolist() == [1.0, 2.0] and share == 0.6
    clean, share = statistics.split_missing(pd.Series([1, None, 3], dtype="Int64"))
    assert clean.tolist() == [1, 3] and share == pytest.approx(1 / 3)
    clean, share = statistics.split_missing(pd.Series([True, None, False], dtype="boolean"))
    assert clean.tolist() == [True, False]
    clean, share = statistics.split_missing(["x", None, "y", float("nan")])
    assert clean.tolist() == ["x", "y"] and share == 0.5


def test_split_missing_of_an_empty_sample_has_a_share_of_zero() -> None:
    clean, share = statistics.split_missing(pd.Series([], dtype=float))
    assert clean.empty and share == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: statistics.ks([], [1.0]),
        lambda: statistics.wasserstein([1.0], []),
        lambda: statistics.chi_squared([], ["a"]),
        lambda: statistics.psi([1.0], [], bins=3),
    ],
)
def test_an_empty_sample_is_refused(call: object) -> None:
    with pytest.raises(InvalidInput, match="sample is empty"):
        call()  # type: ignore[operator]


def test_a_sample_with_nan_is_refused() -> None:
    with pytest.raises(InvalidInput, match="NaN or infinite"):
        statistics.ks([1.0, float("nan")], [1.0])


@pytest.mark.parametrize("bins", [0, -1, 2.5, True])
def test_bins_must_be_a_positive_integer(bins: object) -> None:
    with pytest.raises(InvalidInput, match="bins must be a positive integer"):
        statistics.psi([1.0, 2.0], [1.0], bins=bins)  # type: ignore[arg-type]


def test_epsilon_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match="epsilon must be positive"):
        statistics.psi([1.0, 2.0], [1.0], epsilon=0.0)
