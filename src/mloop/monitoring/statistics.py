"""Two-sample statistics of one column: how far a current sample is from a reference.

Each function takes two clean one-dimensional samples (missing values already
dropped: see :func:`split_missing`) and returns the statistic with exact,
stated definitions. Where SciPy has the statistic, the value is SciPy's on the
same data:

==================  ===========================================================
function            definition
==================  ===========================================================
:func:`ks`          ``scipy.stats.ks_2samp(reference, current)``, ``method="auto"``:
                    the largest gap between the two empirical CDFs, and its
                    p-value (exact for small samples, asymptotic for large)
:func:`chi_squared` ``scipy.stats.chi2_contingency`` of the 2 x k table of the
                    counts of each category (reference row, current row); Yates'
                    continuity correction as SciPy's default, so only when
                    ``dof == 1`` (two categories)
:func:`z_test`      two-proportion Z-test (pooled) of the share of the first
                    category of two; p-value ``2 * norm.sf(|z|)``, equal to
                    the uncorrected chi-squared test of the same 2 x 2 table
:func:`psi`         ``sum((c - r) * ln(c / r))`` over bins (numbers) or
                    categories, ``r``/``c`` the shares of reference/current,
                    a zero share replaced by :data:`PSI_EPSILON` (1e-4)
:func:`jensen_shannon`  ``scipy.spatial.distance.jensenshannon(r, c)`` (base e,
                    as Evidently) over the same bins or categories: 0 (same)
                    to ``sqrt(ln 2)`` = 0.8326 (disjoint)
:func:`wasserstein` ``scipy.stats.wasserstein_distance(reference, current)``
:func:`wasserstein_normed`  the above over ``max(std(reference), 0.001)``
                    (population standard deviation): Evidently's "normed
                    Wasserstein"; 0.001 keeps a constant reference finite
==================  ===========================================================

Numbers are binned by :func:`quantile_edges`: the reference's quantiles at
``0, 1/bins, ..., 1`` (NumPy's linear interpolation), duplicates removed (ties
and zero-inflated columns give fewer, wider bins). The inner edges split the
line into half-open bins ``(-inf, e1), [e1, e2), ..., [ek, +inf)``, so current
values outside the reference's range land in the outer bins. A constant
reference (one distinct value ``v``) gets three bins: below ``v``, ``v``,
above ``v``.

SciPy is imported when a statistic is computed, not when this module is.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mloop.errors import InvalidInput

PSI_EPSILON = 1e-4
"""The share a bin empty on one side counts as in :func:`psi` (Evidently's 0.0001)."""

WASSERSTEIN_MIN_STD = 0.001
"""The smallest reference standard deviation :func:`wasserstein_normed` divides by."""

DEFAULT_BINS = 10
"""Quantile bins of a numeric column for :func:`psi` and :func:`jensen_shannon`."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TestResult:
    """A statistical test's outcome: its statistic, p-value and degrees of freedom.

    ``dof`` is set by the chi-squared test only.

    Example:
        >>> TestResult(0.5, 0.03).p_value
        0.03
    """

    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float
    dof: int | None = None


def scipy_stats() -> Any:
    """``scipy.stats``, imported on first use (it takes a moment to load)."""
    import scipy.stats  # type: ignore[import-untyped]  # a dependency, loaded when first used

    return scipy.stats


def _numeric(values: Any, side: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise InvalidInput(f"the {side} sample is empty: a statistic needs at least one value")
    if not np.all(np.isfinite(array)):
        raise InvalidInput(
            f"the {side} sample holds NaN or infinite values; drop them first (split_missing)"
        )
    return array


def _sample(values: Any, side: str) -> pd.Series[Any]:
    items = values if isinstance(values, pd.Series) else pd.Series(list(values))
    if items.empty:
        raise InvalidInput(f"the {side} sample is empty: a statistic needs at least one value")
    return items


def split_missing(values: Any) -> tuple[pd.Series[Any], float]:
    """Drop the missing values of a sample; return the rest and the missing share.

    Missing is what :func:`pandas.isna` says (``None``, ``NaN``, ``NaT``,
    ``pd.NA``), and, in a numeric sample, ``+inf``/``-inf``. The share is of
    all values, 0.0 for an empty sample.

    Example:
        >>> clean, share = split_missing([1.0, float("nan"), 3.0, None])
        >>> clean.tolist(), share
        ([1.0, 3.0], 0.5)
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    missing = series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        finite = np.isfinite(series.to_numpy(dtype=np.float64, na_value=np.nan))
        missing = missing | ~finite
    share = float(missing.mean()) if len(series) else 0.0
    return series[~missing].reset_index(drop=True), share


def ks(reference: Any, current: Any) -> TestResult:
    """Two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``, ``method="auto"``).

    The p-value is exact for small samples and asymptotic for large ones, as
    SciPy's ``auto`` decides; when the exact computation does not converge,
    SciPy falls back to the asymptotic one, and the warning it gives for that
    is silenced (the value is SciPy's either way).

    Example:
        >>> result = ks([1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0])
        >>> result.statistic, round(result.p_value, 4)
        (0.5, 0.7714)
    """
    ref, cur = _numeric(reference, "reference"), _numeric(current, "current")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        result = scipy_stats().ks_2samp(ref, cur, method="auto")
    return TestResult(float(result.statistic), float(result.pvalue))


def category_counts(reference: Any, current: Any) -> tuple[list[Hashable], FloatArray, FloatArray]:
    """The categories of both samples and each side's count of each.

    Categories are the union of the values seen on either side (one that
    vanished counts 0 in current, a new one 0 in reference; the unobserved
    categories of a pandas ``category`` dtype are left out), sorted (by text
    when the values do not compare).

    Example:
        >>> cats, ref, cur = category_counts(["a", "b", "b"], ["b", "c"])
        >>> cats, ref.tolist(), cur.tolist()
        (['a', 'b', 'c'], [1.0, 2.0, 0.0], [0.0, 1.0, 1.0])
    """
    ref_counts = _sample(reference, "reference").value_counts(dropna=False)
    cur_counts = _sample(current, "current").value_counts(dropna=False)
    # A pandas category dtype lists its unobserved categories with a count of 0.
    ref_counts, cur_counts = ref_counts[ref_counts > 0], cur_counts[cur_counts > 0]
    union = set(ref_counts.index) | set(cur_counts.index)
    try:
        categories: list[Hashable] = sorted(union)
    except TypeError:
        categories = sorted(union, key=lambda value: (type(value).__name__, str(value)))
    ref = np.asarray(ref_counts.reindex(categories, fill_value=0), dtype=np.float64)
    cur = np.asarray(cur_counts.reindex(categories, fill_value=0), dtype=np.float64)
    return categories, ref, cur


def chi_squared(
    reference: Any, current: Any, *, categorical: bool = True, bins: int = DEFAULT_BINS
) -> TestResult:
    """Chi-squared test of independence of the 2 x k table of category counts.

    ``scipy.stats.chi2_contingency`` with its defaults: Yates' correction when
    the table has one degree of freedom (two categories). One category in all
    gives ``dof == 0``, statistic 0 and p-value 1 (nothing can differ). With
    ``categorical=False`` the columns of the table are the reference's
    quantile bins (:func:`binned_counts`), those empty on both sides left out.

    Example:
        >>> result = chi_squared(["a"] * 30 + ["b"] * 30, ["a"] * 10 + ["b"] * 50)
        >>> round(result.statistic, 3), round(result.p_value, 5), result.dof
        (13.537, 0.00023, 1)
    """
    if categorical:
        _, ref, cur = category_counts(reference, current)
    else:
        ref, cur, _ = binned_counts(reference, current, bins)
    return chi_squared_counts(ref, cur)


def chi_squared_counts(reference: Any, current: Any) -> TestResult:
    """The chi-squared test of the 2 x k table of two sides' counts per category or bin.

    Columns empty on both sides are left out (they have no expected count);
    see :func:`chi_squared`.

    Example:
        >>> result = chi_squared_counts([30, 30, 0], [10, 50, 0])
        >>> round(result.statistic, 3), result.dof
        (13.537, 1)
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    kept = (ref + cur) > 0
    result = scipy_stats().chi2_contingency(np.stack([ref[kept], cur[kept]]))
    return TestResult(float(result.statistic), float(result.pvalue), int(result.dof))


def z_test(reference: Any, current: Any) -> TestResult:
    """Two-proportion Z-test of a two-category column (pooled variance, two-sided).

    With ``p1``, ``p2`` the shares of the first category (in the order of
    :func:`category_counts`) in reference and current, ``n1``, ``n2`` their
    sizes and ``p`` the pooled share: ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 +
    1/n2))``, p-value ``2 * norm.sf(|z|)``. When both sides hold one and the
    same category, ``z = 0`` and the p-value is 1. More than two categories
    raise :class:`~mloop.errors.InvalidInput` (use :func:`chi_squared`).

    Example:
        >>> result = z_test([True] * 30 + [False] * 30, [True] * 10 + [False] * 50)
        >>> round(result.statistic, 4), round(result.p_value, 6)
        (-3.873, 0.000108)
    """
    _, ref, cur = category_counts(reference, current)
    return z_test_counts(ref, cur)


def z_test_counts(reference: Any, current: Any) -> TestResult:
    """The two-proportion Z-test of two sides' counts of (at most) two categories.

    See :func:`z_test`; the share compared is that of the first category.

    Example:
        >>> result = z_test_counts([30, 30], [10, 50])
        >>> round(result.statistic, 4)
        3.873
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if len(ref) > 2:
        raise InvalidInput(
            f"the Z-test compares two categories; this column has {len(ref)}: "
            "use the chi-squared test"
        )
    n1, n2 = ref.sum(), cur.sum()
    p1, p2 = ref[0] / n1, cur[0] / n2
    pooled = (ref[0] + cur[0]) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance == 0.0:  # one category on both sides: nothing differs
        return TestResult(0.0, 1.0)
    z = float((p1 - p2) / np.sqrt(variance))
    return TestResult(z, float(2.0 * scipy_stats().norm.sf(abs(z))))


def quantile_edges(reference: Any, bins: int = DEFAULT_BINS) -> FloatArray:
    """The inner bin edges of a numeric reference: its deduplicated quantiles.

    The quantiles at ``0, 1/bins, ..., 1`` (linear interpolation), duplicates
    removed, without the smallest and largest: the bins are ``(-inf, e1),
    [e1, e2), ..., [ek, +inf)``. A constant reference ``v`` gives the edges
    ``[v, nextafter(v, +inf)]``: the bins below ``v``, ``v`` itself, and above.

    Example:
        >>> quantile_edges([1, 2, 3, 4, 5], bins=4).tolist()
        [2.0, 3.0, 4.0]
        >>> quantile_edges([0, 0, 0, 0, 1, 2], bins=4).tolist()
        [0.75]
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise InvalidInput(f"bins must be a positive integer, got {bins!r}")
    ref = _numeric(reference, "reference")
    quantiles = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)))
    if len(quantiles) == 1:
        value = quantiles[0]
        return np.array([value, np.nextafter(value, np.inf)])
    return quantiles[1:-1]


def binned_counts(
    reference: Any, current: Any, bins: int = DEFAULT_BINS
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each side's count in the reference's quantile bins, and the inner edges.

    Example:
        >>> ref, cur, edges = binned_counts([1, 2, 3, 4], [0, 0, 9], bins=2)
        >>> ref.tolist(), cur.tolist(), edges.tolist()
        ([2.0, 2.0], [2.0, 1.0], [2.5])
    """
    edges = quantile_edges(reference, bins)
    size = len(edges) + 1
    ref_index = np.searchsorted(edges, _numeric(reference, "reference"), side="right")
    cur_index = np.searchsorted(edges, _numeric(current, "current"), side="right")
    ref = np.bincount(ref_index, minlength=size).astype(np.float64)
    cur = np.bincount(cur_index, minlength=size).astype(np.float64)
    return ref, cur, edges


def _distributions(
    reference: Any, current: Any, categorical: bool, bins: int
) -> tuple[FloatArray, FloatArray]:
    if categorical:
        _, ref, cur = category_counts(reference, current)
    else:
        ref, cur, _ = binned_counts(reference, current, bins)
    return ref / ref.sum(), cur / cur.sum()


def psi(
    reference: Any,
    current: Any,
    *,
    categorical: bool = False,
    bins: int = DEFAULT_BINS,
    epsilon: float = PSI_EPSILON,
) -> float:
    """Population stability index: ``sum((c - r) * ln(c / r))`` over bins or categories.

    ``r`` and ``c`` are the reference's and current's shares of each quantile
    bin (numbers, see :func:`binned_counts`) or each category
    (``categorical=True``). A share of 0 counts as ``epsilon`` (the shares are
    not renormalised), so a bin empty on one side adds a large finite term.

    Example:
        >>> psi([1, 2, 3, 4] * 25, [1, 2, 3, 4] * 25, bins=4)
        0.0
        >>> round(psi(["a"] * 50 + ["b"] * 50, ["a"] * 80 + ["b"] * 20, categorical=True), 4)
        0.4159
    """
    if not epsilon > 0:
        raise InvalidInput(f"epsilon must be positive, got {epsilon!r}")
    ref, cur = _distributions(reference, current, categorical, bins)
    return psi_of_shares(ref, cur, epsilon)


def psi_of_shares(reference: Any, current: Any, epsilon: float = PSI_EPSILON) -> float:
    """The population stability index of two sides' shares per bin or category.

    See :func:`psi`.

    Example:
        >>> round(psi_of_shares([0.5, 0.5], [0.8, 0.2]), 4)
        0.4159
    """
    if not epsilon > 0:
        raise InvalidInput(f"epsilon must be positive, got {epsilon!r}")
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref = np.where(ref == 0.0, epsilon, ref)
    cur = np.where(cur == 0.0, epsilon, cur)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def jensen_shannon(
    reference: Any, current: Any, *, categorical: bool = False, bins: int = DEFAULT_BINS
) -> float:
    """Jensen-Shannon distance (natural logarithm) between the binned or category shares.

    ``scipy.spatial.distance.jensenshannon(r, c)``, SciPy's and Evidently's
    base e: the square root of the Jensen-Shannon divergence, 0 for the same
    shares and ``sqrt(ln 2)`` (0.8326) for shares with no bin or category in
    common.

    Example:
        >>> round(jensen_shannon(["a", "b"], ["c", "d"], categorical=True), 4)
        0.8326
        >>> jensen_shannon([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        0.0
    """
    ref, cur = _distributions(reference, current, categorical, bins)
    return jensen_shannon_of_shares(ref, cur)


def jensen_shannon_of_shares(reference: Any, current: Any) -> float:
    """The Jensen-Shannon distance (base e) of two sides' shares per bin or category.

    Example:
        >>> jensen_shannon_of_shares([0.5, 0.5], [0.5, 0.5])
        0.0
    """
    from scipy.spatial.distance import jensenshannon  # type: ignore[import-untyped]

    return float(jensenshannon(reference, current))


def wasserstein(reference: Any, current: Any) -> float:
    """Wasserstein (earth mover's) distance, ``scipy.stats.wasserstein_distance``.

    In the column's own units: the area between the two empirical CDFs.

    Example:
        >>> wasserstein([0.0, 1.0], [2.0, 3.0])
        2.0
    """
    return float(
        scipy_stats().wasserstein_distance(
            _numeric(reference, "reference"), _numeric(current, "current")
        )
    )


def wasserstein_normed(reference: Any, current: Any) -> float:
    """Wasserstein distance over the reference's standard deviation (Evidently's).

    ``wasserstein(reference, current) / max(std(reference), 0.001)``, the
    standard deviation the population one (``ddof=0``). The floor of 0.001
    (:data:`WASSERSTEIN_MIN_STD`) makes a constant reference give a finite,
    large distance when current moves (and 0 when it does not).

    Example:
        >>> wasserstein_normed([0.0, 2.0], [1.0, 3.0])
        1.0
        >>> wasserstein_normed([5.0, 5.0], [5.0])
        0.0
    """
    ref = _numeric(reference, "reference")
    return wasserstein(ref, current) / wasserstein_scale(ref)


def wasserstein_scale(reference: Any) -> float:
    """What :func:`wasserstein_normed` divides by: ``max(std(reference), 0.001)``.

    Example:
        >>> wasserstein_scale([1.0, 3.0]), wasserstein_scale([2.0, 2.0])
        (1.0, 0.001)
    """
    return max(float(np.std(_numeric(reference, "reference"))), WASSERSTEIN_MIN_STD)
