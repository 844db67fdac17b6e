"""A deployment's logged inputs as rows: odd requests are left out, not mixed in."""

from __future__ import annotations

import pandas as pd
import pytest

from mloop.automation.traffic import inputs_table, parse_target
from mloop.errors import InvalidInput


def test_requests_become_rows_and_odd_ones_are_left_out() -> None:
    table, requests = inputs_table(
        pd.Series(
            [
                {"x": [1, 2], "y": ["a", "b"]},
                {"x": [1, 2], "y": ["c"]},  # columns of different lengths
                [[1.0, 2.0]],  # a tensor
                None,  # a request refused before its body was read
                {"x": 3},  # one row as scalars
                {},
            ]
        )
    )
    assert table["x"].tolist() == [1, 2, 3]
    assert table["y"].tolist()[:2] == ["a", "b"] and pd.isna(table["y"].iloc[2])
    assert requests == [0, 0, 4]


@pytest.mark.parametrize("text", ["credit-api", "deploy:x", "deployment:", "dataset:Bad Name"])
def test_targets_are_checked(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_target(text)
