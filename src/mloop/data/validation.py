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
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mloop.data.column_stats import all_within, duplicate_count, numbers_within
from mloop.data.columns import Columns
from mloop.data.expectations import Expectation, ExpectationSuite
from mloop.data.profile import logical_type
from mloop.errors import InvalidInput

MAX_EXAMPLES = 20
# Below this many rows a suite runs in the calling thread: starting threads costs more.
PARALLEL_ROWS = 50_000


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


def _result(
    e: Expectation, rows: int, nulls: int, count: int, examples: Callable[[], list[Any]]
) -> CheckResult:
    """A result from the number of unexpected rows among the considered ones."""
    considered = max(1, rows - (nulls if e.kind != "not_null" else 0))
    percent = 100.0 * count / considered
    mostly = float(e.kwargs.get("mostly", 1.0))
    return CheckResult(
        e.label,
        count <= (1 - mostly) * considered + 1e-9,
        f"{percent:.4g}% unexpected",
        count,
        percent,
        examples() if count else [],
    )


def _share(column: pa.ChunkedArray, e: Expectation, bad: pa.ChunkedArray | pa.Array) -> CheckResult:
    """A result from a boolean mask of unexpected rows among the non-null values."""
    mask = pc.fill_null(bad, False)
    count = int(pc.sum(mask).as_py() or 0)
    return _result(
        e,
        len(column),
        column.null_count,
        count,
        lambda: pc.filter(column, mask).slice(0, MAX_EXAMPLES).to_pylist(),
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
    return values.astype("float64", copy=False)


def _outside(values: pa.ChunkedArray, low: Any, high: Any) -> pa.ChunkedArray:
    """True where a value is below ``low`` or above ``high`` (nulls are never outside)."""
    mask = pc.and_(pc.is_null(values), pc.is_valid(values))  # all false
    if low is not None:
        mask = pc.or_(mask, pc.less(values, low))
    if high is not None:
        mask = pc.or_(mask, pc.greater(values, high))
    return mask


def _between(column: pa.ChunkedArray, e: Expectation) -> CheckResult:
    low, high = e.kwargs.get("min"), e.kwargs.get("max")
    if all_within(column, low, high):  # minimum and maximum inside: no row to look at
        return _result(e, len(column), column.null_count, 0, list)
    return _share(column, e, _outside(column, low, high))


def _not_null(rows: int, nulls: int, e: Expectation) -> CheckResult:
    return _result(e, rows, nulls, nulls, lambda: [None] * min(nulls, MAX_EXAMPLES))


def _numpy_check(values: np.ndarray[Any, Any], e: Expectation) -> CheckResult | None:
    """not_null and between on a DataFrame's numpy column, when it answers without Arrow."""
    if e.kind == "not_null":
        nulls = int(np.count_nonzero(np.isnan(values))) if values.dtype.kind == "f" else 0
        return _not_null(len(values), nulls, e)
    if e.kind == "between" and numbers_within(values, e.kwargs.get("min"), e.kwargs.get("max")):
        return _result(e, len(values), 0, 0, list)  # no row unexpected: the nulls do not matter
    return None


_MASKS: dict[str, Any] = {
    # Nulls are left to not_null: a null is never outside the set.
    "in_set": lambda c, a: pc.and_not(pc.is_valid(c), pc.is_in(c, pa.array(a["values"]))),
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


def _bias_check(columns: Columns, e: Expectation) -> CheckResult:
    column = columns.column(str(e.column))
    if e.kind == "group_representation":
        shares = _group_shares(column)
        small = sorted(g for g, share in shares.items() if share < e.kwargs["min_share"])
        rounded = {g: round(s, 4) for g, s in sorted(shares.items())}
        return CheckResult(e.label, not small, rounded, len(small), examples=small)
    label = e.kwargs["label"]
    if label not in columns.names:
        return CheckResult(e.label, False, "label column absent", message=f"no column {label!r}")
    positive = e.kwargs.get("positive", 1)
    frame = pa.table({"g": column, "y": pc.equal(columns.column(label), positive)})
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


def _table_check(columns: Columns, e: Expectation) -> CheckResult:
    if e.kind == "row_count":
        return CheckResult(e.label, _bounds(columns.num_rows, e), columns.num_rows)
    table = columns.table()
    if e.kind == "no_duplicate_rows":
        duplicates = table.num_rows - table.group_by(table.column_names).aggregate([]).num_rows
        return CheckResult(e.label, duplicates == 0, duplicates, duplicates)
    outcome = e.kwargs["check"](table)
    ok, observed = outcome if isinstance(outcome, tuple) else (outcome, None)
    return CheckResult(e.label, bool(ok), observed)


def _column_check(column: pa.ChunkedArray, e: Expectation) -> CheckResult:
    if e.kind == "not_null":  # Arrow keeps the count: no mask is needed
        return _not_null(len(column), column.null_count, e)
    if e.kind == "between":
        return _between(column, e)
    if e.kind in _MASKS:
        return _share(column, e, _MASKS[e.kind](column, e.kwargs))
    if e.kind in _STATISTICS:
        observed = _STATISTICS[e.kind](_numbers(column), e.kwargs)
        return CheckResult(e.label, _bounds(observed, e), observed)
    if e.kind == "column_type":
        actual = logical_type(column.type)
        return CheckResult(e.label, actual == e.kwargs["type"], actual)
    if e.kind == "unique":
        duplicates = duplicate_count(column)
        return CheckResult(e.label, duplicates == 0, duplicates, duplicates)
    return CheckResult(e.label, True, "present")  # column_exists


def _check(columns: Columns, e: Expectation) -> CheckResult:
    try:
        if e.column is None:
            return _table_check(columns, e)
        if e.column not in columns.names:
            return CheckResult(e.label, False, "column absent", message=f"no column {e.column!r}")
        if e.kind in ("group_representation", "label_rate_parity"):
            return _bias_check(columns, e)
        values = columns.numbers(e.column) if e.kind in ("not_null", "between") else None
        quick = None if values is None else _numpy_check(values, e)
        return quick or _column_check(columns.column(e.column), e)
    except (
        InvalidInput,
        pa.ArrowInvalid,
        pa.ArrowNotImplementedError,
        TypeError,  # pa.ArrowTypeError among them: a DataFrame column of mixed types
    ) as err:
        return CheckResult(e.label, False, None, message=str(err))


# Rough relative cost of a check on a large column, to start the longest work first.
_COST = {"unique": 8, "no_duplicate_rows": 8, "regex": 4, "in_set": 2, "string_length": 2}


def _order(expectations: Sequence[Expectation]) -> list[int]:
    """Expectation positions, costliest first (so two threads end at about the same time)."""
    return sorted(range(len(expectations)), key=lambda i: -_COST.get(expectations[i].kind, 1))


def run_suite(table: Any, suite: ExpectationSuite, data_ref: str | None = None) -> ValidationResult:
    """Run every expectation of ``suite`` over ``table`` (an Arrow table or a pandas DataFrame).

    On large tables the checks run in parallel threads, the costliest first
    (Arrow and numpy release the GIL while they compute); custom checks run in
    the calling thread. A DataFrame's columns are converted to Arrow only when a
    check reads them, and those already backed by Arrow are not copied.
    """
    columns = Columns.of(table)
    expectations = list(suite.expectations)
    results: list[CheckResult | None] = [None] * len(expectations)

    def run(index: int) -> None:
        results[index] = _check(columns, expectations[index])

    order = _order(expectations)
    custom = [i for i in order if expectations[i].kind == "custom"]
    pooled = [i for i in order if expectations[i].kind != "custom"]
    workers = min(os.cpu_count() or 1, len(pooled))
    if workers > 1 and columns.num_rows >= PARALLEL_ROWS:
        # Checks of one column may run at once: Columns converts each column once.
        with ThreadPoolExecutor(workers, thread_name_prefix="mloop-validate") as pool:
            for future in [pool.submit(run, i) for i in pooled]:
                future.result()
    else:
        for index in pooled:
            run(index)
    for index in custom:
        run(index)
    done = [r for r in results if r is not None]
    return ValidationResult(
        suite.name, all(r.success for r in done), columns.num_rows, done, data_ref
    )
