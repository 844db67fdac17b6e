"""Running an expectation suite over a table: vectorized checks, one result per expectation.

Example:
    >>> import pyarrow as pa
    >>> from mloop.data.expectations import Expectation, ExpectationSuite
    >>> suite = ExpectationSuite("s", [Expectation("between", column="x", min=0, max=5)])
    >>> result = run_suite(pa.table({"x": [1, 2, 9]}), suite)
    >>> (result.success, result.results[0].unexpected_count, result.results[0].examples)
    (False, 1, [9])
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mloop.data.expectations import Expectation, ExpectationSuite
from mloop.data.profile import logical_type
from mloop.errors import InvalidInput

MAX_EXAMPLES = 20


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation."""

    expectation: str
    success: bool
    observed: Any = None
    unexpected_count: int = 0
    unexpected_percent: float = 0.0
    examples: list[Any] = dataclasses.field(default_factory=list)
    message: str = ""


@dataclasses.dataclass(frozen=True)
class ValidationResult:
    """The outcome of a suite: success only when every check succeeded."""

    suite: str
    success: bool
    rows: int
    results: list[CheckResult]
    data_ref: str | None = None

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that failed."""
        return [r for r in self.results if not r.success]


def _share(table: pa.Table, e: Expectation, bad: pa.ChunkedArray | pa.Array) -> CheckResult:
    """A result from a boolean mask of unexpected rows among the non-null values."""
    column = table.column(e.column)
    mask = pc.fill_null(bad, False)
    count = int(pc.sum(mask).as_py() or 0)
    considered = max(1, len(column) - (column.null_count if e.kind != "not_null" else 0))
    percent = 100.0 * count / considered
    examples = pc.filter(column, mask).slice(0, MAX_EXAMPLES).to_pylist() if count else []
    mostly = float(e.kwargs.get("mostly", 1.0))
    return CheckResult(
        e.label,
        count <= (1 - mostly) * considered + 1e-9,
        f"{percent:.4g}% unexpected",
        count,
        percent,
        examples,
    )


def _bounds(value: float | None, e: Expectation) -> bool:
    if value is None:
        return False
    low, high = e.kwargs.get("min"), e.kwargs.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def _numbers(column: pa.ChunkedArray) -> np.ndarray[Any, Any]:
    if logical_type(column.type) not in ("integer", "float"):
        raise InvalidInput(f"is {logical_type(column.type)}, not numeric")
    values: np.ndarray[Any, Any] = pc.drop_null(column).to_numpy(zero_copy_only=False)
    return values.astype("float64")


def _outside(values: pa.ChunkedArray, low: Any, high: Any) -> pa.ChunkedArray:
    """True where a value is below ``low`` or above ``high`` (nulls are never outside)."""
    mask = pc.and_(pc.is_null(values), pc.is_valid(values))  # all false
    if low is not None:
        mask = pc.or_(mask, pc.less(values, low))
    if high is not None:
        mask = pc.or_(mask, pc.greater(values, high))
    return mask


_MASKS: dict[str, Any] = {
    "not_null": lambda c, a: pc.is_null(c),
    "between": lambda c, a: _outside(c, a.get("min"), a.get("max")),
    "in_set": lambda c, a: pc.invert(pc.is_in(c, value_set=pa.array(a["values"]))),
    "regex": lambda c, a: pc.invert(pc.match_substring_regex(c, a["pattern"])),
    "string_length": lambda c, a: _outside(pc.utf8_length(c), a.get("min"), a.get("max")),
}
_STATISTICS: dict[str, Any] = {
    "mean_between": lambda v, a: float(v.mean()) if v.size else None,
    "std_between": lambda v, a: float(v.std(ddof=1)) if v.size > 1 else None,
    "quantile_between": lambda v, a: float(np.quantile(v, a["quantile"])) if v.size else None,
}


def _group_shares(column: pa.ChunkedArray) -> dict[str, float]:
    counts = pc.value_counts(pc.drop_null(column))
    total = max(1, len(column) - column.null_count)
    return {
        str(v): c / total
        for v, c in zip(
            counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
        )
    }


def _bias_check(table: pa.Table, e: Expectation) -> CheckResult:
    column = table.column(e.column)
    if e.kind == "group_representation":
        shares = _group_shares(column)
        small = sorted(g for g, share in shares.items() if share < e.kwargs["min_share"])
        rounded = {g: round(s, 4) for g, s in sorted(shares.items())}
        return CheckResult(e.label, not small, rounded, len(small), examples=small)
    label = e.kwargs["label"]
    if label not in table.column_names:
        return CheckResult(e.label, False, "label column absent", message=f"no column {label!r}")
    positive = e.kwargs.get("positive", 1)
    frame = pa.table({"g": column, "y": pc.equal(table.column(label), positive)})
    rates = {
        str(row["g"]): row["y_mean"]
        for row in frame.filter(pc.is_valid(frame["g"]))
        .group_by("g")
        .aggregate([("y", "mean")])
        .to_pylist()
    }
    if not rates:
        return CheckResult(e.label, False, "no groups")
    high, low = max(rates.values()), min(rates.values())
    gap, ratio = high - low, (low / high if high else 1.0)
    ok = gap <= e.kwargs.get("max_gap", 1.0) and ratio >= e.kwargs.get("min_ratio", 0.0)
    parity = {"gap": round(gap, 4), "ratio": round(ratio, 4), "rates": rates}
    return CheckResult(e.label, ok, parity)


def _table_check(table: pa.Table, e: Expectation) -> CheckResult:
    if e.kind == "row_count":
        return CheckResult(e.label, _bounds(table.num_rows, e), table.num_rows)
    if e.kind == "no_duplicate_rows":
        duplicates = table.num_rows - table.group_by(table.column_names).aggregate([]).num_rows
        return CheckResult(e.label, duplicates == 0, duplicates, duplicates)
    outcome = e.kwargs["check"](table)
    ok, observed = outcome if isinstance(outcome, tuple) else (outcome, None)
    return CheckResult(e.label, bool(ok), observed)


def _check(table: pa.Table, e: Expectation) -> CheckResult:
    if e.column is None:
        return _table_check(table, e)
    if e.column not in table.column_names:
        return CheckResult(e.label, False, "column absent", message=f"no column {e.column!r}")
    if e.kind in ("group_representation", "label_rate_parity"):
        return _bias_check(table, e)
    column = table.column(e.column)
    if e.kind in _MASKS:
        return _share(table, e, _MASKS[e.kind](column, e.kwargs))
    if e.kind in _STATISTICS:
        observed = _STATISTICS[e.kind](_numbers(column), e.kwargs)
        return CheckResult(e.label, _bounds(observed, e), observed)
    if e.kind == "column_type":
        actual = logical_type(column.type)
        return CheckResult(e.label, actual == e.kwargs["type"], actual)
    if e.kind == "unique":
        present = pc.drop_null(column)
        duplicates = len(present) - int(pc.count_distinct(present).as_py())
        return CheckResult(e.label, duplicates == 0, duplicates, duplicates)
    return CheckResult(e.label, True, "present")  # column_exists


def run_suite(
    table: pa.Table, suite: ExpectationSuite, data_ref: str | None = None
) -> ValidationResult:
    """Run every expectation of ``suite`` over ``table``."""
    results = []
    for expectation in suite.expectations:
        try:
            results.append(_check(table, expectation))
        except (InvalidInput, pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as err:
            results.append(CheckResult(expectation.label, False, None, message=str(err)))
    return ValidationResult(
        suite.name, all(r.success for r in results), table.num_rows, results, data_ref
    )
