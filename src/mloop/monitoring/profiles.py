"""Profiles of tables: every column's exact summary, computed once, stored, merged.

A :class:`TableProfile` holds, per column, the summary drift reads
(:mod:`mloop.monitoring.summaries`): sorted distinct values with counts for
numbers, counts per category for the rest. A reference's profile is
computed once and stored with its dataset version, so checking a window
against it reads the profile, not the reference's rows; a window's profile
is merged block by block (:meth:`TableProfile.merge`), so its size follows
the distinct values, not the rows.

:meth:`TableProfile.to_bytes` writes an Arrow IPC file (zstd-compressed) and
:meth:`TableProfile.from_bytes` reads one back, checking its format, and
that every column's values are sorted, distinct and counted, before it is
used.

Example:
    >>> import pandas as pd
    >>> first = profile(pd.DataFrame({"age": [30, 40], "plan": ["a", "b"]}))
    >>> both = first.merge(profile(pd.DataFrame({"age": [40, None], "plan": ["b", "b"]})))
    >>> both.rows, both.column("age").counts.tolist(), both.column("plan").counts.tolist()
    (4, [1, 2], [1, 3])
    >>> TableProfile.from_bytes(both.to_bytes()).column("age").missing
    1
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mloop.errors import InvalidInput
from mloop.monitoring.summaries import (
    CategoricalSummary,
    ColumnSummary,
    NumericSummary,
    summarize,
)

FORMAT = "mloop.table-profile"
VERSION = 1

_CATEGORY_TYPES: Mapping[str, pa.DataType] = {
    "string": pa.string(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
}


@dataclass(frozen=True)
class TableProfile:
    """Every column's summary, and the number of rows profiled.

    Attributes:
        columns: the summary of each column, by name, in the table's order.
        rows: the number of rows.
        skipped: the columns left out, each with why (dates, values of mixed kinds).
    """

    columns: Mapping[Hashable, ColumnSummary]
    rows: int
    skipped: Mapping[Hashable, str] = dataclasses.field(default_factory=dict)

    def column(self, name: Hashable) -> ColumnSummary:
        """The summary of the column ``name``."""
        try:
            return self.columns[name]
        except KeyError:
            if name in self.skipped:
                raise InvalidInput(
                    f"column {name!r} is not in the reference's profile: {self.skipped[name]}"
                ) from None
            raise InvalidInput(
                f"the profile has no column {name!r}; it has {list(self.columns)}"
            ) from None

    def merge(self, other: TableProfile) -> TableProfile:
        """The profile of both tables' rows together; both must have the same columns.

        Raises:
            InvalidInput: the columns differ, or a column holds numbers in one
                and categories in the other.
        """
        if list(self.columns) != list(other.columns):
            raise InvalidInput(
                f"cannot merge profiles of different columns: {list(self.columns)} "
                f"and {list(other.columns)}"
            )
        merged = {
            name: _merge(name, self.columns[name], other.columns[name]) for name in self.columns
        }
        return TableProfile(merged, self.rows + other.rows)

    def to_bytes(self) -> bytes:
        """The profile as an Arrow IPC file, zstd-compressed."""
        fields, arrays = [], []
        meta: list[dict[str, Any]] = []
        for slot, (name, summary) in enumerate(self.columns.items()):
            entry: dict[str, Any] = {"name": name, "missing": summary.missing}
            if isinstance(summary, NumericSummary):
                entry.update(kind="numbers", integer=summary.integer)
                values: pa.Array = pa.array(summary.values, pa.float64())
            else:
                value_type = _category_type(name, summary.categories)
                entry.update(kind="categories", type=value_type)
                values = pa.array(list(summary.categories), _CATEGORY_TYPES[value_type])
            meta.append(entry)
            for part, array in (("values", values), ("counts", pa.array(summary.counts))):
                arrays.append(_one_list(array))
                fields.append(pa.field(f"{slot}.{part}", arrays[-1].type))
        header = {
            "format": FORMAT,
            "version": VERSION,
            "rows": self.rows,
            "columns": meta,
            "skipped": [[name, why] for name, why in self.skipped.items()],
        }
        schema = pa.schema(fields, metadata={"mloop": json.dumps(header)})
        table = pa.Table.from_arrays(arrays, schema=schema)
        sink = pa.BufferOutputStream()
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_file(sink, schema, options=options) as writer:
            writer.write_table(table)
        return bytes(sink.getvalue().to_pybytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> TableProfile:
        """Read a profile written by :meth:`to_bytes`, checking it before it is used.

        Raises:
            InvalidInput: not a profile, a newer format, or a column whose
                values are not sorted and distinct or whose counts do not fit.
        """
        try:
            table = pa.ipc.open_file(pa.py_buffer(data)).read_all()
            header = json.loads((table.schema.metadata or {})[b"mloop"])
        except (pa.ArrowInvalid, KeyError, ValueError, TypeError) as err:
            raise InvalidInput(f"not a table profile: {err}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise InvalidInput("not a table profile: the file has no profile header")
        if header.get("version") != VERSION:
            raise InvalidInput(
                f"the profile is of format version {header.get('version')!r}; "
                f"this mloop reads version {VERSION}: compute the profile again"
            )
        columns: dict[Hashable, ColumnSummary] = {}
        for slot, entry in enumerate(header["columns"]):
            values = table.column(f"{slot}.values")[0].values
            counts = table.column(f"{slot}.counts")[0].values.to_numpy().astype(np.int64)
            columns[_name(entry["name"])] = _read_summary(entry, values, counts)
        skipped = {_name(name): str(why) for name, why in header.get("skipped", [])}
        return cls(columns, int(header["rows"]), skipped)


def _one_list(values: pa.Array) -> pa.Array:
    # A column of one row holding all the values: any number of columns in one table.
    return pa.LargeListArray.from_arrays(pa.array([0, len(values)], pa.int64()), values)


def _name(name: Any) -> Hashable:
    return tuple(name) if isinstance(name, list) else name


def _merge(name: Hashable, mine: ColumnSummary, theirs: ColumnSummary) -> ColumnSummary:
    # An all-missing block reads as categories (pandas gives it dtype object).
    if (
        isinstance(mine, NumericSummary)
        and isinstance(theirs, CategoricalSummary)
        and not theirs.count
    ):
        return NumericSummary(mine.values, mine.counts, mine.missing + theirs.missing, mine.integer)
    if (
        isinstance(theirs, NumericSummary)
        and isinstance(mine, CategoricalSummary)
        and not mine.count
    ):
        return _merge(name, theirs, mine)
    if isinstance(mine, NumericSummary) and isinstance(theirs, NumericSummary):
        return mine.merge(theirs)
    if isinstance(mine, CategoricalSummary) and isinstance(theirs, CategoricalSummary):
        return mine.merge(theirs)
    raise InvalidInput(f"column {name!r} holds numbers in one table and categories in the other")


def _category_type(name: Hashable, categories: Sequence[Hashable]) -> str:
    kinds = {type(value) for value in categories}
    if not kinds or kinds == {str}:
        return "string"
    if kinds <= {bool, np.bool_}:
        return "bool"
    if all(issubclass(kind, (int, np.integer)) and not issubclass(kind, bool) for kind in kinds):
        return "int"
    if all(issubclass(kind, (float, np.floating)) for kind in kinds):
        return "float"
    names = ", ".join(sorted(kind.__name__ for kind in kinds))
    raise InvalidInput(
        f"column {name!r} mixes kinds of values ({names}): convert it to text to profile it"
    )


def _read_summary(entry: Mapping[str, Any], values: pa.Array, counts: Any) -> ColumnSummary:
    if len(values) != len(counts) or (len(counts) and counts.min() < 1):
        raise InvalidInput(f"the profile of column {entry.get('name')!r} is damaged: bad counts")
    missing = int(entry["missing"])
    if entry["kind"] == "numbers":
        numbers = values.to_numpy(zero_copy_only=False).astype(np.float64)
        if len(numbers) and not (np.all(np.diff(numbers) > 0) and np.all(np.isfinite(numbers))):
            raise InvalidInput(
                f"the profile of column {entry.get('name')!r} is damaged: values not sorted"
            )
        return NumericSummary(numbers, counts, missing, bool(entry["integer"]))
    categories = tuple(values.to_pylist())
    if len(set(categories)) != len(categories):
        raise InvalidInput(
            f"the profile of column {entry.get('name')!r} is damaged: repeated categories"
        )
    return CategoricalSummary(categories, counts, missing)


def profile(
    table: Any, columns: Iterable[Hashable] | None = None, *, skip_unsupported: bool = False
) -> TableProfile:
    """The profile of a DataFrame (or a NumPy array, columns 0, 1, ...).

    Args:
        table: the rows to profile.
        columns: the columns to profile; all by default.
        skip_unsupported: leave out the columns drift cannot compare (dates,
            values of mixed kinds), noting why in ``skipped``, instead of
            refusing the table.

    Raises:
        InvalidInput: not a table, a column it does not have, a column of
            dates or complex numbers.

    Example:
        >>> import pandas as pd
        >>> p = profile(pd.DataFrame({"x": [1.0, 1.0, 2.0]}))
        >>> p.rows, p.column("x").values.tolist(), p.column("x").counts.tolist()
        (3, [1.0, 2.0], [2, 1])
    """
    frame = as_frame(table, "profiled")
    names = list(frame.columns) if columns is None else list(columns)
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise InvalidInput(f"the table has no column(s) {missing}")
    if not skip_unsupported:
        return TableProfile({name: summarize(frame[name], name) for name in names}, len(frame))
    kept: dict[Hashable, ColumnSummary] = {}
    skipped: dict[Hashable, str] = {}
    for name in names:
        try:
            summary = summarize(frame[name], name)
            if isinstance(summary, CategoricalSummary):
                _category_type(name, summary.categories)
        except InvalidInput as err:
            skipped[name] = str(err)
            continue
        kept[name] = summary
    return TableProfile(kept, len(frame), skipped)


def as_frame(table: Any, side: str) -> pd.DataFrame:
    """A DataFrame from a DataFrame or a 1-D/2-D NumPy array, with unique column names."""
    if isinstance(table, np.ndarray) and table.ndim in (1, 2):
        table = pd.DataFrame(table)
    if not isinstance(table, pd.DataFrame):
        raise InvalidInput(
            f"the {side} table must be a pandas DataFrame, a NumPy array or a TableProfile, "
            f"got {type(table).__name__}"
        )
    if not table.columns.is_unique:
        raise InvalidInput(f"the {side} table has duplicate column names")
    return table
