from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mloop.data.columns import Columns
from mloop.errors import InvalidInput


def test_an_arrow_table_is_read_as_it_is() -> None:
    table = pa.table({"x": [1, 2], "y": ["a", None]})
    columns = Columns.of(table)
    assert (columns.names, columns.num_rows) == (["x", "y"], 2)
    assert columns.column("y").equals(table.column("y"))
    assert columns.table() is table


def test_a_frame_column_converts_as_the_whole_frame_does() -> None:
    frame = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [1.5, None, 3.0],
            "s": pd.Series(["a", None, "c"], dtype="str"),
            "o": pd.Series(["a", None, "c"], dtype=object),
            "b": [True, False, None],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "k": pd.Categorical(["x", "y", None]),
            "t": pd.to_datetime(["2024-01-01", None, "2024-01-03"]).tz_localize("UTC"),
        }
    )
    whole = pa.Table.from_pandas(frame, preserve_index=False)
    columns = Columns.of(frame)
    for name in frame.columns:
        assert columns.column(name).equals(whole.column(name))
    assert columns.table().equals(whole)


def test_a_column_is_converted_once_for_many_threads() -> None:
    frame = pd.DataFrame({"s": pd.Series([f"v{i}" for i in range(50_000)], dtype=object)})
    columns = Columns.of(frame)
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: columns.column("s"), range(32)))
    assert all(column is found[0] for column in found)


def test_an_unreadable_column_fails_only_when_read() -> None:
    frame = pd.DataFrame({"ok": [1, 2], "mixed": pd.Series([1, "a"], dtype=object)})
    columns = Columns.of(frame)
    assert columns.column("ok").to_pylist() == [1, 2]
    with pytest.raises(pa.ArrowInvalid, match="Could not convert"):
        columns.column("mixed")


def test_frames_without_distinct_string_names_convert_whole() -> None:
    assert Columns.of(pd.DataFrame({1: [1], 2: [2]})).names == ["1", "2"]
    with pytest.raises(InvalidInput, match="cannot be read as a table: Duplicate column names"):
        Columns.of(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_numbers_are_a_frames_numpy_columns_as_they_are() -> None:
    frame = pd.DataFrame(
        {
            "f": [1.0, None],
            "i": [1, 2],
            "b": [True, False],
            "n": pd.array([1, None], dtype="Int64"),
            "s": ["a", "b"],
        }
    )
    columns = Columns.of(frame)
    found = columns.numbers("f")
    assert found is not None and found.tolist()[0] == 1.0
    assert np.shares_memory(found, frame["f"].to_numpy(copy=False))  # a view, not a copy
    assert columns.numbers("i") is not None
    assert [columns.numbers(name) for name in ("b", "n", "s")] == [None, None, None]
    assert Columns.of(pa.table({"f": [1.0]})).numbers("f") is None
