"""Table profiles: round trips, merging, checks on reading, and drift against a profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInput
from mloop.monitoring.profiles import TableProfile, profile
from mloop.monitoring.summaries import CategoricalSummary, NumericSummary
from mloop.monitoring.table_drift import METHODS, drift


def table(size: int, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": np.where(rng.random(size) < 0.05, np.nan, rng.normal(50 + shift, 10, size)),
            "visits": rng.poisson(3 + shift, size),
            "plan": rng.choice(["basic", "plus", "pro", None], size),
            "churned": rng.choice([True, False], size),
            "rating": rng.integers(1, 4, size),
            "city": [f"c{i}" for i in rng.integers(0, 500, size)],
        }
    )


def same(a: TableProfile, b: TableProfile) -> None:
    assert a.rows == b.rows and list(a.columns) == list(b.columns)
    for name, mine in a.columns.items():
        theirs = b.columns[name]
        assert type(mine) is type(theirs)
        assert mine.counts.tolist() == theirs.counts.tolist() and mine.missing == theirs.missing
        if isinstance(mine, NumericSummary):
            assert isinstance(theirs, NumericSummary)
            assert mine.values.tolist() == theirs.values.tolist()
            assert mine.integer == theirs.integer
        else:
            assert isinstance(theirs, CategoricalSummary)
            assert mine.categories == theirs.categories


def test_a_profile_round_trips_through_bytes() -> None:
    original = profile(table(2000))
    same(TableProfile.from_bytes(original.to_bytes()), original)


def test_odd_column_names_and_category_types_round_trip() -> None:
    frame = pd.DataFrame({0: [1.5, 2.5], "a b": [True, False], 7: pd.Series([3, 4], dtype=object)})
    same(TableProfile.from_bytes(profile(frame).to_bytes()), profile(frame))


def test_an_all_missing_table_round_trips() -> None:
    frame = pd.DataFrame({"x": [np.nan, np.nan], "y": [None, None]})
    same(TableProfile.from_bytes(profile(frame).to_bytes()), profile(frame))


def test_merged_blocks_equal_the_profile_of_all_rows() -> None:
    whole = table(3000)
    blocks = [profile(whole.iloc[i : i + 700]) for i in range(0, 3000, 700)]
    merged = blocks[0]
    for block in blocks[1:]:
        merged = merged.merge(block)
    same(merged, profile(whole))


def test_a_block_with_a_column_all_missing_merges_with_numbers() -> None:
    numbers = profile(pd.DataFrame({"x": [1.0, 2.0]}))
    empty = profile(pd.DataFrame({"x": [None, None]}))  # dtype object
    merged = numbers.merge(empty)
    assert isinstance(merged.column("x"), NumericSummary) and merged.column("x").missing == 2
    assert isinstance(empty.merge(numbers).column("x"), NumericSummary)


@pytest.mark.parametrize("method", ["auto", *METHODS])
def test_drift_against_a_profile_is_drift_against_the_rows(method: str) -> None:
    reference, current = table(3000), table(800, shift=0.4, seed=1)
    numeric = ["income", "visits"]
    columns = numeric if method in ("ks", "wasserstein") else None
    if method == "z":
        columns = ["churned"]
    from_rows = drift(reference, current, columns, method)
    for ref, cur in ((profile(reference), current), (reference, profile(current))):
        from_profile = drift(ref, cur, columns, method)
        for mine, theirs in zip(from_profile.columns, from_rows.columns, strict=True):
            assert (mine.column, mine.kind, mine.method) == (
                theirs.column,
                theirs.kind,
                theirs.method,
            )
            assert (mine.statistic, mine.p_value) == (theirs.statistic, theirs.p_value)
            assert mine.reference_missing == theirs.reference_missing
            assert mine.details == theirs.details
        assert from_profile.drift_share == from_rows.drift_share


def test_profile_refuses_what_it_cannot_keep() -> None:
    with pytest.raises(InvalidInput, match="has no column"):
        profile(pd.DataFrame({"x": [1]}), ["y"])
    with pytest.raises(InvalidInput, match="mixes kinds of values"):
        profile(pd.DataFrame({"x": pd.Series([1, "a"], dtype=object)})).to_bytes()
    with pytest.raises(InvalidInput, match="must be a pandas DataFrame"):
        profile([1, 2])
    with pytest.raises(InvalidInput, match="different columns"):
        profile(pd.DataFrame({"x": [1]})).merge(profile(pd.DataFrame({"y": [1]})))
    with pytest.raises(InvalidInput, match="numbers in one table and categories"):
        profile(pd.DataFrame({"x": [1]})).merge(profile(pd.DataFrame({"x": ["a"]})))


def test_damaged_or_foreign_bytes_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not a table profile"):
        TableProfile.from_bytes(b"not arrow at all")
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    foreign = pa.table({"x": [1]})
    with pa.ipc.new_file(sink, foreign.schema) as writer:
        writer.write_table(foreign)
    with pytest.raises(InvalidInput, match="not a table profile"):
        TableProfile.from_bytes(sink.getvalue().to_pybytes())


def test_a_profile_whose_values_are_out_of_order_is_refused() -> None:
    good = profile(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    summary = good.column("x")
    assert isinstance(summary, NumericSummary)
    shuffled = NumericSummary(summary.values[::-1].copy(), summary.counts, 0)
    with pytest.raises(InvalidInput, match="damaged: values not sorted"):
        TableProfile.from_bytes(TableProfile({"x": shuffled}, 3).to_bytes())


def test_a_numeric_column_that_arrives_as_text_is_a_clear_error() -> None:
    with pytest.raises(
        InvalidInput, match="column 'x' holds numbers in the reference and categories"
    ):
        drift(profile(pd.DataFrame({"x": [1.0, 2.0]})), pd.DataFrame({"x": ["a", "b"]}))


def test_a_column_all_missing_in_current_is_not_compared() -> None:
    report = drift(profile(pd.DataFrame({"x": [1.0, 2.0, 3.0]})), pd.DataFrame({"x": [None, None]}))
    assert report.column("x").statistic is None and report.column("x").current_missing == 1.0
    assert "current has no values" in report.column("x").note
