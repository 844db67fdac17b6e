"""Two-sample statistics computed from two column summaries instead of two samples.

Each function equals its sample-based twin in :mod:`mloop.monitoring.statistics`
(and so SciPy's) on the samples the summaries stand for; the tests hold them
to 1e-9 relative. The reference's summary can be computed once and stored
(:mod:`mloop.monitoring.profiles`): a check then reads the reference's
distinct values, not its rows.

The Kolmogorov-Smirnov statistic and the Wasserstein distance are read off
both cumulative counts at every distinct value of either side, found by one
stable merge of the two sorted value lists. The p-value of the
Kolmogorov-Smirnov test is SciPy's: for two samples of at most 10,000 values
each (where SciPy computes it exactly) ``scipy.stats.ks_2samp`` itself is run
on the samples rebuilt from the summaries; above, SciPy's asymptotic formula,
``scipy.stats.kstwo.sf(d, round(m * n / (m + n)))``.

Example:
    >>> import pandas as pd
    >>> from mloop.monitoring.summaries import summarize
    >>> ref = summarize(pd.Series([1.0, 2.0, 3.0, 4.0]))
    >>> cur = summarize(pd.Series([3.0, 4.0, 5.0, 6.0]))
    >>> result = ks(ref, cur)
    >>> result.statistic, round(result.p_value, 4), wasserstein(ref, cur)
    (0.5, 0.7714, 2.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mloop.errors import InvalidInput
from mloop.monitoring import statistics as stats
from mloop.monitoring.summaries import (
    ColumnSummary,
    FloatArray,
    IntArray,
    NumericSummary,
    aligned_counts,
)

EXACT_KS_LIMIT = 10_000
"""Up to this many values on both sides, SciPy's ``auto`` computes the KS p-value exactly."""


def _check(reference: NumericSummary, current: NumericSummary) -> None:
    for side, summary in (("reference", reference), ("current", current)):
        if not isinstance(summary, NumericSummary):
            raise InvalidInput(
                f"the {side} summary is not of numbers: this statistic needs numbers"
            )
        if not summary.count:
            raise InvalidInput(f"the {side} sample is empty: a statistic needs at least one value")


def _cumulative(
    reference: NumericSummary, current: NumericSummary
) -> tuple[FloatArray, IntArray, IntArray]:
    """Every distinct value of either side, and each side's count of values at or below it."""
    values = np.concatenate([reference.values, current.values])
    ref_counts = np.concatenate([reference.counts, np.zeros(current.distinct, np.int64)])
    cur_counts = np.concatenate([np.zeros(reference.distinct, np.int64), current.counts])
    order = np.argsort(values, kind="stable")  # two sorted runs: merged in linear time
    values = values[order]
    ref_cum = np.cumsum(ref_counts[order])
    cur_cum = np.cumsum(cur_counts[order])
    # A value on both sides appears twice: keep its last place, where both counts are in.
    last = np.r_[values[1:] != values[:-1], True]
    return values[last], ref_cum[last], cur_cum[last]


def ks(reference: NumericSummary, current: NumericSummary) -> stats.TestResult:
    """Two-sample Kolmogorov-Smirnov test, as ``scipy.stats.ks_2samp(method="auto")``.

    Example:
        >>> import pandas as pd
        >>> from mloop.monitoring.summaries import summarize
        >>> ks(summarize(pd.Series([0.0] * 30)), summarize(pd.Series([1.0] * 30))).statistic
        1.0
    """
    _check(reference, current)
    n1, n2 = reference.count, current.count
    if max(n1, n2) <= EXACT_KS_LIMIT:
        return stats.ks(_sample(reference), _sample(current))
    _, ref_cum, cur_cum = _cumulative(reference, current)
    gaps = ref_cum / n1 - cur_cum / n2
    below, above = float(np.clip(-gaps.min(), 0, 1)), float(gaps.max())
    statistic = below if below > above else above
    m, n = sorted([float(n1), float(n2)], reverse=True)
    p_value = stats.scipy_stats().kstwo.sf(statistic, np.round(m * n / (m + n)))
    return stats.TestResult(statistic, float(np.clip(p_value, 0, 1)))


def _sample(summary: NumericSummary) -> FloatArray:
    return np.repeat(summary.values, summary.counts)


def wasserstein(reference: NumericSummary, current: NumericSummary) -> float:
    """Wasserstein distance, as ``scipy.stats.wasserstein_distance`` of the two samples.

    The area between the two empirical CDFs: the sum, over the gaps between
    consecutive distinct values, of the gap times the CDFs' difference.

    Example:
        >>> import pandas as pd
        >>> from mloop.monitoring.summaries import summarize
        >>> wasserstein(summarize(pd.Series([0.0, 1.0])), summarize(pd.Series([2.0, 3.0])))
        2.0
    """
    _check(reference, current)
    values, ref_cum, cur_cum = _cumulative(reference, current)
    if len(values) < 2:
        return 0.0
    gaps = np.abs(ref_cum[:-1] / reference.count - cur_cum[:-1] / current.count)
    return float(np.dot(gaps, np.diff(values)))


def wasserstein_scale(reference: NumericSummary) -> float:
    """What normed Wasserstein divides by: ``max(std(reference), 0.001)``.

    Example:
        >>> import pandas as pd
        >>> from mloop.monitoring.summaries import summarize
        >>> wasserstein_scale(summarize(pd.Series([1.0, 3.0])))
        1.0
    """
    return max(reference.std(), stats.WASSERSTEIN_MIN_STD)


def quantile_edges(reference: NumericSummary, bins: int = stats.DEFAULT_BINS) -> FloatArray:
    """The inner edges of the reference's quantile bins, as :func:`statistics.quantile_edges`.

    Example:
        >>> import pandas as pd
        >>> from mloop.monitoring.summaries import summarize
        >>> quantile_edges(summarize(pd.Series([1, 2, 3, 4, 5])), bins=4).tolist()
        [2.0, 3.0, 4.0]
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise InvalidInput(f"bins must be a positive integer, got {bins!r}")
    if not reference.count:
        raise InvalidInput("the reference sample is empty: a statistic needs at least one value")
    quantiles = np.unique(reference.quantiles(np.linspace(0.0, 1.0, bins + 1)))
    if len(quantiles) == 1:
        value = quantiles[0]
        return np.array([value, np.nextafter(value, np.inf)])
    return quantiles[1:-1]


def binned_counts(
    reference: NumericSummary, current: NumericSummary, bins: int = stats.DEFAULT_BINS
) -> tuple[IntArray, IntArray, FloatArray]:
    """Each side's count in the reference's quantile bins, and the inner edges.

    Example:
        >>> import pandas as pd
        >>> from mloop.monitoring.summaries import summarize
        >>> ref, cur = summarize(pd.Series([1, 2, 3, 4])), summarize(pd.Series([0, 0, 9]))
        >>> ref, cur, edges = binned_counts(ref, cur, 2)
        >>> ref.tolist(), cur.tolist(), edges.tolist()
        ([2, 2], [2, 1], [2.5])
    """
    _check(reference, current)
    edges = quantile_edges(reference, bins)
    return bin_counts(reference, edges), bin_counts(current, edges), edges


def bin_counts(summary: NumericSummary, edges: FloatArray) -> IntArray:
    """The summary's count in each bin ``(-inf, e1), [e1, e2), ..., [ek, +inf)``.

    Read off the cumulative counts at the edges, so it costs ``k log n``.

    Example:
        >>> import pandas as pd
        >>> from mloop.monitoring.summaries import summarize
        >>> bin_counts(summarize(pd.Series([1, 2, 2, 3, 7])), np.array([2.0, 3.0])).tolist()
        [1, 2, 2]
    """
    below = np.r_[0, np.cumsum(summary.counts)][np.searchsorted(summary.values, edges, side="left")]
    counts: IntArray = np.diff(np.r_[0, below, summary.count]).astype(np.int64)
    return counts


def counts(
    reference: ColumnSummary, current: ColumnSummary, *, categorical: bool, bins: int
) -> tuple[IntArray, IntArray]:
    """Both sides' counts per category (``categorical``) or per quantile bin of numbers.

    Example:
        >>> import pandas as pd
        >>> from mloop.monitoring.summaries import summarize
        >>> a, b = summarize(pd.Series(["a", "b"])), summarize(pd.Series(["b", "c"]))
        >>> ref, cur = counts(a, b, categorical=True, bins=10)
        >>> ref.tolist(), cur.tolist()
        ([1, 1, 0], [0, 1, 1])
    """
    if categorical:
        _, (ref, cur) = aligned_counts(reference, current)
        return ref, cur
    if not isinstance(reference, NumericSummary) or not isinstance(current, NumericSummary):
        raise InvalidInput("quantile bins need numbers on both sides")
    ref, cur, _ = binned_counts(reference, current, bins)
    return ref, cur


def shares(values: Any) -> FloatArray:
    """Counts as shares of their sum."""
    array = np.asarray(values, dtype=np.float64)
    result: FloatArray = array / array.sum()
    return result
