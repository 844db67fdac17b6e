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


PATTERN = r"^[^@]+@[^@]+$"
FRAME = pd.DataFrame(
    {
        "n": [1.0, 2.0, None, 4.0, 4.0, 150.0],
        "i": [1, 2, 3, 3, 5, 6],
        "s": ["a@x.io", None, "bad", "a@x.io", "c@x.io", "zz"],
        "c": ["p", "q", None, "p", "r", "p"],
        "f": [0.5, 0.25, None, 0.0, 1.0, 0.75],
    }
)
EVERY_KIND = ExpectationSuite(
    "every",
    [
        Expectation("row_count", min=1),
        Expectation("not_null", column="n"),
        Expectation("not_null", column="s", mostly=0.5),
        Expectation("between", column="n", min=0, max=120),
        Expectation("between", column="i", min=0, max=4),
        Expectation("between", column="f", min=0, max=1),
        Expectation("in_set", column="c", values=["p", "q"]),
        Expectation("unique", column="i"),
        Expectation("unique", column="s"),
        Expectation("unique", column="n"),
        Expectation("regex", column="s", pattern=PATTERN),
        Expectation("string_length", column="s", min=3),
        Expectation("mean_between", column="n", min=0, max=100),
        Expectation("column_type", column="s", type="string"),
        Expectation("no_duplicate_rows"),
        Expectation("group_representation", column="c", min_share=0.3),
        Expectation("between", column="s", min=0),
    ],
)


def frame_kinds(frame: pd.DataFrame) -> dict[str, object]:
    """The same data as an Arrow table, a DataFrame of Arrow-backed str, and of objects."""
    strings = [name for name in frame.columns if frame[name].dtype == object]
    return {
        "arrow": pa.Table.from_pandas(frame, preserve_index=False),
        "str": frame.astype(dict.fromkeys(strings, "str")),
        "object": frame.astype(dict.fromkeys(strings, object)),
    }


def by_label(data: object, suite: ExpectationSuite = EVERY_KIND) -> dict[str, tuple[object, ...]]:
    result = run_suite(data, suite)
    return {
        r.expectation: (r.success, r.observed, r.unexpected_count, r.examples, r.message)
        for r in result.results
    }


def test_nulls_are_left_to_not_null() -> None:
    found = by_label(FRAME)
    assert found["not_null(s)"] == (True, "16.67% unexpected", 1, [None], "")
    assert found["not_null(n)"][:4] == (False, "16.67% unexpected", 1, [None])
    assert found["regex(s)"] == (False, "40% unexpected", 2, ["bad", "zz"], "")
    assert found["in_set(c)"] == (False, "20% unexpected", 1, ["r"], "")
    assert found["unique(s)"][:3] == (False, 1, 1)
    assert found["unique(n)"][:3] == (False, 1, 1)
    assert found["unique(i)"][:3] == (False, 1, 1)
    assert found["between(i)"] == (False, "33.33% unexpected", 2, [5, 6], "")
    assert found["between(n)"] == (False, "20% unexpected", 1, [150.0], "")
    assert found["mean_between(n)"][:2] == (True, 32.2)
    assert found["between(s)"][0] is False and found["between(s)"][4]


def test_arrow_tables_and_both_string_dtypes_give_the_same_results() -> None:
    results = {kind: by_label(data) for kind, data in frame_kinds(FRAME).items()}
    assert results["arrow"] == results["str"] == results["object"]
    assert len(results["arrow"]) == len(EVERY_KIND.expectations)


def test_an_empty_frame() -> None:
    empty = FRAME.iloc[0:0]
    results = {kind: by_label(data) for kind, data in frame_kinds(empty).items()}
    assert results["arrow"] == results["str"] == results["object"]
    failed = {label for label, outcome in results["str"].items() if not outcome[0]}
    # The checks that need rows fail, and a range on strings, as on any table.
    assert failed == {"row_count()", "mean_between(n)", "between(s)"}


def test_large_tables_run_in_threads_with_the_same_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from mloop.data import validation

    big = pd.concat([FRAME] * 10_000, ignore_index=True)
    assert len(big) >= validation.PARALLEL_ROWS
    threads: set[str] = set()
    check = Expectation(
        "custom",
        name="thread",
        check=lambda t: (True, threads.add(threading.current_thread().name)),
    )
    suite = ExpectationSuite("big", [*EVERY_KIND.expectations, check])
    parallel = {kind: by_label(data, suite) for kind, data in frame_kinds(big).items()}
    assert threads == {threading.current_thread().name}  # custom checks: the calling thread
    monkeypatch.setattr(validation, "PARALLEL_ROWS", len(big) + 1)
    serial = {kind: by_label(data, suite) for kind, data in frame_kinds(big).items()}
    assert parallel == serial
    assert parallel["arrow"] == parallel["str"] == parallel["object"]
    assert parallel["str"]["unique(s)"][:3] == (False, 49_996, 49_996)


def test_a_frame_column_that_arrow_cannot_read_fails_its_checks_only() -> None:
    frame = pd.DataFrame({"ok": [1, 2], "mixed": pd.Series([1, "a"], dtype=object)})
    suite = ExpectationSuite(
        "s", [Expectation("not_null", column="ok"), Expectation("unique", column="mixed")]
    )
    ok, mixed = run_suite(frame, suite).results
    assert ok.success
    assert (mixed.success, mixed.observed) == (False, None)
    assert "Could not convert 'a'" in mixed.message


def test_a_frame_with_repeated_column_names_is_refused() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInput, match="Duplicate column names"):
        mloop.data.validate(frame, ExpectationSuite("s", [Expectation("row_count", min=1)]))
