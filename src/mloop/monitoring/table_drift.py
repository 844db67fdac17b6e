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

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mloop.errors import InvalidInput
from mloop.monitoring import statistics as stats

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


@dataclass(frozen=True)
class _Plan:
    """One column's cleaned samples and the method and threshold it is judged by."""

    column: Hashable
    kind: Kind
    method: str
    threshold: float
    reference: pd.Series[Any]
    current: pd.Series[Any]
    reference_missing: float
    current_missing: float


def drift(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    method: str = "auto",
    threshold: float | None = None,
    *,
    methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share: float = 0.5,
    bins: int = stats.DEFAULT_BINS,
) -> DriftReport:
    """Compare each column of ``current`` with ``reference``; say which drifted.

    Args:
        reference: the table the current one is compared with (a DataFrame,
            or a NumPy array whose columns are named 0, 1, ...).
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
    ref_frame = _frame(reference, "reference")
    cur_frame = _frame(current, "current")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 < share <= 1.0:
        raise InvalidInput(f"share must be in (0, 1], got {share!r}")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidInput(f"bins must be a positive integer, got {bins!r}")
    names = _columns(ref_frame, cur_frame, columns)
    for option, known in (("methods", methods), ("thresholds", thresholds)):
        unknown = sorted(set(known or {}) - set(names), key=str)
        if unknown:
            raise InvalidInput(f"{option} names columns not compared: {unknown}")
    plans = [
        _plan(
            name,
            ref_frame[name],
            cur_frame[name],
            (methods or {}).get(name, method),
            (thresholds or {}).get(name, threshold),
        )
        for name in names
    ]
    results = tuple(_judge(plan, bins) for plan in plans)
    drifted = sum(result.drifted for result in results)
    drift_share = drifted / len(results)
    return DriftReport(results, drift_share, share, drift_share >= share)


def _frame(table: Any, side: str) -> pd.DataFrame:
    if isinstance(table, np.ndarray) and table.ndim in (1, 2):
        table = pd.DataFrame(table)
    if not isinstance(table, pd.DataFrame):
        raise InvalidInput(
            f"the {side} table must be a pandas DataFrame or a NumPy array, "
            f"got {type(table).__name__}"
        )
    if table.shape[0] == 0:
        raise InvalidInput(f"the {side} table has no rows: drift needs data on both sides")
    if not table.columns.is_unique:
        raise InvalidInput(f"the {side} table has duplicate column names")
    return table


def _columns(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str] | None
) -> list[Any]:
    if isinstance(columns, str):
        raise InvalidInput(f"columns must be a list of names, got the string {columns!r}")
    names = list(reference.columns) if columns is None else list(columns)
    if not names:
        raise InvalidInput("no columns to compare")
    for side, frame in (("reference", reference), ("current", current)):
        missing = [name for name in names if name not in frame.columns]
        if missing:
            raise InvalidInput(f"the {side} table has no column(s) {missing}")
    return names


def _kind(name: Any, reference: pd.Series[Any], current: pd.Series[Any]) -> Kind:
    dtype = reference.dtype
    if (
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    ):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        distinct = pd.concat([reference, current], ignore_index=True).nunique(dropna=True)
        return "categorical" if distinct <= FEW_VALUES else "numerical"
    raise InvalidInput(
        f"column {name!r} has dtype {dtype}, which drift does not compare; "
        "convert it to numbers or text, or leave it out of columns"
    )


def _plan(
    name: Any,
    reference: pd.Series[Any],
    current: pd.Series[Any],
    method: str,
    threshold: float | None,
) -> _Plan:
    ref, ref_missing = stats.split_missing(reference)
    cur, cur_missing = stats.split_missing(current)
    kind = _kind(name, reference, current)
    numbers = pd.api.types.is_numeric_dtype(reference.dtype) and not (
        pd.api.types.is_bool_dtype(reference.dtype)
    )
    if method == "auto":
        method = _auto(kind, ref, cur)
    elif method not in METHODS:
        raise InvalidInput(
            f"unknown drift method {method!r} for column {name!r}; "
            f"use 'auto' or one of {', '.join(METHODS)}"
        )
    if method in _NUMERIC_ONLY and not numbers:
        raise InvalidInput(
            f"method {method!r} needs numbers, and column {name!r} is {reference.dtype}; "
            "use chi2, z, psi or jensenshannon"
        )
    if method == "z" and pd.concat([ref, cur]).nunique() > 2:
        raise InvalidInput(
            f"method 'z' compares two categories, and column {name!r} has more; use chi2"
        )
    limit = DEFAULT_THRESHOLDS[method] if threshold is None else threshold
    _check_threshold(name, method, limit)
    return _Plan(name, kind, method, float(limit), ref, cur, ref_missing, cur_missing)


def _auto(kind: Kind, reference: pd.Series[Any], current: pd.Series[Any]) -> str:
    if len(reference) <= SMALL_REFERENCE:
        if kind == "numerical":
            return "ks"
        return "z" if pd.concat([reference, current]).nunique() <= 2 else "chi2"
    return "wasserstein" if kind == "numerical" else "jensenshannon"


def _check_threshold(name: Any, method: str, threshold: Any) -> None:
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
    empty = [side for side, values in sides if values.empty]
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
        reference_missing=plan.reference_missing,
        current_missing=plan.current_missing,
        details=details,
        note=note,
    )


def _measure(plan: _Plan, bins: int) -> tuple[float, float | None, dict[str, Any]]:
    ref, cur, method = plan.reference, plan.current, plan.method
    categorical = plan.kind == "categorical"
    details: dict[str, Any] = {}
    if categorical:
        ref_values, cur_values = set(ref.unique()), set(cur.unique())
        details["new_categories"] = sorted(cur_values - ref_values, key=str)
        details["vanished_categories"] = sorted(ref_values - cur_values, key=str)
    elif method in {"psi", "jensenshannon", "chi2"}:
        details["bins"] = len(stats.quantile_edges(ref, bins)) + 1
    if method == "ks":
        result = stats.ks(ref, cur)
        return result.statistic, result.p_value, details
    if method == "chi2":
        result = stats.chi_squared(ref, cur, categorical=categorical, bins=bins)
        details["dof"] = result.dof
        return result.statistic, result.p_value, details
    if method == "z":
        result = stats.z_test(ref, cur)
        return result.statistic, result.p_value, details
    if method == "wasserstein":
        raw = stats.wasserstein(ref, cur)
        details["wasserstein"] = raw
        return raw / stats.wasserstein_scale(ref), None, details
    if method == "psi":
        return stats.psi(ref, cur, categorical=categorical, bins=bins), None, details
    return stats.jensen_shannon(ref, cur, categorical=categorical, bins=bins), None, details
