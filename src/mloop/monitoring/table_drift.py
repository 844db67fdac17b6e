"""Data drift of a table: which columns' distributions moved between two samples.

:func:`drift` compares each column of a current table with the same column of
a reference table, by a method chosen per column as Evidently's defaults do,
and says whether the table as a whole drifted (the share of drifted columns
at or above ``share``, 0.5 by default, as Evidently's ``DataDriftPreset``).

The kind of a column: ``bool``, text, ``object`` and ``category`` columns are
categorical; numeric ones are numerical, unless they hold at most
:data:`FEW_VALUES` (5) distinct values in reference and current together,
then categorical (Evidently's ``n_unique <= 5`` rule). Dates and other
dtypes are refused.

The automatic method, by the reference's count of non-missing values:

=============  =================================  =================================
kind           reference <= 1000 values           reference > 1000 values
=============  =================================  =================================
numerical      ``ks``: drifted if p < 0.05        ``wasserstein`` (normed):
                                                  drifted if >= 0.1
categorical    ``z`` (two categories) or          ``jensenshannon``:
               ``chi2``: drifted if p < 0.05      drifted if >= 0.1
=============  =================================  =================================

``psi`` (drifted if >= 0.1) is there when asked for. Asked for on a
numerical column, ``psi``, ``jensenshannon`` and ``chi2`` work on the
reference's quantile bins (``bins``, 10 by default), not on each value. A test (``ks``,
``chi2``, ``z``) drifts when its p-value is below the threshold, a distance
(``psi``, ``jensenshannon``, ``wasserstein``) when it is at or above. The
statistics are those of :mod:`mloop.monitoring.statistics`.

Missing values (``NaN``, ``None``, ``±inf`` in numbers) are left out of the
distributions; each side's missing share is in the result. A column with no
values left on a side cannot be compared: its statistic is ``None``, it does
not count as drifted, and ``note`` says why.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from mloop.errors import InvalidInput
from mloop.monitoring import comparisons as compare
from mloop.monitoring import statistics as stats
from mloop.monitoring.profiles import TableProfile, as_frame
from mloop.monitoring.summaries import (
    CategoricalSummary,
    ColumnSummary,
    NumericSummary,
    aligned_counts,
    summarize,
)

Kind = Literal["numerical", "categorical"]

METHODS = ("chi2", "jensenshannon", "ks", "psi", "wasserstein", "z")
"""The methods :func:`drift` knows, besides ``"auto"``."""

DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "ks": 0.05,
    "chi2": 0.05,
    "z": 0.05,
    "psi": 0.1,
    "jensenshannon": 0.1,
    "wasserstein": 0.1,
}
"""Each method's threshold when none is given (Evidently's defaults)."""

TESTS = frozenset({"ks", "chi2", "z"})
"""The methods whose threshold is a p-value (drifted below it)."""

SMALL_REFERENCE = 1000
"""Up to this many reference values, ``auto`` picks a test; above it, a distance."""

FEW_VALUES = 5
"""A numeric column with at most this many distinct values is categorical."""

_NUMERIC_ONLY = frozenset({"ks", "wasserstein"})


@dataclass(frozen=True)
class ColumnDrift:
    """How one column moved.

    Attributes:
        column: the column's name (as the table has it: text, or a number).
        kind: ``"numerical"`` or ``"categorical"``.
        method: the method used (never ``"auto"``).
        statistic: the test's statistic or the distance; ``None`` when a side
            has no values (see ``note``).
        p_value: the test's p-value; ``None`` for a distance.
        threshold: the p-value (tests) or distance the drift is judged by.
        drifted: p-value below, or distance at or above, the threshold.
        reference_missing: share of the reference's values that were missing.
        current_missing: share of the current values that were missing.
        details: what else the method knows: ``dof`` (chi2), ``wasserstein``
            (the raw distance), ``bins`` (binned psi/jensenshannon/chi2),
            ``new_categories`` and ``vanished_categories`` (categorical).
        note: why there is no statistic, else empty.
    """

    column: Hashable
    kind: Kind
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    reference_missing: float = 0.0
    current_missing: float = 0.0
    details: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class DriftReport:
    """The drift of a table: each column's, and whether the table drifted.

    ``dataset_drifted`` is ``drift_share >= share``.

    Example:
        >>> import pandas as pd
        >>> report = drift(pd.DataFrame({"x": [1.0, 2.0] * 5}), pd.DataFrame({"x": [9.0] * 4}))
        >>> report.drifted_columns, report.column("x").method, report.dataset_drifted
        (['x'], 'chi2', True)
    """

    columns: tuple[ColumnDrift, ...]
    drift_share: float
    share: float
    dataset_drifted: bool

    @property
    def drifted_columns(self) -> list[Hashable]:
        """The names of the columns that drifted."""
        return [result.column for result in self.columns if result.drifted]

    def column(self, name: Hashable) -> ColumnDrift:
        """The result of the column ``name``."""
        for result in self.columns:
            if result.column == name:
                return result
        raise InvalidInput(f"no column {name!r} in this report; it has {self._names()}")

    def _names(self) -> list[Hashable]:
        return [result.column for result in self.columns]


HISTOGRAM_BINS = 20
"""Equal-width bins of a numerical column's histogram (``details["histogram"]``)."""

HISTOGRAM_CATEGORIES = 20
"""The most frequent categories a histogram shows; the rest are ``(other)``."""


@dataclass(frozen=True)
class _Plan:
    """One column's summaries and the method and threshold it is judged by."""

    column: Hashable
    kind: Kind
    method: str
    threshold: float
    reference: ColumnSummary
    current: ColumnSummary


Table = Any
"""A DataFrame, a NumPy array (columns 0, 1, ...) or a :class:`TableProfile`."""


def drift(
    reference: Table,
    current: Table,
    columns: Sequence[Hashable] | None = None,
    method: str = "auto",
    threshold: float | None = None,
    *,
    methods: Mapping[Hashable, str] | None = None,
    thresholds: Mapping[Hashable, float] | None = None,
    share: float = 0.5,
    bins: int = stats.DEFAULT_BINS,
) -> DriftReport:
    """Compare each column of ``current`` with ``reference``; say which drifted.

    Either side can be a profile (:func:`mloop.monitoring.profile`) instead
    of the rows: the result is the same, and a stored reference profile
    spares reading and sorting the reference again.

    Args:
        reference: the table the current one is compared with (a DataFrame,
            a NumPy array whose columns are named 0, 1, ..., or a TableProfile).
        current: the table to judge, with at least the same columns.
        columns: the columns to compare; all of the reference's by default.
        method: ``"auto"`` (the module's table) or one of :data:`METHODS`,
            for every column.
        threshold: the threshold of every column; each method's default
            (:data:`DEFAULT_THRESHOLDS`) when ``None``.
        methods: a method per column, over ``method``.
        thresholds: a threshold per column, over ``threshold``.
        share: the share of drifted columns at which the table drifted.
        bins: quantile bins of a numerical column for psi, jensenshannon and chi2.

    Raises:
        InvalidInput: before anything is computed: an empty table, a missing
            or unsupported column, an unknown method, a method that does not
            fit the column, a threshold or share out of range.

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> reference = pd.DataFrame({"age": rng.normal(40, 10, 500), "plan": ["a", "b"] * 250})
        >>> current = pd.DataFrame({"age": rng.normal(50, 10, 500), "plan": ["a", "b"] * 250})
        >>> report = drift(reference, current)
        >>> [(c.column, c.method, c.drifted) for c in report.columns]
        [('age', 'ks', True), ('plan', 'z', False)]
        >>> report.drift_share, report.dataset_drifted
        (0.5, True)
    """
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 < share <= 1.0:
        raise InvalidInput(f"share must be in (0, 1], got {share!r}")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidInput(f"bins must be a positive integer, got {bins!r}")
    ref_side, cur_side = _Side(reference, "reference"), _Side(current, "current")
    names = _columns(ref_side, cur_side, columns)
    for option, known in (("methods", methods), ("thresholds", thresholds)):
        unknown = sorted(set(known or {}) - set(names), key=str)
        if unknown:
            raise InvalidInput(f"{option} names columns not compared: {unknown}")
    with _pool(ref_side, cur_side) as pool:
        ref_summaries = list(pool.map(ref_side.summary, names))
        cur_summaries = list(pool.map(cur_side.summary, names))
        plans = [
            _plan(
                name,
                ref_summary,
                cur_summary,
                (methods or {}).get(name, method),
                (thresholds or {}).get(name, threshold),
            )
            for name, ref_summary, cur_summary in zip(
                names, ref_summaries, cur_summaries, strict=True
            )
        ]
        results = tuple(pool.map(lambda plan: _judge(plan, bins), plans))
    drifted = sum(result.drifted for result in results)
    drift_share = drifted / len(results)
    return DriftReport(results, drift_share, share, drift_share >= share)


PARALLEL_ROWS = 100_000
"""From this many rows on a side, columns are summarised and compared on several threads."""


def _pool(*sides: _Side) -> Any:
    """Threads for the columns of large tables (NumPy's sorts let go of the GIL), else one."""
    rows = max(side.rows for side in sides)
    workers = min(4, os.cpu_count() or 1) if rows >= PARALLEL_ROWS else 1
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mloop-drift")


class _Side:
    """One side of the comparison: a table's columns, summarised when first asked for."""

    def __init__(self, table: Table, side: str) -> None:
        self.side = side
        self.profile = table if isinstance(table, TableProfile) else None
        self.frame = None if self.profile is not None else as_frame(table, side)
        if self.rows == 0:
            raise InvalidInput(f"the {side} table has no rows: drift needs data on both sides")

    @property
    def rows(self) -> int:
        return self.profile.rows if self.profile is not None else len(self._frame)

    @property
    def names(self) -> list[Hashable]:
        if self.profile is not None:
            return list(self.profile.columns)
        return list(self._frame.columns)

    @property
    def _frame(self) -> Any:
        assert self.frame is not None
        return self.frame

    def summary(self, name: Hashable) -> ColumnSummary:
        if self.profile is not None:
            return self.profile.column(name)
        return summarize(self._frame[name], name)


def _columns(reference: _Side, current: _Side, columns: Sequence[Hashable] | None) -> list[Any]:
    if isinstance(columns, str):
        raise InvalidInput(f"columns must be a list of names, got the string {columns!r}")
    names = reference.names if columns is None else list(columns)
    if not names:
        raise InvalidInput("no columns to compare")
    for side in (reference, current):
        known = set(side.names)
        missing = [name for name in names if name not in known]
        if side.profile is not None:
            for name in missing:
                if name in side.profile.skipped:
                    side.profile.column(name)  # says why the profile left it out
        if missing:
            raise InvalidInput(f"the {side.side} table has no column(s) {missing}")
    return names


def _as_numbers(summary: ColumnSummary) -> ColumnSummary:
    # A column with every value missing reads as categories (pandas gives it dtype
    # object): with nothing to compare, it takes the other side's kind.
    if isinstance(summary, CategoricalSummary) and not summary.count:
        return NumericSummary(np.empty(0), np.empty(0, np.int64), summary.missing)
    return summary


def _kind(name: Any, reference: ColumnSummary, current: ColumnSummary) -> Kind:
    if isinstance(reference, CategoricalSummary) and isinstance(current, CategoricalSummary):
        return "categorical"
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        few = reference.distinct <= FEW_VALUES and current.distinct <= FEW_VALUES
        if few and len(np.union1d(reference.values, current.values)) <= FEW_VALUES:
            return "categorical"
        return "numerical"
    sides = "numbers in the reference and categories in current"
    if isinstance(reference, CategoricalSummary):
        sides = "categories in the reference and numbers in current"
    raise InvalidInput(
        f"column {name!r} holds {sides}: its type changed; convert it, "
        "or leave it out of the columns"
    )


def _plan(
    name: Any,
    reference: ColumnSummary,
    current: ColumnSummary,
    method: str,
    threshold: float | None,
) -> _Plan:
    if isinstance(reference, NumericSummary) or isinstance(current, NumericSummary):
        reference, current = _as_numbers(reference), _as_numbers(current)
    kind = _kind(name, reference, current)
    if method == "auto":
        method = _auto(kind, reference, current)
    elif method not in METHODS:
        raise InvalidInput(
            f"unknown drift method {method!r} for column {name!r}; "
            f"use 'auto' or one of {', '.join(METHODS)}"
        )
    if method in _NUMERIC_ONLY and not isinstance(reference, NumericSummary):
        raise InvalidInput(
            f"method {method!r} needs numbers, and column {name!r} holds categories; "
            "use chi2, z, psi or jensenshannon"
        )
    if method == "z" and _categories(reference, current) > 2:
        raise InvalidInput(
            f"method 'z' compares two categories, and column {name!r} has more; use chi2"
        )
    limit = DEFAULT_THRESHOLDS[method] if threshold is None else threshold
    check_threshold(name, method, limit)
    return _Plan(name, kind, method, float(limit), reference, current)


def _categories(reference: ColumnSummary, current: ColumnSummary) -> int:
    categories, _ = aligned_counts(reference, current)
    return len(categories)


def _auto(kind: Kind, reference: ColumnSummary, current: ColumnSummary) -> str:
    if reference.count <= SMALL_REFERENCE:
        if kind == "numerical":
            return "ks"
        return "z" if _categories(reference, current) <= 2 else "chi2"
    return "wasserstein" if kind == "numerical" else "jensenshannon"


def check_threshold(name: Any, method: str, threshold: Any) -> None:
    """Refuse a threshold that cannot be ``method``'s (a p-value in (0, 1) for a test...)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise InvalidInput(f"threshold of column {name!r} must be a number, got {threshold!r}")
    if method in TESTS and not 0.0 < threshold < 1.0:
        raise InvalidInput(
            f"threshold of column {name!r} is a p-value for {method!r} and must be in "
            f"(0, 1), got {threshold!r}"
        )
    if method == "jensenshannon" and not 0.0 < threshold <= 1.0:
        raise InvalidInput(
            f"threshold of column {name!r} is a Jensen-Shannon distance and must be in "
            f"(0, 1], got {threshold!r}"
        )
    if not (0.0 < threshold < float("inf")):
        raise InvalidInput(
            f"threshold of column {name!r} must be a positive finite distance for "
            f"{method!r}, got {threshold!r}"
        )


def _judge(plan: _Plan, bins: int) -> ColumnDrift:
    sides = (("reference", plan.reference), ("current", plan.current))
    empty = [side for side, summary in sides if not summary.count]
    statistic: float | None = None
    p_value: float | None = None
    details: dict[str, Any] = {}
    note = ""
    if empty:
        note = " and ".join(empty) + " has no values (all missing): nothing to compare"
    else:
        statistic, p_value, details = _measure(plan, bins)
    if statistic is None:
        drifted = False
    elif p_value is not None:
        drifted = p_value < plan.threshold
    else:
        drifted = statistic >= plan.threshold
    return ColumnDrift(
        column=plan.column,
        kind=plan.kind,
        method=plan.method,
        statistic=statistic,
        p_value=p_value,
        threshold=plan.threshold,
        drifted=bool(drifted),
        reference_missing=_missing_share(plan.reference),
        current_missing=_missing_share(plan.current),
        details=details,
        note=note,
    )


def _missing_share(summary: ColumnSummary) -> float:
    return summary.missing / summary.total if summary.total else 0.0


def _measure(plan: _Plan, bins: int) -> tuple[float, float | None, dict[str, Any]]:
    ref, cur, method = plan.reference, plan.current, plan.method
    categorical = plan.kind == "categorical"
    details: dict[str, Any] = {}
    if categorical:
        categories, (ref_counts, cur_counts) = aligned_counts(ref, cur)
        details["new_categories"] = [
            c for c, n in zip(categories, ref_counts, strict=True) if not n
        ]
        details["vanished_categories"] = [
            c for c, n in zip(categories, cur_counts, strict=True) if not n
        ]
        details["histogram"] = _category_histogram(categories, ref_counts, cur_counts)
    else:
        ref, cur = _numbers(ref), _numbers(cur)
        details["histogram"] = _number_histogram(ref, cur)
        if method in {"psi", "jensenshannon", "chi2"}:
            ref_counts, cur_counts, edges = compare.binned_counts(ref, cur, bins)
            details["bins"] = len(edges) + 1
    if method == "ks":
        result = compare.ks(_numbers(ref), _numbers(cur))
        return result.statistic, result.p_value, details
    if method == "wasserstein":
        ref, cur = _numbers(ref), _numbers(cur)
        raw = compare.wasserstein(ref, cur)
        details["wasserstein"] = raw
        return raw / compare.wasserstein_scale(ref), None, details
    if method == "chi2":
        result = stats.chi_squared_counts(ref_counts, cur_counts)
        details["dof"] = result.dof
        return result.statistic, result.p_value, details
    if method == "z":
        result = stats.z_test_counts(ref_counts, cur_counts)
        return result.statistic, result.p_value, details
    ref_shares, cur_shares = compare.shares(ref_counts), compare.shares(cur_counts)
    if method == "psi":
        return stats.psi_of_shares(ref_shares, cur_shares), None, details
    return stats.jensen_shannon_of_shares(ref_shares, cur_shares), None, details


def _numbers(summary: ColumnSummary) -> NumericSummary:
    if not isinstance(summary, NumericSummary):  # _plan refuses numeric methods on categories
        raise InvalidInput("this method needs numbers, and the column holds categories")
    return summary


def _number_histogram(reference: NumericSummary, current: NumericSummary) -> dict[str, Any]:
    low = min(reference.values[0], current.values[0])
    high = max(reference.values[-1], current.values[-1])
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1) if high > low else np.array([low, high])
    inner = edges[1:-1]
    return {
        "kind": "numerical",
        "edges": edges.tolist(),
        "reference": compare.shares(compare.bin_counts(reference, inner)).tolist(),
        "current": compare.shares(compare.bin_counts(current, inner)).tolist(),
    }


def _category_histogram(
    categories: Sequence[Hashable], reference: Any, current: Any
) -> dict[str, Any]:
    ref_shares, cur_shares = compare.shares(reference), compare.shares(current)
    order = np.argsort(-(ref_shares + cur_shares), kind="stable")
    top, rest = order[:HISTOGRAM_CATEGORIES], order[HISTOGRAM_CATEGORIES:]
    names: list[Any] = [categories[i] for i in top]
    ref_top, cur_top = ref_shares[top].tolist(), cur_shares[top].tolist()
    if len(rest):
        names.append("(other)")
        ref_top.append(float(ref_shares[rest].sum()))
        cur_top.append(float(cur_shares[rest].sum()))
    return {"kind": "categorical", "categories": names, "reference": ref_top, "current": cur_top}
