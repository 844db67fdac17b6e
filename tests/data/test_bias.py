from __future__ import annotations

import pyarrow as pa
import pytest

from mloop.data import Expectation, ExpectationSuite
from mloop.data.validation import run_suite
from mloop.errors import InvalidInput

LOANS = pa.table(
    {
        "group": ["a"] * 45 + ["b"] * 50 + ["c"] * 5 + [None] * 2,
        "approved": [1] * 30 + [0] * 15 + [1] * 20 + [0] * 30 + [1] * 3 + [0] * 2 + [1, 0],
    }
)


def result(expectation: Expectation):  # type: ignore[no-untyped-def]
    return run_suite(LOANS, ExpectationSuite("bias", [expectation])).results[0]


def test_group_representation() -> None:
    r = result(Expectation("group_representation", column="group", min_share=0.1))
    assert (r.success, r.examples) == (False, ["c"])
    assert r.observed == {"a": 0.45, "b": 0.5, "c": 0.05}
    assert result(Expectation("group_representation", column="group", min_share=0.05)).success


def test_label_rate_parity() -> None:
    r = result(Expectation("label_rate_parity", column="group", label="approved", max_gap=0.2))
    # approval rates: a 30/45 = 0.667, b 20/50 = 0.4, c 3/5 = 0.6
    assert r.success is False
    assert r.observed["gap"] == pytest.approx(0.2667, abs=1e-3)
    assert r.observed["ratio"] == pytest.approx(0.6, abs=1e-3)
    fair = Expectation("label_rate_parity", column="group", label="approved", min_ratio=0.5)
    assert result(fair).success  # the four-fifths rule, relaxed to one half
    missing = result(Expectation("label_rate_parity", column="group", label="nope"))
    assert (missing.success, missing.observed) == (False, "label column absent")


def test_definitions_are_checked() -> None:
    with pytest.raises(InvalidInput, match="needs"):
        Expectation("label_rate_parity", column="group")
    with pytest.raises(InvalidInput, match="needs"):
        Expectation("group_representation", column="group")
