"""Exact, mergeable summaries of one column: what drift needs to know of a sample.

A sample of numbers is summarised by its distinct finite values, sorted, and
how often each occurs (:class:`NumericSummary`); a sample of categories by
each category's count (:class:`CategoricalSummary`). Both also count the
missing values. Nothing is lost that the drift statistics read: the
Kolmogorov-Smirnov and Wasserstein distances, quantile bins and category
shares computed from two summaries equal those computed from the samples.

Summaries merge (:meth:`NumericSummary.merge`, :meth:`CategoricalSummary.merge`):
the summary of two blocks of rows is the merge of their summaries, so a long
window is summarised block by block, and its size grows with the number of
distinct values, not of rows.

Missing is what :func:`pandas.isna` says, and ``+inf``/``-inf`` in numbers,
as :func:`mloop.monitoring.statistics.split_missing`.

Example:
    >>> import pandas as pd
    >>> first = summarize(pd.Series([3.0, 1.0, 3.0, None]))
    >>> first.values.tolist(), first.counts.tolist(), first.missing
    ([1.0, 3.0], [1, 2], 1)
    >>> both = first.merge(summarize(pd.Series([2.0, 3.0])))
    >>> both.values.tolist(), both.counts.tolist(), both.count, both.total
    ([1.0, 2.0, 3.0], [1, 1, 3], 5, 6)
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mloop.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class _Counted:
    """What both kinds of summary count: values present, and all of them."""

    counts: IntArray
    missing: int

    @property
    def count(self) -> int:
        """The number of values that were not missing."""
        return int(self.counts.sum())

    @property
    def total(self) -> int:
        """All values, missing ones included."""
        return self.count + self.missing


@dataclass(frozen=True, eq=False)
class NumericSummary(_Counted):
    """The distinct finite values of a sample of numbers, sorted, with their counts.

    Attributes:
        values: the distinct finite values, ascending.
        counts: how often each value occurs (each at least 1).
        missing: how many values were missing (NaN, None, infinite).
        integer: the sample was of integers (so its values read as whole numbers
            when a column of few values is compared as categories).
    """

    values: FloatArray
    counts: IntArray
    missing: int = 0
    integer: bool = False

    @property
    def distinct(self) -> int:
        """The number of distinct values."""
        return len(self.values)

    def std(self) -> float:
        """The population standard deviation (``ddof=0``) of the values; 0.0 when empty.

        Example:
            >>> summarize(pd.Series([1.0, 3.0, 3.0, 1.0])).std()
            1.0
        """
        if not self.count:
            return 0.0
        weights = self.counts.astype(np.float64)
        mean = float(np.dot(self.values, weights) / self.count)
        return float(np.sqrt(np.dot((self.values - mean) ** 2, weights) / self.count))

    def quantiles(self, points: FloatArray) -> FloatArray:
        """The quantiles of the values at ``points`` (in [0, 1]), as :func:`numpy.quantile`.

        NumPy's default (linear) method on the sample the summary stands for:
        the value at the virtual index ``(n - 1) * q``, interpolated between
        its two neighbours.

        Example:
            >>> summary = summarize(pd.Series([1.0, 2.0, 2.0, 10.0]))
            >>> summary.quantiles(np.array([0.0, 0.5, 1.0])).tolist()
            [1.0, 2.0, 10.0]
        """
        if not self.count:
            raise InvalidInput("the sample has no values: it has no quantiles")
        n = self.count
        index = (n - 1) * np.asarray(points, dtype=np.float64)
        below = np.floor(index)
        fraction = index - below
        low = self._at(below.astype(np.int64))
        high = self._at(np.minimum(below.astype(np.int64) + 1, n - 1))
        gap = high - low
        # numpy's _lerp: from below under one half, from above at or over it.
        return np.where(fraction >= 0.5, high - gap * (1.0 - fraction), low + gap * fraction)

    def _at(self, positions: IntArray) -> FloatArray:
        # The values at these positions of the sorted sample the summary stands for.
        ends = np.cumsum(self.counts)
        return self.values[np.searchsorted(ends, positions, side="right")]

    def merge(self, other: NumericSummary) -> NumericSummary:
        """The summary of both samples together.

        Example:
            >>> a = summarize(pd.Series([1, 2]))
            >>> b = summarize(pd.Series([2, 5]))
            >>> merged = a.merge(b)
            >>> merged.values.tolist(), merged.counts.tolist(), merged.integer
            ([1.0, 2.0, 5.0], [1, 2, 1], True)
        """
        if not isinstance(other, NumericSummary):
            raise InvalidInput(
                f"cannot merge a summary of numbers with {type(other).__name__}: "
                "the column holds numbers on one side and categories on the other"
            )
        values = np.concatenate([self.values, other.values])
        counts = np.concatenate([self.counts, other.counts])
        order = np.argsort(values, kind="stable")  # two sorted runs: merged in linear time
        values, counts = values[order], counts[order]
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        return NumericSummary(
            values[starts],
            np.add.reduceat(counts, starts) if len(values) else counts,
            self.missing + other.missing,
            self.integer and other.integer,
        )


@dataclass(frozen=True, eq=False)
class CategoricalSummary(_Counted):
    """The categories of a sample and how often each occurs.

    Attributes:
        categories: the categories seen, sorted (by text when they do not compare).
        counts: how often each occurs (each at least 1).
        missing: how many values were missing.
    """

    categories: tuple[Hashable, ...]
    counts: IntArray
    missing: int = 0

    @property
    def distinct(self) -> int:
        """The number of categories seen."""
        return len(self.categories)

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        """The summary of both samples together.

        Example:
            >>> merged = summarize(pd.Series(["a", "b"])).merge(summarize(pd.Series(["b", None])))
            >>> merged.categories, merged.counts.tolist(), merged.missing
            (('a', 'b'), [1, 2], 1)
        """
        if not isinstance(other, CategoricalSummary):
            raise InvalidInput(
                f"cannot merge a summary of categories with {type(other).__name__}: "
                "the column holds categories on one side and numbers on the other"
            )
        categories, counts = aligned_counts(self, other)
        return CategoricalSummary(
            tuple(categories), counts[0] + counts[1], self.missing + other.missing
        )


ColumnSummary = NumericSummary | CategoricalSummary


def is_categorical_dtype(dtype: Any) -> bool:
    """True for the dtypes whose values are categories: bool, object, text, category."""
    return bool(
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def is_numeric_dtype(dtype: Any) -> bool:
    """True for real numbers (integers and floats, nullable ones too; not bool or complex)."""
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def summarize(values: Any, name: Hashable = None) -> ColumnSummary:
    """The summary of one column: numbers for a numeric dtype, categories for the rest.

    ``bool``, text, ``object`` and ``category`` columns are categories; integer
    and float columns (nullable ones too) are numbers. Other dtypes (dates,
    complex numbers) raise :class:`~mloop.errors.InvalidInput`; ``name`` is
    the column's name for that message.

    Example:
        >>> summary = summarize(pd.Series(["b", "a", "b", None]))
        >>> summary.categories, summary.counts.tolist(), summary.missing
        (('a', 'b'), [1, 2], 1)
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    dtype = series.dtype
    if is_categorical_dtype(dtype):
        return _categories(series)
    if is_numeric_dtype(dtype):
        return _numbers(series)
    what = "it" if name is None else f"column {name!r}"
    raise InvalidInput(
        f"{what} has dtype {dtype}, which drift does not compare; "
        "convert it to numbers or text, or leave it out of the columns"
    )


def _numbers(series: pd.Series[Any]) -> NumericSummary:
    integer = pd.api.types.is_integer_dtype(series.dtype)
    array = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(array)
    kept = array[finite] if not finite.all() else array
    values, counts = np.unique(kept, return_counts=True)
    return NumericSummary(values, counts.astype(np.int64), int(len(array) - len(kept)), integer)


def _categories(series: pd.Series[Any]) -> CategoricalSummary:
    missing = int(series.isna().sum())
    counts = series.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]  # a category dtype lists its unobserved categories with 0
    categories = sorted_categories(counts.index)
    return CategoricalSummary(
        tuple(categories),
        np.asarray(counts.reindex(categories).to_numpy(), dtype=np.int64),
        missing,
    )


def sorted_categories(categories: Any) -> list[Hashable]:
    """Categories in order: sorted, or sorted by (type, text) when they do not compare.

    Example:
        >>> sorted_categories(["b", 2, "a"])
        [2, 'a', 'b']
    """
    items = list(categories)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=lambda value: (type(value).__name__, str(value)))


def aligned_counts(*summaries: ColumnSummary) -> tuple[list[Hashable], list[IntArray]]:
    """The union of the summaries' categories, and each summary's count of each.

    A summary of numbers counts each distinct value as a category (whole
    numbers as ``int`` when the sample was of integers).

    Example:
        >>> a, b = summarize(pd.Series(["x", "y", "y"])), summarize(pd.Series(["y", "z"]))
        >>> categories, counts = aligned_counts(a, b)
        >>> categories, [c.tolist() for c in counts]
        (['x', 'y', 'z'], [[1, 2, 0], [0, 1, 1]])
    """
    tables = [_category_table(summary) for summary in summaries]
    union = tables[0].index
    for table in tables[1:]:
        union = union.union(table.index, sort=False)
    categories = sorted_categories(union)
    counts = [table.reindex(categories, fill_value=0).to_numpy(dtype=np.int64) for table in tables]
    return categories, counts


def _category_table(summary: ColumnSummary) -> pd.Series[Any]:
    if isinstance(summary, CategoricalSummary):
        keys: Any = pd.Index(summary.categories, dtype=object)
    elif summary.integer:
        keys = pd.Index([int(value) for value in summary.values], dtype=object)
    else:
        keys = pd.Index([float(value) for value in summary.values], dtype=object)
    return pd.Series(summary.counts, index=keys)
