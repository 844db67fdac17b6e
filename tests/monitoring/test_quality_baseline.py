"""The quality baseline: kinds, ranges, categories, the round trip, and bad input."""

from __future__ import annotations

import datetime
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInput
from mloop.monitoring.quality_baseline import (
    FORMAT,
    ColumnBaseline,
    QualityBaseline,
    column_kind,
)


def reference() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "count": [3, 1, 2, 5],
            "income": [10.5, np.nan, np.inf, -2.0],
            "visits": pd.Series([4, None, 7, 1], dtype="Int64"),
            "plan": ["pro", "basic", None, "pro"],
            "size": pd.Series(["s", "m", "s", "s"], dtype="category"),
            "flag": [True, False, True, True],
            "maybe": [True, None, False, True],
            "seen": pd.to_datetime(["2026-01-01", None, "2026-02-01", "2026-03-01"]),
            "mixed": [1, "a", 2.5, None],
        }
    )


def test_each_column_is_summarised_by_its_kind() -> None:
    baseline = QualityBaseline.from_frame(reference())
    assert baseline.rows == 4 and baseline.max_categories == 10_000
    assert baseline.names == list(reference().columns)
    assert baseline.column("count") == ColumnBaseline("count", "numerical", "int64", 0.0, 1, 5)
    # NaN and inf are missing; the range is of the finite values.
    assert baseline.column("income") == ColumnBaseline(
        "income", "numerical", "float64", 0.5, -2.0, 10.5
    )
    visits = baseline.column("visits")
    assert (visits.kind, visits.dtype, visits.missing, visits.min, visits.max) == (
        "numerical",
        "Int64",
        0.25,
        1,
        7,
    )
    assert isinstance(visits.min, int) and isinstance(visits.max, int)
    assert baseline.column("plan") == ColumnBaseline(
        "plan", "categorical", "str", 0.25, distinct=2, categories=("basic", "pro")
    )
    size = baseline.column("size")
    assert (size.kind, size.categories, size.distinct) == ("categorical", ("m", "s"), 2)
    assert baseline.column("flag").categories == (False, True)
    assert baseline.column("flag").kind == "boolean"
    maybe = baseline.column("maybe")
    assert (maybe.kind, maybe.dtype, maybe.missing, maybe.categories) == (
        "boolean",
        "object",
        0.25,
        (False, True),
    )
    seen = baseline.column("seen")
    assert (seen.kind, seen.missing, seen.min, seen.categories) == ("datetime", 0.25, None, None)
    # Numbers first by value, then the rest by text.
    assert baseline.column("mixed").categories == (1, 2.5, "a")


def test_a_category_column_keeps_the_values_used_not_every_one_declared() -> None:
    sizes = pd.Categorical(["s", "s"], categories=["s", "m", "l"])
    baseline = QualityBaseline.from_frame(pd.DataFrame({"size": sizes}))
    assert baseline.column("size").categories == ("s",)


def test_past_the_cap_text_is_text_and_a_category_column_is_not_tracked() -> None:
    frame = pd.DataFrame(
        {
            "note": ["a", "b", "c", "a"],
            "code": pd.Series(["x", "y", "z", "x"], dtype="category"),
            "few": ["a", "b", "a", "b"],
        }
    )
    baseline = QualityBaseline.from_frame(frame, max_categories=2)
    assert baseline.column("note") == ColumnBaseline("note", "text", "str", 0.0, distinct=3)
    assert baseline.column("code") == ColumnBaseline(
        "code", "categorical", "category", 0.0, None, None, 3
    )
    assert baseline.column("few").categories == ("a", "b")


def test_values_json_cannot_hold_are_not_tracked() -> None:
    frame = pd.DataFrame({"raw": [b"a", b"b", b"a"]})
    column = QualityBaseline.from_frame(frame).column("raw")
    assert (column.kind, column.distinct, column.categories) == ("categorical", 2, None)


def test_columns_with_no_value() -> None:
    frame = pd.DataFrame({"none": [None, None], "nan": [np.nan, np.nan]})
    baseline = QualityBaseline.from_frame(frame)
    assert baseline.column("none") == ColumnBaseline(
        "none", "categorical", "object", 1.0, distinct=0
    )
    assert baseline.column("nan") == ColumnBaseline("nan", "numerical", "float64", 1.0)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([1, 2]), "numerical"),
        (pd.Series([1.5, None]), "numerical"),
        (pd.Series([1, None], dtype="Int64"), "numerical"),
        (pd.Series([1, 2], dtype=object), "numerical"),
        (pd.Series(["1.5", "2"]), "categorical"),
        (pd.Series([True, None]), "boolean"),
        (pd.Series([True, None], dtype="boolean"), "boolean"),
        (pd.Series([datetime.date(2026, 1, 1)]), "datetime"),
        (pd.Series(pd.to_datetime(["2026-01-01"]).tz_localize("UTC")), "datetime"),
        (pd.Series(["a"], dtype="category"), "categorical"),
        (pd.Series([1, "a"]), "categorical"),
        (pd.Series([None, None]), None),
        (pd.Series([pd.Timedelta(1)]), "unsupported"),
        (pd.Series([1 + 2j]), "unsupported"),
    ],
)
def test_column_kind(values: pd.Series[Any], kind: str | None) -> None:
    assert column_kind(values) == kind


def test_the_round_trip_through_json_is_exact() -> None:
    frame = reference()
    frame["note"] = [f"text {i}" for i in range(4)]
    frame["raw"] = [b"a", b"b", b"a", None]
    baseline = QualityBaseline.from_frame(frame, max_categories=3)
    data = baseline.to_dict()
    assert data["format"] == FORMAT and data["version"] == 1
    again = QualityBaseline.from_dict(json.loads(json.dumps(data, allow_nan=False)))
    assert again == baseline
    assert again.to_dict() == data


def test_column_lookup_names_the_columns_it_has() -> None:
    baseline = QualityBaseline.from_frame(pd.DataFrame({"x": [1]}))
    with pytest.raises(InvalidInput, match=r"no column 'y' in this baseline; it has \['x'\]"):
        baseline.column("y")


@pytest.mark.parametrize(
    ("frame", "options", "message"),
    [
        ({"x": [1]}, {}, "must be a pandas DataFrame, got dict"),
        (pd.DataFrame({"x": []}), {}, "has 0 rows and 1 columns"),
        (pd.DataFrame(index=[0, 1]), {}, "has 2 rows and 0 columns"),
        (pd.DataFrame({0: [1]}), {}, "column names must be distinct text"),
        (pd.DataFrame([[1, 2]], columns=["x", "x"]), {}, "column names must be distinct text"),
        (pd.DataFrame({"d": [pd.Timedelta(1)]}), {}, "column 'd' has dtype timedelta64"),
        (pd.DataFrame({"z": [1 + 2j]}), {}, "column 'z' has dtype complex128"),
        (pd.DataFrame({"l": [[1], [2]]}), {}, "column 'l' holds values that cannot be compared"),
        (pd.DataFrame({"x": [1]}), {"max_categories": 0}, "max_categories must be a positive"),
        (pd.DataFrame({"x": [1]}), {"max_categories": True}, "max_categories must be a positive"),
        (pd.DataFrame({"x": [1]}), {"max_categories": 2.5}, "max_categories must be a positive"),
    ],
)
def test_bad_references_are_refused(frame: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        QualityBaseline.from_frame(frame, **options)


def good() -> dict[str, Any]:
    return QualityBaseline.from_frame(
        pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "t": ["a", "b", "c"]}),
        max_categories=2,
    ).to_dict()


def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = good()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a quality baseline"),
        (changed(("format",), "other"), "not a quality baseline"),
        (changed(("version",), KeyError), "version None is not supported"),
        (changed(("version",), 2), "version 2 is not supported"),
        (changed(("rows",), 0), "'rows' and 'max_categories' must be positive integers"),
        (changed(("rows",), "3"), "'rows' and 'max_categories' must be positive integers"),
        (changed(("max_categories",), None), "'rows' and 'max_categories'"),
        (changed(("columns",), []), "'columns' must be a non-empty list"),
        (changed(("columns",), {"x": {}}), "'columns' must be a non-empty list"),
        (changed(("columns", 0), "x"), r"column #1 .* must have exactly the fields"),
        (changed(("columns", 0, "kind"), KeyError), "must have exactly the fields"),
        (changed(("columns", 0, "extra"), 1), "must have exactly the fields"),
        (changed(("columns", 0, "name"), ""), "'name' must be non-empty text"),
        (changed(("columns", 0, "kind"), "number"), "'kind' must be one of"),
        (changed(("columns", 0, "dtype"), 5), "'dtype' must be text"),
        (changed(("columns", 0, "missing"), 1.5), "'missing' must be a share"),
        (changed(("columns", 0, "missing"), True), "'missing' must be a share"),
        (changed(("columns", 0, "min"), 4.0), "min <= max"),
        (changed(("columns", 0, "max"), None), "min <= max"),
        (changed(("columns", 0, "max"), float("inf")), "finite numbers"),
        (changed(("columns", 0, "categories"), ["a"]), "numerical column has no 'distinct'"),
        (changed(("columns", 1, "min"), 1), "categorical column has no 'min'"),
        (changed(("columns", 1, "distinct"), -1), "'distinct' must be a count"),
        (changed(("columns", 1, "categories"), [["a"]]), "list of text, numbers or booleans"),
        (changed(("columns", 1, "categories"), "ab"), "must be a non-empty list"),
        (changed(("columns", 1, "categories"), []), "must be a non-empty list"),
        (changed(("columns", 1, "categories"), ["a"]), "holds 1 values, but 'distinct' is 2"),
        (changed(("columns", 2, "categories"), ["a", "b"]), "text column keeps no"),
        (changed(("columns", 1, "name"), "x"), "names a column twice"),
    ],
)
def test_bad_or_old_baselines_are_refused(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        QualityBaseline.from_dict(data)
    assert "QualityBaseline.from_frame(reference)" in str(caught.value)


def test_the_fixture_of_the_refusals_is_itself_valid() -> None:
    baseline = QualityBaseline.from_dict(good())
    assert [(c.name, c.kind) for c in baseline.columns] == [
        ("x", "numerical"),
        ("c", "categorical"),
        ("t", "text"),
    ]
