from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInput
from mloop.models.signature import ColumnSpec, TensorSpec
from mloop.serving.columns import (
    as_array,
    assemble,
    column_types,
    frame_from_rows,
    json_kind,
    lossless_cast,
    shown,
    typed_column,
)


@pytest.mark.parametrize(
    ("values", "type_", "expected"),
    [
        ([1, 2], "int64", np.array([1, 2])),
        ([1, 2], "int16", np.array([1, 2], dtype=np.int16)),
        ([1, 2.5], "float32", np.array([1.0, 2.5], dtype=np.float32)),
        ([1.0, 2.0], "int64", np.array([1, 2])),
        ([1.5], "int64", np.array([1.5])),
        ([300], "uint8", np.array([300])),
        ([-1], "uint64", np.array([-1])),
        ([None, 1], "float64", np.array([np.nan, 1.0])),
        ([True, False], "bool", np.array([True, False])),
    ],
)
def test_typed_column_casts_only_without_loss(values: list[Any], type_: str, expected: Any) -> None:
    got = typed_column(values, type_)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("values", "type_"),
    [
        (["a"], "string"),
        (["a"], "int64"),
        ([1, "a"], "float64"),
        ([True], "float64"),
        ([1], "bool"),
        ([1], None),
        ([None, 1], "int64"),
        (["not a date"], "datetime"),
    ],
)
def test_typed_column_leaves_what_does_not_fit_as_a_list(
    values: list[Any], type_: str | None
) -> None:
    assert typed_column(values, type_) == values


def test_typed_column_parses_iso_datetimes() -> None:
    got = typed_column(["2024-05-01", "2024-05-02T10:30:00"], "datetime")
    assert got.dtype.kind == "M"


def test_lossless_cast_keeps_nan_out_of_ints() -> None:
    array = np.array([np.nan, 1.0])
    assert lossless_cast(array, "int64") is array


def test_one_numeric_type_is_one_block() -> None:
    specs = (ColumnSpec("a", "float64"), ColumnSpec("b", "float64"))
    frame = frame_from_rows([[1, 2.5], [3, 4]], ["a", "b"], None, specs, "data")
    assert len(frame._mgr.blocks) == 1
    assert frame.to_dict(orient="list") == {"a": [1.0, 3.0], "b": [2.5, 4.0]}


def test_frame_from_rows_keeps_the_index_and_mixed_types() -> None:
    specs = (ColumnSpec("a", "int64"), ColumnSpec("b", "string"))
    frame = frame_from_rows([[1, "x"]], ["a", "b"], ["r1"], specs, "data")
    assert frame.index.tolist() == ["r1"]
    assert frame["a"].dtype == np.int64
    assert frame["b"].tolist() == ["x"]


def test_frame_from_rows_labels_are_shared_between_frames() -> None:
    specs = (ColumnSpec("a", "float64"),)
    one = frame_from_rows([[1.0]], ["a"], None, specs, "data")
    two = frame_from_rows([[2.0]], ["a"], None, specs, "data")
    assert one.columns is two.columns


def test_frame_from_rows_does_not_mix_up_labels_of_equal_hash() -> None:
    assert frame_from_rows([[1]], [1], None, None, "d").columns.tolist() == [1]
    assert frame_from_rows([[1]], [True], None, None, "d").columns.tolist() == [True]


@pytest.mark.parametrize(
    ("rows", "labels", "message"),
    [
        ([[1]], ["a", "b"], "row 0 of 'data' has 1 values, expected a list of 2"),
        ([{"a": 1}], ["a"], "row 0 of 'data' has an object"),
        ([[1, 2]], ["a", "a"], r"the column names \['a', 'a'\] repeat a name"),
    ],
)
def test_frame_from_rows_refuses_bad_rows(rows: list[Any], labels: list[Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        frame_from_rows(rows, labels, None, None, "data")


def test_assemble_takes_lists_and_arrays() -> None:
    frame = assemble([np.array([1.5]), [None]], ["a", "b"], None, 1)
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"a": [1.5], "b": [None]}), check_dtype=False)


def test_as_array_refuses_ragged_lists() -> None:
    with pytest.raises(InvalidInput, match="'inputs' is not a rectangular array"):
        as_array([[1, 2], [3]], None, "inputs")


def test_column_types_of_a_tensor_and_of_no_signature() -> None:
    assert column_types(TensorSpec("int8", (-1, 2)), ("a", "b")) == ("int8", "int8")
    assert column_types(None, ("a",)) == (None,)
    assert column_types((ColumnSpec("a", "bool"),), (0, "a")) == (None, "bool")


def test_messages_describe_and_cut_values() -> None:
    assert json_kind({"a": 1}) == "an object"
    assert json_kind(True) == "a boolean"
    assert len(shown("x" * 1000)) == 80
