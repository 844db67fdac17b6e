"""Columns of an Arrow table or a pandas DataFrame, as Arrow arrays, converted only when asked.

A check reads only the columns it names: a DataFrame's other columns are never
converted, and a column already backed by Arrow (pandas' ``str`` dtype) is
handed over without a copy. Each column is converted at most once, also when
several threads ask for it at the same time.

Example:
    >>> import pandas as pd
    >>> columns = Columns.of(pd.DataFrame({"x": [1, 2], "y": ["a", None]}))
    >>> (columns.names, columns.num_rows, columns.column("y").to_pylist())
    (['x', 'y'], 2, ['a', None])
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np
import pyarrow as pa

from mloop.errors import InvalidInput


class Columns:
    """Read-only access to a table's columns as Arrow chunked arrays."""

    def __init__(self, table: pa.Table | None, frame: Any = None) -> None:
        self._table = table
        self._frame = frame
        self._cache: dict[str, pa.ChunkedArray] = {}
        self._lock = threading.Lock()
        self._column_locks: dict[str, threading.Lock] = {}
        if table is not None:
            self.names: list[str] = list(table.column_names)
            self.num_rows: int = table.num_rows
        else:
            self.names = list(frame.columns)
            self.num_rows = len(frame)

    @classmethod
    def of(cls, data: Any) -> Columns:
        """Columns of an Arrow table or a pandas DataFrame.

        A DataFrame whose column names are not distinct strings is converted
        whole, as :meth:`pyarrow.Table.from_pandas` converts it.

        Raises:
            InvalidInput: that conversion fails (e.g. two columns share a name).
        """
        if isinstance(data, pa.Table):
            return cls(data)
        pandas = sys.modules.get("pandas")  # a DataFrame means pandas is imported already
        if pandas is not None and isinstance(data, pandas.DataFrame):
            labels = list(data.columns)
            if all(isinstance(label, str) for label in labels) and len(set(labels)) == len(labels):
                return cls(None, data)
        try:
            return cls(pa.Table.from_pandas(data, preserve_index=False))
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as err:
            raise InvalidInput(f"the DataFrame cannot be read as a table: {err}") from None

    def column(self, name: str) -> pa.ChunkedArray:
        """The column ``name``, converted from the DataFrame on first use.

        Raises:
            KeyError: there is no such column.
            pyarrow.ArrowInvalid, pyarrow.ArrowTypeError: its values do not
                make one Arrow type (e.g. numbers mixed with strings).
        """
        if self._table is not None:
            return self._table.column(name)
        found = self._cache.get(name)
        if found is not None:
            return found
        with self._lock:
            lock = self._column_locks.setdefault(name, threading.Lock())
        with lock:
            found = self._cache.get(name)
            if found is None:
                # What Table.from_pandas does for each column, without its metadata.
                converted = pa.array(self._frame[name], from_pandas=True)
                found = (
                    converted
                    if isinstance(converted, pa.ChunkedArray)
                    else pa.chunked_array([converted])
                )
                self._cache[name] = found
        return found

    def numbers(self, name: str) -> np.ndarray[Any, Any] | None:
        """A DataFrame's numpy-backed int or float column as it is (no copy), else None.

        Its NaN are the nulls of the Arrow column :meth:`column` would give.
        """
        if self._frame is None or self._table is not None:
            return None
        dtype = self._frame[name].dtype
        if not isinstance(dtype, np.dtype) or dtype.kind not in "iuf":
            return None
        values: np.ndarray[Any, Any] = self._frame[name].to_numpy(copy=False)
        return values

    def table(self) -> pa.Table:
        """Every column as one Arrow table (for checks that read whole rows)."""
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = pa.Table.from_pandas(self._frame, preserve_index=False)
        return self._table
