"""Typed columns from JSON values: the frames and arrays the request codecs build.

A JSON body holds Python lists; a model wants typed columns. These build
DataFrames and arrays of the signature's types when that loses nothing, and
cheaply: a one-row frame of one numeric type is one 2-D block, column labels
are built once per set of names. What does not fit is left as it came, for
``LoadedModel.predict``'s signature check to name.

Example:
    >>> from mloop.models.signature import ColumnSpec
    >>> sig = (ColumnSpec("age", "int64"), ColumnSpec("income", "float64"))
    >>> frame_from_rows([[40, 5]], ["age", "income"], None, sig, "data")
       age  income
    0   40     5.0
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from mloop.errors import InvalidInput
from mloop.models.signature import BOOL, CATEGORY, DATETIME, OBJECT, STRING, TensorSpec

_NUMERIC_KINDS: Final = "iuf"
_STRINGS: Final = frozenset({STRING, CATEGORY, OBJECT})


def frame_from_rows(
    rows: list[Any], labels: list[Any], index: list[Any] | None, inputs: Any, where: str
) -> pd.DataFrame:
    """A DataFrame of JSON rows (lists of one value per label), typed by ``inputs``.

    ``where`` names the rows in error messages (``dataframe_split.data``).

    Raises:
        InvalidInput: a row that is not a list of one value per label, or a repeated label.

    Example:
        >>> from mloop.models.signature import ColumnSpec
        >>> sig = (ColumnSpec("n", "int32"), ColumnSpec("x", "float64"))
        >>> frame_from_rows([[1, 2]], ["n", "x"], None, sig, "data").dtypes.tolist()
        [dtype('int32'), dtype('float64')]
    """
    width = len(labels)
    for number, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            got = f"{len(row)} values" if isinstance(row, list) else json_kind(row)
            raise InvalidInput(
                f"row {number} of '{where}' has {got}, expected a list of {width} (one per column)"
            )
    if len(set(labels)) != width:
        raise InvalidInput(f"the column names {shown(labels)} repeat a name")
    types = column_types(inputs, tuple(labels))
    first = types[0] if types else None
    if rows and first is not None and first[0] in "fiu" and types.count(first) == width:
        # Every column has one numeric type: one 2-D array, one block, a few microseconds.
        matrix = _array_or_none(rows)
        if matrix is not None and matrix.ndim == 2 and matrix.dtype.kind in _NUMERIC_KINDS:
            matrix = lossless_cast(matrix, first)
            return pd.DataFrame(
                matrix, columns=_index(labels), index=None if index is None else pd.Index(index)
            )
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    arrays = [typed_column(c, t) for c, t in zip(columns, types, strict=True)]
    return assemble(arrays, labels, index, len(rows))


def assemble(
    arrays: list[Any], labels: list[Any], index: list[Any] | None, length: int
) -> pd.DataFrame:
    """A DataFrame of columns (arrays, or lists for pandas to type) of ``length`` rows each.

    Example:
        >>> assemble([np.array([1, 2]), ["a", "b"]], ["n", "s"], None, 2)
           n  s
        0  1  a
        1  2  b
    """
    rows = pd.RangeIndex(length) if index is None else pd.Index(index)
    build = getattr(pd.DataFrame, "_from_arrays", None)
    if build is not None:  # a third of the public constructor's cost for a one-row frame
        try:
            # Typed arrays of the right length need no checking; lists go through pandas'.
            typed = all(isinstance(a, np.ndarray) and a.ndim == 1 for a in arrays)
            frame: pd.DataFrame = build(arrays, _index(labels), rows, verify_integrity=not typed)
            return frame
        except (TypeError, ValueError):
            pass
    return pd.DataFrame(dict(zip(labels, arrays, strict=True)), index=rows)


def typed_column(values: Sequence[Any] | np.ndarray, type_: str | None) -> Any:
    """One column's values as an array of the signature's type when that loses nothing.

    Numbers take a float type, or an int type when every value fits exactly;
    numbers with nulls a float type with NaN; ISO text a datetime; anything
    else comes back as a list for pandas to type and the signature check to name.

    Example:
        >>> typed_column([1, 2], "float32").dtype, typed_column([1.5], "int64").dtype
        (dtype('float32'), dtype('float64'))
        >>> typed_column([None, 2], "float64")
        array([nan,  2.])
    """
    if type_ is None:
        return list(values)
    if type_ == DATETIME:
        if all(isinstance(v, str) for v in values):
            try:
                return pd.to_datetime(list(values), format="ISO8601").array
            except (ValueError, TypeError, OverflowError):
                pass
        return list(values)
    if type_ == BOOL:
        array = _array_or_none(values)
        return array if array is not None and array.dtype.kind == "b" else list(values)
    if type_ in _STRINGS:  # pandas' own inference
        return list(values)
    array = _array_or_none(values)
    if array is not None and array.dtype.kind == "O" and type_[0] == "f" and _numbers(values):
        # Numbers with nulls (missing values) make a float column with NaN.
        array = np.array([math.nan if v is None else v for v in values], dtype=type_)
    if array is None or array.ndim != 1 or array.dtype.kind not in _NUMERIC_KINDS:
        return list(values)
    return lossless_cast(array, type_)


def _numbers(values: Sequence[Any] | np.ndarray) -> bool:
    """Whether every value is a number (not a bool) or None."""
    return all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
    )


def lossless_cast(array: np.ndarray, type_: str) -> np.ndarray:
    """``array`` as ``type_`` if the cast loses nothing (any number to a float), else as is.

    Example:
        >>> lossless_cast(np.array([300]), "uint8"), lossless_cast(np.array([3.0]), "int8")
        (array([300]), array([3], dtype=int8))
    """
    target = np.dtype(type_)
    if array.dtype == target:
        return array
    if target.kind == "f":
        return array.astype(target)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return array
    with np.errstate(all="ignore"):
        cast = array.astype(target)
    # Lossless only: 1.0 -> 1 yes, 1.5 -> 1 no, 300 -> uint8 no (the signature check says why).
    return cast if np.array_equal(cast, array) else array


def as_array(value: Any, dtype: str | None, where: str) -> np.ndarray:
    """A (nested) JSON list as an ndarray, of ``dtype`` when numeric and lossless.

    Raises:
        InvalidInput: the lists are ragged; ``where`` names them.

    Example:
        >>> as_array([[1, 2]], "float32", "inputs")
        array([[1., 2.]], dtype=float32)
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise InvalidInput(
            f"'{where}' is not a rectangular array (nested lists of equal lengths): {err}"
        ) from None
    if dtype is not None and dtype[0] in "fiu" and array.dtype.kind in _NUMERIC_KINDS:
        return lossless_cast(array, dtype)
    return array


def _array_or_none(values: Any) -> np.ndarray | None:
    try:
        return np.asarray(values)
    except (ValueError, TypeError, OverflowError):
        return None


@functools.lru_cache(maxsize=64)
def column_types(inputs: Any, labels: tuple[Any, ...]) -> tuple[str | None, ...]:
    """The signature type of each label (None: not in the signature), cached per signature.

    A tensor signature gives its dtype to every column.

    Example:
        >>> from mloop.models.signature import ColumnSpec
        >>> column_types((ColumnSpec("a", "bool"),), ("a", "b"))
        ('bool', None)
    """
    if isinstance(inputs, TensorSpec):
        return (inputs.dtype,) * len(labels)
    if not inputs:
        return (None,) * len(labels)
    by_name = {c.name: c.type for c in inputs}
    return tuple(by_name.get(label) if isinstance(label, str) else None for label in labels)


def _index(labels: list[Any]) -> pd.Index:
    """The column labels as an Index; an Index of names (~20 us to build) is built once."""
    if all(isinstance(label, str) for label in labels):
        return _names_index(tuple(labels))
    index: pd.Index = pd.Index(labels)  # not cached: 1, 1.0 and True are one key to a cache
    return index


@functools.lru_cache(maxsize=256)
def _names_index(labels: tuple[str, ...]) -> pd.Index:
    index: pd.Index = pd.Index(labels)
    return index


def json_kind(value: Any) -> str:
    """What a JSON value is, for error messages.

    Example:
        >>> json_kind([1]), json_kind(None), json_kind(2.5)
        ('a list', 'null', 'a number (2.5)')
    """
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if type(value) in names:
        return names[type(value)]
    return f"a number ({value!r})" if isinstance(value, int | float) else type(value).__name__


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: error messages quote what was sent.

    Example:
        >>> shown(list(range(100)), 20)
        '[0, 1, 2, 3, 4, 5, …'
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
