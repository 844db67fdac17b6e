"""Per-key columns from ``(position, key, value)`` triples: the last step of reading a page.

A page's params, tags and metrics arrive as three parallel sequences: the
run's position in the page, the key and the value. When every run of the page
has the same keys and the rows come run by run, in page order, as a table
clustered by ``(run_id, key)`` hands them out, each column is a slice of the
values (no per-value Python work). Any other shape goes through a loop that
drops each value into place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def key_columns(rows: Iterable[Sequence[Any]], size: int) -> dict[str, list[Any]]:
    """``(position, key, value)`` rows as one column per key, sorted by key; ``None`` where absent.

    Rows are consumed as they come, in any order, none kept.

    Example:
        >>> key_columns([(1, "lr", "0.1"), (0, "lr", "0.2"), (0, "seed", "7")], 2)
        {'lr': ['0.2', '0.1'], 'seed': ['7', None]}
    """
    columns: dict[str, list[Any]] = {}
    for position, key, value in rows:
        column = columns.get(key)
        if column is None:
            column = columns[key] = [None] * size
        column[position] = value
    return {key: columns[key] for key in sorted(columns)}


def spread_columns(
    positions: list[int], keys: list[str], values: list[Any], size: int
) -> dict[str, list[Any]]:
    """Parallel lists of positions, keys and values as one column of ``size`` per key.

    Columns are sorted by key; a run without a key holds ``None`` there.

    Example:
        >>> spread_columns([0, 0, 1, 1], ["a", "b", "a", "b"], [1.0, 2.0, 3.0, 4.0], 2)
        {'a': [1.0, 3.0], 'b': [2.0, 4.0]}
        >>> spread_columns([1], ["a"], ["x"], 3)
        {'a': [None, 'x', None]}
    """
    if not (len(positions) == len(keys) == len(values)):
        raise ValueError("positions, keys and values must be as long as each other")
    dense = dense_columns(positions, keys, values, size)
    if dense is not None:
        return dense
    return key_columns(zip(positions, keys, values, strict=True), size)


def dense_columns(
    positions: list[int], keys: list[str], values: list[Any], size: int
) -> dict[str, list[Any]] | None:
    """The columns when rows come run by run in page order, each run with the same keys; else None.

    Every check compares whole lists (C loops), so a dense page costs no
    per-value Python work.

    Example:
        >>> dense_columns([0, 0, 1, 1], ["b", "a", "b", "a"], ["1", "2", "3", "4"], 2)
        {'a': ['2', '4'], 'b': ['1', '3']}
        >>> dense_columns([0, 1, 1], ["a", "a", "b"], ["1", "2", "3"], 2) is None
        True
    """
    count = len(keys)
    if size <= 0 or count == 0 or count % size:
        return None
    width = count // size
    pattern = keys[:width]
    if len(set(pattern)) != width or keys != pattern * size:
        return None
    expected = list(range(size))
    if any(positions[offset::width] != expected for offset in range(width)):
        return None
    order = sorted(range(width), key=pattern.__getitem__)
    return {pattern[offset]: values[offset::width] for offset in order}
