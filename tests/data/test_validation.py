from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import mloop
from mloop.data import Expectation, ExpectationSuite
from mloop.data.validation import run_suite
from mloop.errors import InvalidInput
from tests.cli.conftest import invoke

TABLE = pa.table(
    {
        "age": [25, 31, None, 47, 150],
        "email": ["a@x.io", "b@x.io", "bad", None, "c@x.io"],
        "city": ["paris", "lyon", "paris", "nice", "oslo"],
        "id": [1, 2, 3, 4, 4],
    }
)


def outcome(expectation: Expectation) -> tuple[bool, object, int, list[object]]:
    r = run_suite(TABLE, ExpectationSuite("s", [expectation])).results[0]
    return r.success, r.observed, r.unexpected_count, r.examples


def test_each_kind() -> None:
    assert outcome(Expectation("column_exists", column="age"))[0]
    assert outcome(Expectation("column_exists", column="nope"))[:2] == (False, "column absent")
    assert outcome(Expectation("column_type", column="age", type="integer"))[0]
    assert outcome(Expectation("column_type", column="age", type="string"))[:2] == (
        False,
        "integer",
    )
    assert outcome(Expectation("not_null", column="age"))[0] is False
    assert outcome(Expectation("not_null", column="age", mostly=0.8))[0] is True
    assert outcome(Expectation("between", column="age", min=0, max=120))[2:] == (1, [150])
    assert outcome(Expectation("in_set", column="city", values=["paris", "lyon", "nice"]))[3] == [
        "oslo"
    ]
    assert outcome(Expectation("unique", column="id"))[:3] == (False, 1, 1)
    assert outcome(Expectation("regex", column="email", pattern=r"^[^@]+@[^@]+$"))[3] == ["bad"]
    assert outcome(Expectation("string_length", column="city", min=5))[3] == [
        "lyon",
        "nice",
        "oslo",
    ]
    assert outcome(Expectation("mean_between", column="age", min=60, max=70))[:2] == (True, 63.25)
    assert outcome(Expectation("std_between", column="age", max=1))[0] is False
    assert outcome(Expectation("quantile_between", column="age", quantile=0.5, min=30, max=40))[0]
    assert outcome(Expectation("row_count", min=5, max=5))[:2] == (True, 5)
    assert outcome(Expectation("no_duplicate_rows"))[0]
    custom = Expectation("custom", name="ids positive", check=lambda t: (True, t.num_rows))
    assert outcome(custom)[:2] == (True, 5)
    result = outcome(Expectation("mean_between", column="city", min=0))
    assert result[0] is False


def test_suite_definition_errors() -> None:
    with pytest.raises(InvalidInput, match="unknown expectation"):
        Expectation("maybe", column="x")
    with pytest.raises(InvalidInput, match="needs a column"):
        Expectation("not_null")
    with pytest.raises(InvalidInput, match="does not take"):
        Expectation("unique", column="x", mostly=0.5)
    with pytest.raises(InvalidInput, match="needs"):
        Expectation("in_set", column="x")
    with pytest.raises(InvalidInput, match="fraction"):
        Expectation("not_null", column="x", mostly=2)
    with pytest.raises(InvalidInput, match="#2"):
        ExpectationSuite.from_dict(
            {"name": "s", "expectations": [{"kind": "unique", "column": "a"}, {"kind": "nope"}]}
        )
    with pytest.raises(InvalidInput, match="cannot be saved"):
        ExpectationSuite("s", [Expectation("custom", check=lambda t: True)]).to_dict()


def test_yaml_round_trip_and_bad_files(tmp_path: Path) -> None:
    suite = ExpectationSuite(
        "people", [Expectation("between", column="age", min=0, max=120, mostly=0.9)]
    )
    suite.to_yaml(tmp_path / "s.yaml")
    assert ExpectationSuite.from_yaml(tmp_path / "s.yaml") == suite
    (tmp_path / "bad.yaml").write_text("name: [unclosed")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        ExpectationSuite.from_yaml(tmp_path / "bad.yaml")
    with pytest.raises(InvalidInput, match="does not exist"):
        ExpectationSuite.from_yaml(tmp_path / "missing.yaml")


def test_validate_frames_refs_and_runs(home: Path, tmp_path: Path) -> None:
    suite = ExpectationSuite("ages", [Expectation("between", column="age", min=0, max=120)])
    frame = pd.DataFrame({"age": [1, 2, 200]})
    assert mloop.data.validate(frame, suite).success is False
    (tmp_path / "p.csv").write_text("age\n1\n2\n")
    mloop.data.add(tmp_path / "p.csv", name="people")
    with mloop.start_run() as run:
        result = mloop.data.validate("people@1", suite)
    assert result.success and result.data_ref == "people@1"
    (stored_result,) = mloop.data.validations("people@1")
    assert (stored_result["suite"], stored_result["success"]) == ("ages", True)
    assert stored_result["run_id"] == run.info.run_id
    stored = mloop.get_run(run.info.run_id)
    assert stored.data.tags["mloop.validation.ages"] == "passed"
    assert json.loads(mloop.Client().load_text(run.info.run_id, "validation/ages.json"))["success"]
    with pytest.raises(InvalidInput, match="expected a dataset reference"):
        mloop.data.validate(42, suite)  # type: ignore[arg-type]


def test_cli_validate_gates(home: Path, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("age\n1\n200\n")
    mloop.data.add(tmp_path / "p.csv", name="people")
    ExpectationSuite(
        "ages",
        [Expectation("between", column="age", max=120), Expectation("not_null", column="gone")],
    ).to_yaml(tmp_path / "s.yaml")
    code, out, _ = invoke("data", "validate", "people", "--suite", str(tmp_path / "s.yaml"))
    assert code == 1
    assert (
        "FAILED" in out
        and "200" in out
        and "column absent" in out.replace("no column 'gone'", "column absent")
    )
    ExpectationSuite("ok", [Expectation("row_count", min=1)]).to_yaml(tmp_path / "ok.yaml")
    code, out, _ = invoke("data", "validate", "people", "-s", str(tmp_path / "ok.yaml"), "--json")
    assert code == 0 and json.loads(out)["success"] is True
    code, _, err = invoke("data", "validate", "people", "-s", str(tmp_path / "missing.yaml"))
    assert code == 2 and "does not exist" in err
