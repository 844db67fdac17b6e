"""Turning (position, key, value) triples into per-key columns: dense pages and sparse ones."""

from __future__ import annotations

import math

import pytest

from mloop.store.sql.key_columns import dense_columns, key_columns, spread_columns


def test_a_dense_page_is_sliced_into_columns_sorted_by_key() -> None:
    positions = [0, 0, 1, 1, 2, 2]
    keys = ["z", "a", "z", "a", "z", "a"]
    values = [1.0, -0.0, math.inf, math.nan, None, -math.inf]
    columns = dense_columns(positions, keys, values, 3)
    assert columns is not None
    assert list(columns) == ["a", "z"]
    assert columns["z"] == [1.0, math.inf, None]
    a = columns["a"]
    assert math.copysign(1.0, a[0]) == -1.0 and math.isnan(a[1]) and a[2] == -math.inf
    assert spread_columns(positions, keys, values, 3)["z"] == columns["z"]


@pytest.mark.parametrize(
    ("positions", "keys", "size"),
    [
        ([0, 1, 1], ["a", "a", "b"], 2),  # run 0 lacks "b"
        ([1, 1, 0, 0], ["a", "b", "a", "b"], 2),  # runs out of page order
        ([0, 1, 0, 1], ["a", "a", "b", "b"], 2),  # key by key, not run by run
        ([0, 0, 1, 1], ["a", "b", "b", "a"], 2),  # keys in another order per run
        ([0, 0, 0, 1, 1, 1], ["a", "a", "b", "a", "a", "b"], 2),  # a repeated key
        ([], [], 0),
        ([], [], 3),
    ],
)
def test_other_shapes_are_not_taken_for_dense(
    positions: list[int], keys: list[str], size: int
) -> None:
    assert dense_columns(positions, keys, list(range(len(keys))), size) is None


def test_a_sparse_page_gets_none_where_a_run_lacks_a_key() -> None:
    columns = spread_columns([2, 0, 2], ["seed", "lr", "lr"], ["7", "0.1", "0.3"], 4)
    assert columns == {"lr": ["0.1", None, "0.3", None], "seed": [None, None, "7", None]}


def test_runs_out_of_page_order_land_at_their_position() -> None:
    columns = spread_columns([1, 1, 0, 0], ["a", "b", "a", "b"], [1, 2, 3, 4], 2)
    assert columns == {"a": [3, 1], "b": [4, 2]}


def test_an_empty_page_has_no_columns() -> None:
    assert spread_columns([], [], [], 0) == {}
    assert key_columns([], 5) == {}


def test_lists_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="as long as each other"):
        spread_columns([0, 1], ["a"], ["x"], 2)


def test_key_columns_reads_row_triples() -> None:
    rows = [(0, "a", 1.5), (1, "a", 2.5), (1, "b", "x")]
    assert key_columns(rows, 2) == {"a": [1.5, 2.5], "b": [None, "x"]}
