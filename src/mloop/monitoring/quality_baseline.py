"""What data quality checks live traffic against: a compact summary of a reference table.

:meth:`QualityBaseline.from_frame` reads a reference DataFrame once; the
baseline keeps, per column, its kind, dtype and missing share, the range of
a numerical column and the set of values of a categorical or boolean one,
and the reference's row count. It is plain data (:meth:`~QualityBaseline.to_dict`,
:meth:`~QualityBaseline.from_dict`), so it is stored with a monitor and read
back without the reference.

The kind of a column, from its dtype (an ``object`` or ``str`` column from
what :func:`pandas.api.types.infer_dtype` finds in its values):

===============  ===========================================================
kind             columns
===============  ===========================================================
``numerical``    integers and floats (also nullable ``Int64``/``Float64``,
                 and ``object`` columns that hold only numbers)
``boolean``      ``bool`` and ``boolean``, and ``object`` columns of booleans
                 (booleans with ``None``)
``datetime``     ``datetime64`` (with or without a time zone), and ``object``
                 columns of dates or datetimes
``categorical``  ``category``, and ``str``/``object`` columns with at most
                 ``max_categories`` (10,000) distinct values; also mixed
                 values and columns with no value at all
``text``         ``str``/``object`` columns with more distinct values
===============  ===========================================================

Durations, periods, intervals and complex numbers are refused.

Missing values are ``None``, ``NaN``, ``NaT`` and ``pd.NA``, and ``±inf`` in
a numerical column (as :func:`mloop.monitoring.statistics.split_missing`
says, so the shares agree with drift's). A numerical column's ``min`` and
``max`` are those of its other values, integers for an integer dtype.

The categories of a categorical or boolean column are the distinct values
the reference holds (of a ``category`` column, the ones used, not every one
declared), sorted: numbers first by value, then the rest by their text. They
are kept when there are some, at most ``max_categories``, and all are JSON
scalars (text, numbers, booleans); otherwise ``categories`` is ``None``, the
column's categories are too many to track (or cannot be written), and no
unseen-category check runs on it. A ``text`` column never keeps them.

Example:
    >>> import pandas as pd
    >>> reference = pd.DataFrame({"age": [31, 45, 38], "plan": ["a", "b", "a"]})
    >>> baseline = QualityBaseline.from_frame(reference)
    >>> [(c.name, c.kind, c.min, c.max, c.categories) for c in baseline.columns]
    [('age', 'numerical', 31, 45, None), ('plan', 'categorical', None, None, ('a', 'b'))]
    >>> QualityBaseline.from_dict(baseline.to_dict()) == baseline
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import numpy.typing as npt
import pandas as pd

from mloop.errors import InvalidInput
from mloop.monitoring.json_values import scalar

KINDS = ("numerical", "categorical", "boolean", "datetime", "text")
"""The kinds of column a baseline knows."""

MAX_CATEGORIES = 10_000
"""Past this many distinct values, a column's categories are not tracked."""

FORMAT = "mloop.quality-baseline"
"""The ``format`` of a baseline's plain data."""

VERSION = 1
"""The ``version`` of the plain data this mloop writes and reads."""

_INFERRED = {
    "string": "categorical",
    "boolean": "boolean",
    "integer": "numerical",
    "floating": "numerical",
    "mixed-integer-float": "numerical",
    "decimal": "numerical",
    "date": "datetime",
    "datetime": "datetime",
    "datetime64": "datetime",
}
_REBUILD = "rebuild it with QualityBaseline.from_frame(reference)"
_FIELDS = ("name", "kind", "dtype", "missing", "min", "max", "distinct", "categories")


@dataclass(frozen=True)
class ColumnBaseline:
    """The reference's summary of one column.

    Attributes:
        name: the column's name.
        kind: one of :data:`KINDS`.
        dtype: the reference's pandas dtype, as text (``"int64"``, ``"str"``).
        missing: the share of the reference's rows missing a value.
        min: the smallest value of a numerical column, else ``None`` (also
            when the column has no value).
        max: the largest value of a numerical column, else ``None``.
        distinct: the number of distinct values of a categorical, text or
            boolean column, else ``None``.
        categories: those values, sorted, when tracked; ``None`` when there
            are too many (or they are not JSON scalars), or the kind has none.
    """

    name: str
    kind: str
    dtype: str
    missing: float
    min: int | float | None = None
    max: int | float | None = None
    distinct: int | None = None
    categories: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class QualityBaseline:
    """A reference table's summary: its rows and each column's :class:`ColumnBaseline`.

    Example:
        >>> import pandas as pd
        >>> baseline = QualityBaseline.from_frame(pd.DataFrame({"ok": [True, False, True]}))
        >>> baseline.rows, baseline.column("ok").categories
        (3, (False, True))
    """

    rows: int
    columns: tuple[ColumnBaseline, ...]
    max_categories: int = MAX_CATEGORIES

    @property
    def names(self) -> list[str]:
        """The reference's column names, in its order."""
        return [column.name for column in self.columns]

    def column(self, name: str) -> ColumnBaseline:
        """The summary of the column ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise InvalidInput(f"no column {name!r} in this baseline; it has {self.names}")

    @classmethod
    def from_frame(
        cls, reference: pd.DataFrame, *, max_categories: int = MAX_CATEGORIES
    ) -> QualityBaseline:
        """Summarise ``reference`` (a DataFrame); see the module's definitions.

        Raises:
            InvalidInput: not a DataFrame, no rows or no columns, column names
                that are not distinct text, a column of an unsupported dtype,
                ``max_categories`` not a positive integer.
        """
        if not isinstance(reference, pd.DataFrame):
            raise InvalidInput(
                f"the reference must be a pandas DataFrame, got {type(reference).__name__}"
            )
        if not _positive_int(max_categories):
            raise InvalidInput(f"max_categories must be a positive integer, got {max_categories!r}")
        if reference.shape[1] == 0 or len(reference) == 0:
            raise InvalidInput(
                f"the reference has {len(reference)} rows and {reference.shape[1]} columns: "
                "a baseline needs at least one of each"
            )
        names = list(reference.columns)
        if not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
            raise InvalidInput(
                f"the reference's column names must be distinct text, got {names!r}; "
                "rename them, e.g. df.columns = [str(c) for c in df.columns]"
            )
        columns = tuple(_summarise(name, reference[name], max_categories) for name in names)
        return cls(len(reference), columns, max_categories)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data; :meth:`from_dict` reads it back equal."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "rows": self.rows,
            "max_categories": self.max_categories,
            "columns": [
                {
                    **{name: getattr(column, name) for name in _FIELDS[:-1]},
                    "categories": None if column.categories is None else list(column.categories),
                }
                for column in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityBaseline:
        """Read a baseline back from :meth:`to_dict`'s data.

        Raises:
            InvalidInput: the data is not a baseline, is of another version,
                or a field is missing or out of place; the message names it.
        """
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise InvalidInput(f"not a quality baseline (no 'format': {FORMAT!r}); {_REBUILD}")
        if data.get("version") != VERSION:
            raise InvalidInput(
                f"quality baseline version {data.get('version')!r} is not supported "
                f"(this mloop reads version {VERSION}); {_REBUILD}"
            )
        rows, cap, columns = data.get("rows"), data.get("max_categories"), data.get("columns")
        if not _positive_int(rows) or not _positive_int(cap):
            raise InvalidInput(
                f"a baseline's 'rows' and 'max_categories' must be positive integers, "
                f"got {rows!r} and {cap!r}; {_REBUILD}"
            )
        if not isinstance(columns, list) or not columns:
            raise InvalidInput(f"a baseline's 'columns' must be a non-empty list; {_REBUILD}")
        read = tuple(_read_column(entry, index, cap) for index, entry in enumerate(columns))
        names = [column.name for column in read]
        if len(set(names)) != len(names):
            raise InvalidInput(f"a baseline names a column twice: {names}; {_REBUILD}")
        return cls(rows, read, cap)


def column_kind(series: pd.Series[Any]) -> str | None:
    """The kind of a column by its dtype and values, text counted as categorical.

    ``None`` for an ``object`` column with no value (nothing tells its kind),
    ``"unsupported"`` for a dtype the checks do not read.

    Example:
        >>> column_kind(pd.Series(["1.5", "2"])), column_kind(pd.Series([1, None], dtype="Int64"))
        ('categorical', 'numerical')
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "unsupported" if pd.api.types.is_complex_dtype(dtype) else "numerical"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return None if inferred == "empty" else _INFERRED.get(inferred, "categorical")
    return "unsupported"


def numbers(series: pd.Series[Any]) -> npt.NDArray[Any]:
    """A numerical column's values as a numpy array: integers as they are, the rest float64.

    Missing values are ``NaN``; so is an ``object`` value that is not a number.
    """
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        return series.to_numpy()
    if pd.api.types.is_object_dtype(series.dtype):
        series = pd.to_numeric(series, errors="coerce")
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def missing_mask(series: pd.Series[Any], kind: str | None) -> npt.NDArray[np.bool_]:
    """Where a value is missing: ``isna``, and ``±inf`` in a numerical column."""
    if kind == "numerical":
        values = numbers(series)
        if values.dtype.kind in "iu":
            return np.zeros(len(values), dtype=bool)
        infinite: npt.NDArray[np.bool_] = ~np.isfinite(values)
        return infinite
    mask: npt.NDArray[np.bool_] = series.isna().to_numpy(dtype=bool)
    return mask


def sort_key(value: Any) -> tuple[int, float, str]:
    """Order of categories and examples: numbers by value first, then the rest by text."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, complex):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _summarise(name: str, series: pd.Series[Any], cap: int) -> ColumnBaseline:
    kind = column_kind(series)
    if kind == "unsupported":
        raise InvalidInput(
            f"column {name!r} has dtype {series.dtype}, which the quality checks do not read; "
            "convert it to numbers or text, or leave it out of the reference"
        )
    kind = kind or "categorical"
    missing = missing_mask(series, kind)
    share = float(missing.mean())
    dtype = str(series.dtype)
    if kind == "numerical":
        values = numbers(series)[~missing]
        if values.size == 0:
            return ColumnBaseline(name, kind, dtype, share)
        low, high = scalar(values.min()), scalar(values.max())
        if values.dtype.kind == "f" and _integer_dtype(series):
            low, high = int(low), int(high)  # a nullable Int64 column reads as floats
        return ColumnBaseline(name, kind, dtype, share, low, high)
    if kind == "datetime":
        return ColumnBaseline(name, kind, dtype, share)
    try:
        distinct = series[~missing].unique()
    except TypeError:
        raise InvalidInput(
            f"column {name!r} holds values that cannot be compared, such as lists or dicts; "
            "convert them to text (e.g. with json.dumps) or leave the column out"
        ) from None
    categories = [scalar(value) for value in distinct.tolist()]
    if kind == "categorical" and len(categories) > cap and not _category_dtype(series):
        return ColumnBaseline(name, "text", dtype, share, distinct=len(categories))
    tracked = 0 < len(categories) <= cap and all(_scalar(value) for value in categories)
    kept = tuple(sorted(categories, key=sort_key)) if tracked else None
    return ColumnBaseline(name, kind, dtype, share, distinct=len(categories), categories=kept)


def _integer_dtype(series: pd.Series[Any]) -> bool:
    return pd.api.types.is_integer_dtype(series.dtype) or (
        pd.api.types.is_object_dtype(series.dtype)
        and pd.api.types.infer_dtype(series, skipna=True) == "integer"
    )


def _category_dtype(series: pd.Series[Any]) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype)


def _scalar(value: Any) -> bool:
    """A value JSON writes and reads back as it is."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool))


def _positive_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _read_column(entry: Any, index: int, cap: int) -> ColumnBaseline:
    where = f"column #{index + 1} of the baseline"
    if not isinstance(entry, Mapping) or set(entry) != set(_FIELDS):
        keys = sorted(map(str, entry)) if isinstance(entry, Mapping) else type(entry).__name__
        raise InvalidInput(
            f"{where} must have exactly the fields {list(_FIELDS)}, got {keys}; {_REBUILD}"
        )
    name, kind, dtype, missing = entry["name"], entry["kind"], entry["dtype"], entry["missing"]
    low, high, distinct, categories = (entry[key] for key in _FIELDS[4:])
    problem = ""
    if not isinstance(name, str) or not name:
        problem = f"'name' must be non-empty text, got {name!r}"
    elif kind not in KINDS:
        problem = f"'kind' must be one of {list(KINDS)}, got {kind!r}"
    elif not isinstance(dtype, str):
        problem = f"'dtype' must be text, got {dtype!r}"
    elif not _number(missing) or not 0.0 <= missing <= 1.0:
        problem = f"'missing' must be a share from 0 to 1, got {missing!r}"
    else:
        problem = _range_problem(kind, low, high) or _category_problem(
            kind, distinct, categories, cap
        )
    if problem:
        raise InvalidInput(f"{where}: {problem}; {_REBUILD}")
    kept = None if categories is None else tuple(categories)
    return ColumnBaseline(name, kind, dtype, float(missing), low, high, distinct, kept)


def _range_problem(kind: str, low: Any, high: Any) -> str:
    if kind != "numerical" or (low is None and high is None):
        return "" if low is None and high is None else f"a {kind} column has no 'min' or 'max'"
    if not (_number(low) and _number(high) and low <= high):
        return f"'min' and 'max' must be finite numbers, min <= max, got {low!r} and {high!r}"
    return ""


def _category_problem(kind: str, distinct: Any, categories: Any, cap: int) -> str:
    if kind in ("numerical", "datetime"):
        if distinct is not None or categories is not None:
            return f"a {kind} column has no 'distinct' or 'categories'"
        return ""
    if isinstance(distinct, bool) or not isinstance(distinct, int) or distinct < 0:
        return f"'distinct' must be a count, got {distinct!r}"
    if categories is None:
        return ""
    if kind == "text":
        return "a text column keeps no 'categories'"
    if not isinstance(categories, list) or not categories:
        return "'categories' must be a non-empty list (or null)"
    if not all(_scalar(value) for value in categories):
        return "'categories' must be a list of text, numbers or booleans"
    if len(categories) != distinct or len(categories) > cap:
        return (
            f"'categories' holds {len(categories)} values, but 'distinct' is {distinct} "
            f"and 'max_categories' {cap}"
        )
    return ""
