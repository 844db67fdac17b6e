from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mloop.data.column_stats import all_within, duplicate_count, numbers_within


@pytest.mark.parametrize(
    ("values", "low", "high", "expected"),
    [
        ([1, 2, 3], 1, 3, True),
        ([1, 2, 3], 2, None, False),
        ([1, 2, 3], None, 2.5, False),
        ([1.0, None, 2.0], 0, 2, True),
        ([1.0, math.nan, 2.0], 0, 2, True),  # NaN is never outside, as row by row
        ([math.nan], 0, 2, False),  # no answer: counted row by row
        ([None, None], 0, 1, False),
        ([], 0, 1, False),
        (["a", "b"], 0, 1, False),  # not numeric: the row-by-row comparison reports it
        ([1, 2], "0", None, False),  # a bound that is not a number, likewise
        ([1, 2], True, None, False),
    ],
)
def test_all_within(values: list[object], low: object, high: object, expected: bool) -> None:
    assert all_within(pa.chunked_array([values]), low, high) is expected


@pytest.mark.parametrize(
    "chunks",
    [
        [[3, 1, None, 3], [1, 7]],
        [[5]],
        [[1.0, math.nan, math.nan, None, -0.0, 0.0]],
        [["a", "b", None], ["a", None, "c"]],
        [["x", "y", "z"]],
    ],
)
def test_duplicate_count_agrees_with_arrow_count_distinct(chunks: list[list[object]]) -> None:
    column = pa.chunked_array(chunks, type=pa.array([v for c in chunks for v in c]).type)
    present = len(column) - column.null_count
    assert duplicate_count(column) == present - pc.count_distinct(column).as_py()


def test_duplicate_count_of_a_column_without_values_is_zero() -> None:
    # Arrow's count_distinct has no kernel for the null type; there is nothing to repeat.
    assert duplicate_count(pa.chunked_array([[None, None]])) == 0
    assert duplicate_count(pa.chunked_array([], type=pa.string())) == 0


@pytest.mark.parametrize(
    ("values", "low", "high", "expected"),
    [
        ([1, 2, 3], 1, 3, True),
        ([1, 2, 3], None, 2, False),
        ([1.0, math.nan, 2.0], 0, 2, True),
        ([math.nan, math.nan], 0, 2, False),
        ([], 0, 2, False),
        ([1.0], "0", None, False),
        ([1.0], False, None, False),
    ],
)
def test_numbers_within(values: list[float], low: object, high: object, expected: bool) -> None:
    assert numbers_within(np.array(values, dtype=float), low, high) is expected
