"""Proposing an expectation suite from reference data.

Example:
    >>> import pyarrow as pa
    >>> suite = infer_from_table(pa.table({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]}), "ref")
    >>> [e.label for e in suite.expectations]
    ['column_type(x)', 'not_null(x)', 'between(x)', 'column_type(c)', 'not_null(c)', 'in_set(c)']
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mloop.data.expectations import Expectation, ExpectationSuite
from mloop.data.profile import profile_table
from mloop.errors import InvalidInput

MAX_CATEGORIES = 20


def _column(table: pa.Table, stats: dict[str, Any], margin: float) -> list[Expectation]:
    name = stats["name"]
    proposed = [Expectation("column_type", column=name, type=stats["type"])]
    total = stats["count"] + stats["nulls"]
    if total:
        present = stats["count"] / total
        # A column with nulls may keep having a few: allow a little below what was seen.
        mostly = 1.0 if present == 1.0 else max(0.0, round(present - margin * (1 - present), 4))
        if mostly > 0:
            kwargs: dict[str, Any] = {} if mostly == 1.0 else {"mostly": mostly}
            proposed.append(Expectation("not_null", column=name, **kwargs))
    if "min" in stats and stats["type"] in ("integer", "float"):
        span = (stats["max"] - stats["min"]) or abs(stats["max"]) or 1.0
        low, high = stats["min"] - margin * span, stats["max"] + margin * span
        if stats["type"] == "integer":
            low, high = int(low // 1), int(-(-high // 1))
        proposed.append(Expectation("between", column=name, min=low, max=high))
    elif stats["type"] in ("string", "boolean") and 0 < stats["distinct"] <= MAX_CATEGORIES:
        values = sorted(pc.unique(pc.drop_null(table.column(name))).to_pylist(), key=str)
        proposed.append(Expectation("in_set", column=name, values=values))
    return proposed


def infer_from_table(table: pa.Table, name: str, margin: float = 0.1) -> ExpectationSuite:
    """Types, nullability, ranges widened by ``margin`` of their span, and category sets.

    Raises:
        InvalidInput: a negative margin or an empty table.
    """
    if margin < 0:
        raise InvalidInput(f"margin must be >= 0, got {margin}")
    if table.num_rows == 0:
        raise InvalidInput("cannot infer a suite from a table with no rows")
    expectations: list[Expectation] = []
    for stats in profile_table(table)["columns"]:
        expectations += _column(table, stats, margin)
    return ExpectationSuite(name, expectations)
