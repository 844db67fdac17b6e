from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import mloop
from mloop.data.inference import infer_from_table
from mloop.errors import InvalidInput


def test_inferred_suite_accepts_its_reference_and_catches_drift(home: Path, tmp_path: Path) -> None:
    reference = pd.DataFrame(
        {
            "income": [30.0, 50.0, 70.0, None],
            "age": [20, 35, 50, 65],
            "region": ["north", "south", "north", "east"],
        }
    )
    suite = mloop.data.infer_suite(reference, name="people")
    labels = [e.label for e in suite.expectations]
    assert "in_set(region)" in labels and "between(age)" in labels
    between = next(e for e in suite.expectations if e.label == "between(age)")
    assert (between.kwargs["min"], between.kwargs["max"]) == (15, 70)  # 10% of the span each side
    not_null = next(e for e in suite.expectations if e.label == "not_null(income)")
    assert 0 < not_null.kwargs["mostly"] < 0.75
    assert mloop.data.validate(reference, suite).success
    drifted = reference.assign(age=[20, 35, 50, 99], region=["north", "west", "north", "east"])
    failed = {r.expectation for r in mloop.data.validate(drifted, suite).failed}
    assert failed == {"between(age)", "in_set(region)"}
    suite.to_yaml(tmp_path / "people.yaml")  # inferred suites are plain data
    (tmp_path / "p.csv").write_text("age\n1\n2\n")
    mloop.data.add(tmp_path / "p.csv", name="ages")
    assert mloop.data.infer_suite("ages@1").name == "ages"


def test_bad_input() -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        infer_from_table(pa.table({"x": pa.array([], type=pa.int64())}), "s")
    with pytest.raises(InvalidInput, match="margin"):
        infer_from_table(pa.table({"x": [1]}), "s", margin=-1)
