"""Fast answers about one Arrow column, used by validation before it builds a row mask.

Example:
    >>> import pyarrow as pa
    >>> column = pa.chunked_array([[3, 1, None, 3]])
    >>> (duplicate_count(column), all_within(column, 0, 5), all_within(column, 2, None))
    (1, True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def all_within(column: pa.ChunkedArray, low: Any, high: Any) -> bool:
    """True when every non-null value of a numeric column lies in ``[low, high]``.

    False also means "not known": the caller then counts row by row. Only
    numeric columns with numeric (or missing) bounds are answered, from the
    column's minimum and maximum, so nothing is answered here that a row-by-row
    comparison would reject as an error.

    Example:
        >>> import pyarrow as pa
        >>> all_within(pa.chunked_array([[1.5, None]]), 1, 2)
        True
        >>> all_within(pa.chunked_array([["a"]]), 0, 1)  # not numeric: not answered here
        False
    """
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return False
    if not all(bound is None or _is_number(bound) for bound in (low, high)):
        return False
    extremes = pc.min_max(column)
    smallest, largest = extremes["min"].as_py(), extremes["max"].as_py()
    if smallest is None or largest is None:
        return False
    # NaN compares false both ways, so a NaN extreme leaves the answer to the row-by-row count.
    return (low is None or smallest >= low) and (high is None or largest <= high)


def numbers_within(values: np.ndarray[Any, Any], low: Any, high: Any) -> bool:
    """As :func:`all_within`, for a numpy array of ints or floats (NaN counting as null).

    Example:
        >>> import numpy as np
        >>> numbers_within(np.array([0.5, np.nan, 2.0]), 0, 2), numbers_within(np.array([3]), 0, 2)
        (True, False)
    """
    if values.size == 0 or not all(bound is None or _is_number(bound) for bound in (low, high)):
        return False
    # fmin and fmax skip NaN; an all-NaN array gives NaN, which compares false.
    smallest, largest = np.fmin.reduce(values).item(), np.fmax.reduce(values).item()
    return (low is None or smallest >= low) and (high is None or largest <= high)


def duplicate_count(column: pa.ChunkedArray) -> int:
    """How many non-null values repeat an earlier one (non-null values minus distinct ones).

    Integers are sorted (a vectorised sort is faster than hashing them); other
    types are hashed by Arrow. Nulls are neither counted nor compared.
    """
    present = len(column) - column.null_count
    if present < 2:
        return 0
    if pa.types.is_integer(column.type):
        values = column if column.null_count == 0 else pc.drop_null(column)
        ordered = np.sort(values.to_numpy())
        return int(np.count_nonzero(ordered[1:] == ordered[:-1]))
    distinct = len(pc.unique(column)) - (1 if column.null_count else 0)
    return int(present - distinct)
