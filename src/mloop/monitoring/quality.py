"""Data quality of live traffic: a window of rows checked against a reference's baseline.

:func:`data_quality` checks a window (a DataFrame) against a
:class:`~mloop.monitoring.quality_baseline.QualityBaseline`, and, when given
one, an expectation suite. Every share is of the window's rows, missing ones
included. Per column of the baseline:

- **missing**: the share of rows missing a value (``None``, ``NaN``, ``NaT``,
  ``pd.NA``, and ``±inf`` in numbers); it *rose* when it is more than the
  reference's share plus ``missing_tolerance`` (an absolute share, 0.05 by
  default).
- **out of range** (numerical columns): the rows whose value is below the
  reference's ``min`` or above its ``max``; missing values are never out of
  range.
- **unseen** (categorical and boolean columns whose categories are tracked):
  the rows whose value is not one of the reference's categories, how many
  distinct such values there are, and up to :data:`MAX_EXAMPLES` of them,
  sorted as the baseline sorts categories. Missing values are never unseen.
- **type changed**: the window's column is of another kind than the
  reference's (a numerical column arriving as text, a categorical one as
  numbers or lists; ``text`` and ``categorical`` count as one kind, and so do integers
  and floats, since an integer column with ``NaN`` becomes float), or every
  value of a window with rows is missing while the reference had values.
  When the kind changed, the range and unseen checks are skipped (``None``):
  the values cannot be compared.

At table level: the baseline's columns the window lacks (*missing columns*),
the window's columns the baseline lacks (*new columns*), and the *volume*:
``"low"`` when the rows are fewer than ``expected_rows * (1 -
volume_tolerance)``, ``"high"`` when more than ``expected_rows * (1 +
volume_tolerance)``, else ``"ok"`` (``None`` without ``expected_rows``).

An empty window is valid input: its rows are 0, its shares are ``None``,
its counts 0, no type change is seen; columns present or absent are still
reported. The report passes when it lists no issue: any missing or new
column, volume out of tolerance, type change, missing share that rose,
value out of range, unseen value, or failed expectation is one.

Example:
    >>> import pandas as pd
    >>> from mloop.monitoring.quality_baseline import QualityBaseline
    >>> reference = pd.DataFrame({"age": [20, 40, 60], "plan": ["a", "b", "a"]})
    >>> baseline = QualityBaseline.from_frame(reference)
    >>> window = pd.DataFrame({"age": [30.0, 70.0, None, 50.0], "plan": ["a", "c", "c", "b"]})
    >>> report = data_quality(window, baseline)
    >>> report.passed, report.column("age").out_of_range, report.column("plan").unseen_examples
    (False, 1, ('c',))
    >>> report.metrics()["missing(age)"], report.metrics()["unseen(plan)"]
    (0.25, 0.5)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from mloop.data.expectations import ExpectationSuite
from mloop.data.validation import CheckResult, ValidationResult, run_suite
from mloop.errors import InvalidInput
from mloop.monitoring.json_values import scalar
from mloop.monitoring.quality_baseline import (
    ColumnBaseline,
    QualityBaseline,
    column_kind,
    missing_mask,
    numbers,
    sort_key,
)

DEFAULT_MISSING_TOLERANCE = 0.05
"""How much a column's missing share may rise over the reference's (an absolute share)."""

MAX_EXAMPLES = 5
"""The most unseen values a column's result shows."""

Volume = Literal["ok", "low", "high"]

# A share computed as a difference of two shares may miss its tolerance by a rounding error.
_EPSILON = 1e-12


@dataclass(frozen=True)
class ColumnQuality:
    """The checks of one column of the baseline on the window.

    Attributes:
        column: the column's name.
        kind: the reference's kind of the column.
        dtype: the window's dtype, as text; ``None`` when the column is absent.
        missing: the window's missing share; ``None`` when absent or empty.
        reference_missing: the reference's missing share.
        tracked: the baseline keeps the column's categories, so the unseen
            check applies.
        missing_rose: ``missing > reference_missing + missing_tolerance``.
        out_of_range: rows outside the reference's range; ``None`` when the
            check does not apply (not numerical, absent, kind changed, no
            reference values).
        out_of_range_share: that count over the window's rows; ``None`` also
            on an empty window.
        unseen: rows with a value that is not a reference category; ``None``
            when the check does not apply (not tracked, absent, kind changed).
        unseen_share: that count over the window's rows.
        unseen_categories: how many distinct unseen values there are.
        unseen_examples: up to :data:`MAX_EXAMPLES` of them, sorted.
        type_changed: see the module's definition.
        note: what changed, or why a check was skipped; else empty.
    """

    column: str
    kind: str
    dtype: str | None
    missing: float | None
    reference_missing: float
    tracked: bool = False
    missing_rose: bool = False
    out_of_range: int | None = None
    out_of_range_share: float | None = None
    unseen: int | None = None
    unseen_share: float | None = None
    unseen_categories: int | None = None
    unseen_examples: tuple[Any, ...] = ()
    type_changed: bool = False
    note: str = ""

    @property
    def present(self) -> bool:
        """Whether the window has the column."""
        return self.dtype is not None


@dataclass(frozen=True)
class QualityReport:
    """The quality of a window: each column's checks, the table's, and the suite's.

    Attributes:
        rows: the window's rows.
        expected_rows: the rows expected, if given.
        volume: ``"ok"``, ``"low"`` or ``"high"``; ``None`` without ``expected_rows``.
        columns: one result per baseline column, in the baseline's order.
        missing_columns: the baseline's columns the window lacks.
        new_columns: the window's columns the baseline lacks, in the window's order.
        validation: the suite's result, when a suite was given.
        issues: one line per issue found, table first, then columns, then expectations.
        volume_tolerance: the tolerance the volume was judged by.
        missing_tolerance: the tolerance missing shares were judged by.

    Example:
        >>> import pandas as pd
        >>> baseline = QualityBaseline.from_frame(pd.DataFrame({"x": [1.0, 2.0]}))
        >>> report = data_quality(pd.DataFrame({"x": [None, 3.0]}), baseline)
        >>> report.passed, report.column("x").missing_rose
        (False, True)
        >>> {key: value for key, value in report.metrics().items() if "(x)" in key}
        {'missing(x)': 0.5, 'out_of_range(x)': 0.5, 'type_changed(x)': 0.0}
    """

    rows: int
    expected_rows: int | None
    volume: Volume | None
    columns: tuple[ColumnQuality, ...]
    missing_columns: tuple[str, ...]
    new_columns: tuple[Hashable, ...]
    validation: ValidationResult | None
    issues: tuple[str, ...]
    volume_tolerance: float
    missing_tolerance: float

    @property
    def passed(self) -> bool:
        """No issue found."""
        return not self.issues

    @property
    def failed_expectations(self) -> list[CheckResult]:
        """The suite's checks that failed (none without a suite)."""
        return [] if self.validation is None else self.validation.failed

    def column(self, name: str) -> ColumnQuality:
        """The result of the column ``name``."""
        for result in self.columns:
            if result.column == name:
                return result
        names = [result.column for result in self.columns]
        raise InvalidInput(f"no column {name!r} in this report; it has {names}")

    def metrics(self) -> dict[str, float]:
        """A flat mapping of numbers, for alert rules.

        ``rows``, ``missing_columns``, ``new_columns`` and
        ``failed_expectations`` (counts); per baseline column ``missing(COL)``
        and ``type_changed(COL)`` (0.0 or 1.0), ``out_of_range(COL)`` for a
        numerical column and ``unseen(COL)`` for one whose categories are
        tracked (shares). The keys depend on the baseline only; a share the
        window cannot give (empty window, kind changed) is 0.0, and an absent
        column's missing share is 1.0 (0.0 on an empty window).
        """
        values: dict[str, float] = {"rows": float(self.rows)}
        for result in self.columns:
            name = result.column
            if result.present:
                values[f"missing({name})"] = result.missing or 0.0
            else:
                values[f"missing({name})"] = 1.0 if self.rows else 0.0
            if result.kind == "numerical":
                values[f"out_of_range({name})"] = result.out_of_range_share or 0.0
            if result.tracked:
                values[f"unseen({name})"] = result.unseen_share or 0.0
            values[f"type_changed({name})"] = 1.0 if result.type_changed else 0.0
        values["missing_columns"] = float(len(self.missing_columns))
        values["new_columns"] = float(len(self.new_columns))
        values["failed_expectations"] = float(len(self.failed_expectations))
        return values

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data: every field, ``passed`` and :meth:`metrics`."""
        validation = None
        if self.validation is not None:
            validation = {
                "suite": self.validation.suite,
                "success": self.validation.success,
                "rows": self.validation.rows,
                "failed": [_jsonable(dataclasses.asdict(r)) for r in self.failed_expectations],
            }
        return {
            "passed": self.passed,
            "rows": self.rows,
            "expected_rows": self.expected_rows,
            "volume": self.volume,
            "volume_tolerance": self.volume_tolerance,
            "missing_tolerance": self.missing_tolerance,
            "missing_columns": list(self.missing_columns),
            "new_columns": _jsonable(list(self.new_columns)),
            "issues": list(self.issues),
            "columns": [
                {**_jsonable(dataclasses.asdict(result)), "present": result.present}
                for result in self.columns
            ],
            "validation": validation,
            "metrics": self.metrics(),
        }


def data_quality(
    current: pd.DataFrame,
    baseline: QualityBaseline,
    *,
    suite: ExpectationSuite | None = None,
    expected_rows: int | None = None,
    volume_tolerance: float = 0.5,
    missing_tolerance: float = DEFAULT_MISSING_TOLERANCE,
) -> QualityReport:
    """Check a window of rows against a reference's baseline (and a suite).

    Args:
        current: the window, a DataFrame; it may be empty.
        baseline: the reference's summary, from :meth:`QualityBaseline.from_frame`.
        suite: an expectation suite run on the window's columns named by text
            (:func:`mloop.data.validation.run_suite`); its failed checks are issues.
        expected_rows: the rows a window should have; no volume check when ``None``.
        volume_tolerance: how far, as a share of ``expected_rows``, the rows
            may be from it.
        missing_tolerance: how much a missing share may rise over the reference's.

    Raises:
        InvalidInput: before anything is checked: ``current`` not a DataFrame
            or with duplicate column names, ``baseline`` or ``suite`` of the
            wrong type, ``expected_rows`` not a positive integer, a tolerance
            negative or not a finite number.

    Example:
        >>> import pandas as pd
        >>> baseline = QualityBaseline.from_frame(pd.DataFrame({"x": [1.0, 2.0]}))
        >>> report = data_quality(pd.DataFrame({"x": [1.5], "y": [0]}), baseline, expected_rows=4)
        >>> report.volume, report.new_columns, report.issues[0]
        ('low', ('y',), "new column(s) not in the reference: ['y']")
    """
    _check_arguments(current, baseline, suite, expected_rows, volume_tolerance, missing_tolerance)
    rows = len(current)
    results = tuple(
        _column(spec, _series(current, spec.name), rows, baseline.max_categories)
        for spec in baseline.columns
    )
    results = tuple(
        dataclasses.replace(r, missing_rose=_rose(r, missing_tolerance)) for r in results
    )
    known = set(baseline.names)
    new_columns = tuple(name for name in current.columns if name not in known)
    missing_columns = tuple(r.column for r in results if not r.present)
    volume = _volume(rows, expected_rows, float(volume_tolerance))
    validation = None if suite is None else run_suite(_named(current), suite)
    report = QualityReport(
        rows=rows,
        expected_rows=expected_rows,
        volume=volume,
        columns=results,
        missing_columns=missing_columns,
        new_columns=new_columns,
        validation=validation,
        issues=(),
        volume_tolerance=float(volume_tolerance),
        missing_tolerance=float(missing_tolerance),
    )
    return dataclasses.replace(report, issues=tuple(_issues(report)))


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns an expectation can name, those named by text.

    run_suite reads such a DataFrame column by column, so a column of mixed
    types fails its own checks instead of the conversion of the whole window.
    """
    names = list(frame.columns)
    if all(isinstance(name, str) for name in names):
        return frame
    return frame[[name for name in names if isinstance(name, str)]]


def _series(frame: pd.DataFrame, name: str) -> pd.Series[Any] | None:
    return frame[name] if name in frame.columns else None


def _check_arguments(
    current: Any,
    baseline: Any,
    suite: Any,
    expected_rows: Any,
    volume_tolerance: Any,
    missing_tolerance: Any,
) -> None:
    if not isinstance(current, pd.DataFrame):
        raise InvalidInput(f"the window must be a pandas DataFrame, got {type(current).__name__}")
    if not current.columns.is_unique:
        raise InvalidInput("the window has duplicate column names; give each column its own")
    if not isinstance(baseline, QualityBaseline):
        raise InvalidInput(
            f"baseline must be a QualityBaseline, got {type(baseline).__name__}; build one with "
            "QualityBaseline.from_frame(reference) or read one with QualityBaseline.from_dict"
        )
    if suite is not None and not isinstance(suite, ExpectationSuite):
        raise InvalidInput(
            f"suite must be an ExpectationSuite, got {type(suite).__name__}; "
            "load one with ExpectationSuite.from_yaml(path)"
        )
    if expected_rows is not None and (
        isinstance(expected_rows, bool) or not isinstance(expected_rows, int) or expected_rows < 1
    ):
        raise InvalidInput(
            f"expected_rows must be a positive integer (or None for no volume check), "
            f"got {expected_rows!r}"
        )
    for name, value in (
        ("volume_tolerance", volume_tolerance),
        ("missing_tolerance", missing_tolerance),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            raise InvalidInput(f"{name} must be a finite number >= 0 (a share), got {value!r}")


def _column(
    spec: ColumnBaseline, series: pd.Series[Any] | None, rows: int, cap: int
) -> ColumnQuality:
    tracked = spec.categories is not None
    base = ColumnQuality(spec.name, spec.kind, None, None, spec.missing, tracked=tracked)
    if series is None:
        return dataclasses.replace(base, note="absent from the window")
    kind = column_kind(series)
    missing = missing_mask(series, kind)
    count = int(np.count_nonzero(missing))
    result = dataclasses.replace(
        base, dtype=str(series.dtype), missing=count / rows if rows else None
    )
    if rows and count == rows and spec.missing < 1.0:
        note = f"every value is missing (the reference's missing share was {spec.missing:.4g})"
        result = dataclasses.replace(result, type_changed=True, note=note)
    elif rows and kind is not None and _family(kind) != _family(spec.kind):
        note = f"was {spec.kind} ({spec.dtype}), now {kind} ({series.dtype})"
        return dataclasses.replace(result, type_changed=True, note=note)
    if spec.kind == "numerical":
        return _out_of_range(result, spec, series, missing, rows)
    if spec.kind in ("categorical", "boolean", "text"):
        return _unseen(result, spec, series, missing, rows, cap)
    return result


def _out_of_range(
    result: ColumnQuality,
    spec: ColumnBaseline,
    series: pd.Series[Any],
    missing: np.ndarray[Any, Any],
    rows: int,
) -> ColumnQuality:
    if spec.min is None or spec.max is None:
        return _noted(result, "the reference has no values: the range is not checked")
    count = 0
    if not missing.all():  # no value (or no row) is no value outside, whatever the dtype
        values = numbers(series)
        # NaN compares false both ways, so only finite values can be outside.
        outside = ((values < spec.min) | (values > spec.max)) & ~missing
        count = int(np.count_nonzero(outside))
    return dataclasses.replace(
        result, out_of_range=count, out_of_range_share=count / rows if rows else None
    )


def _unseen(
    result: ColumnQuality,
    spec: ColumnBaseline,
    series: pd.Series[Any],
    missing: np.ndarray[Any, Any],
    rows: int,
    cap: int,
) -> ColumnQuality:
    if spec.categories is None:
        if spec.distinct == 0:
            reason = "the reference has no values"
        elif spec.kind == "text" or (spec.distinct or 0) > cap:
            reason = f"too many categories to track ({spec.distinct} > {cap})"
        else:
            reason = "the reference's categories are not text, numbers or booleans"
        return _noted(result, f"{reason}: unseen categories are not checked")
    count, values = 0, []
    if not missing.all():
        try:
            unseen = ~missing & ~series.isin(list(spec.categories)).to_numpy(dtype=bool)
            count = int(np.count_nonzero(unseen))
            values = [scalar(value) for value in pd.unique(series[unseen].to_numpy())]
        except TypeError:  # unhashable values (lists, dicts): no category is like them
            note = f"was {spec.kind} ({spec.dtype}), now values that are not categories"
            return dataclasses.replace(result, type_changed=True, note=note)
    return dataclasses.replace(
        result,
        unseen=count,
        unseen_share=count / rows if rows else None,
        unseen_categories=len(values),
        unseen_examples=tuple(sorted(values, key=sort_key)[:MAX_EXAMPLES]),
    )


def _noted(result: ColumnQuality, note: str) -> ColumnQuality:
    return dataclasses.replace(result, note="; ".join(filter(None, (result.note, note))))


def _family(kind: str) -> str:
    return "categorical" if kind == "text" else kind


def _rose(result: ColumnQuality, tolerance: float) -> bool:
    if result.missing is None:
        return False
    return result.missing - result.reference_missing > tolerance + _EPSILON


def _volume(rows: int, expected: int | None, tolerance: float) -> Volume | None:
    if expected is None:
        return None
    if rows < expected * (1 - tolerance):
        return "low"
    if rows > expected * (1 + tolerance):
        return "high"
    return "ok"


def _issues(report: QualityReport) -> list[str]:
    issues = [f"column {name!r} is missing from the window" for name in report.missing_columns]
    if report.new_columns:
        issues.append(f"new column(s) not in the reference: {list(report.new_columns)}")
    if report.volume in ("low", "high"):
        issues.append(
            f"volume {report.volume}: {report.rows} rows, expected {report.expected_rows} "
            f"within {report.volume_tolerance:.0%}"
        )
    for r in report.columns:
        issues += _column_issues(r, report.missing_tolerance)
    for check in report.failed_expectations:
        issues.append(f"expectation {check.expectation} failed: {check.observed}")
    return issues


def _column_issues(r: ColumnQuality, tolerance: float) -> list[str]:
    found = []
    if r.type_changed:
        found.append(f"column {r.column!r}: type changed: {r.note}")
    if r.missing_rose:
        found.append(
            f"column {r.column!r}: missing share rose from {r.reference_missing:.4g} "
            f"to {r.missing:.4g} (tolerance {tolerance:.4g})"
        )
    if r.out_of_range:
        found.append(
            f"column {r.column!r}: {r.out_of_range} value(s) ({r.out_of_range_share:.2%}) "
            "outside the reference's range"
        )
    if r.unseen:
        found.append(
            f"column {r.column!r}: {r.unseen} row(s) ({r.unseen_share:.2%}) with a category "
            f"not in the reference, {r.unseen_categories} distinct, e.g. {list(r.unseen_examples)}"
        )
    return found


def _jsonable(value: Any) -> Any:
    """Plain data JSON writes: containers walked, non-finite floats and other objects as text."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    value = scalar(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
