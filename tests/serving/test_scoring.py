from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.errors import InvalidInput, MloopError, UnsupportedMediaType
from mloop.models.signature import ColumnSpec, Enforcer, Signature, TensorSpec
from mloop.serving.scoring import (
    ScoringRequest,
    decode_invocation,
    encode_predictions,
    error_body,
)

JSON = "application/json"
TABLE = Signature((ColumnSpec("age", "int64"), ColumnSpec("income", "float64")))
TENSOR = Signature(TensorSpec("float32", (-1, 2)))


def decode(document: Any, signature: Signature | None = TABLE) -> ScoringRequest:
    return decode_invocation(json.dumps(document).encode(), JSON, signature)


def strict_loads(body: bytes) -> Any:
    """Parse as a strict JSON parser would: NaN and Infinity are errors."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")

    return json.loads(body, parse_constant=refuse)


# -- the four JSON formats --------------------------------------------------------------


def test_dataframe_split_builds_a_typed_frame() -> None:
    request = decode({"dataframe_split": {"columns": ["age", "income"], "data": [[40, 5]]}})
    pd.testing.assert_frame_equal(
        request.data, pd.DataFrame({"age": [40], "income": [5.0]}), check_column_type=False
    )
    assert request.params is None


def test_dataframe_split_keeps_the_index() -> None:
    request = decode(
        {
            "dataframe_split": {
                "columns": ["age", "income"],
                "data": [[1, 2], [3, 4]],
                "index": [7, 9],
            }
        }
    )
    assert request.data.index.tolist() == [7, 9]


def test_dataframe_split_without_columns_numbers_them() -> None:
    request = decode({"dataframe_split": {"data": [[1, 2.5]]}}, None)
    assert request.data.columns.tolist() == [0, 1]
    assert request.data.dtypes.tolist() == [np.dtype("int64"), np.dtype("float64")]


def test_dataframe_split_as_mlflow_client_writes_it() -> None:
    # MLflow's client sends a frame as to_dict(orient="split"), with json.dumps' NaN token.
    frame = pd.DataFrame({"age": [40, 51], "income": [5.0, float("nan")]})
    body = json.dumps({"dataframe_split": frame.to_dict(orient="split")}).encode()
    assert b"NaN" in body
    request = decode_invocation(body, JSON, TABLE)
    pd.testing.assert_frame_equal(request.data, frame, check_column_type=False)


def test_dataframe_records() -> None:
    request = decode({"dataframe_records": [{"age": 40, "income": 5.5}, {"age": 31, "income": 7}]})
    assert request.data.to_dict(orient="list") == {"age": [40, 31], "income": [5.5, 7.0]}
    assert request.data.dtypes.tolist() == [np.dtype("int64"), np.dtype("float64")]


def test_dataframe_records_with_absent_keys_have_missing_values() -> None:
    request = decode({"dataframe_records": [{"age": 40, "income": 5.5}, {"age": 31}]})
    assert request.data.columns.tolist() == ["age", "income"]
    assert np.isnan(request.data["income"].iloc[1])


def test_dataframe_records_as_rows_without_names() -> None:
    request = decode({"dataframe_records": [[1.0, 2.0]]}, TENSOR)
    assert request.data.shape == (1, 2)


@pytest.mark.parametrize("key", ["instances", "inputs"])
def test_records_for_a_column_signature_make_a_frame(key: str) -> None:
    request = decode({key: [{"age": 40, "income": 5}]})
    assert isinstance(request.data, pd.DataFrame)
    assert request.data.dtypes.tolist() == [np.dtype("int64"), np.dtype("float64")]


@pytest.mark.parametrize("key", ["instances", "inputs"])
def test_a_dict_of_columns_for_a_column_signature_makes_a_frame(key: str) -> None:
    request = decode({key: {"age": [40, 31], "income": [5.5, 7.5]}})
    assert request.data.to_dict(orient="list") == {"age": [40, 31], "income": [5.5, 7.5]}


def test_a_dict_of_single_values_is_one_row() -> None:
    request = decode({"inputs": {"age": 40, "income": 5.5}})
    assert request.data.shape == (1, 2)


@pytest.mark.parametrize("key", ["instances", "inputs"])
def test_a_nested_list_for_a_tensor_signature_is_an_array_of_its_dtype(key: str) -> None:
    request = decode({key: [[1, 2], [3, 4.5]]}, TENSOR)
    assert isinstance(request.data, np.ndarray)
    assert request.data.dtype == np.float32
    assert request.data.tolist() == [[1.0, 2.0], [3.0, 4.5]]


def test_rows_for_a_column_signature_are_its_columns_in_order() -> None:
    request = decode({"inputs": [[40, 5.5]]})
    assert request.data.columns.tolist() == ["age", "income"]
    assert request.data.dtypes.tolist() == [np.dtype("int64"), np.dtype("float64")]


def test_rows_of_another_width_are_an_array_for_the_check_to_refuse() -> None:
    request = decode({"inputs": [[40, 5.5, 1]]})
    assert isinstance(request.data, np.ndarray)
    with pytest.raises(InvalidInput, match=r"shape \(1, 3\)"):
        Enforcer(TABLE)(request.data)


def test_a_flat_list_for_a_one_column_signature_is_that_column() -> None:
    signature = Signature((ColumnSpec("text", "string"),))
    request = decode({"inputs": ["a", "b"]}, signature)
    assert request.data["text"].tolist() == ["a", "b"]


def test_named_tensors_without_a_signature_are_a_dict_of_arrays() -> None:
    request = decode({"inputs": {"a": [[1, 2]], "b": [0.5]}}, None)
    assert set(request.data) == {"a", "b"}
    assert request.data["a"].shape == (1, 2)
    assert request.data["b"].dtype == np.float64


def test_a_list_without_a_signature_is_an_array() -> None:
    request = decode({"instances": [[1, 2], [3, 4]]}, None)
    assert isinstance(request.data, np.ndarray)
    assert request.data.dtype == np.int64


def test_params_are_passed_as_given() -> None:
    request = decode({"inputs": [[1, 2]], "params": {"top_k": 3, "names": ["a"]}}, TENSOR)
    assert request.params == {"top_k": 3, "names": ["a"]}


def test_null_params_are_none() -> None:
    assert decode({"inputs": [[1, 2]], "params": None}, TENSOR).params is None


def test_a_utf8_byte_order_mark_is_skipped() -> None:
    body = "\ufeff" + json.dumps({"inputs": [[1, 2]]})
    assert decode_invocation(body.encode(), JSON, TENSOR).data.shape == (1, 2)


# -- column types from the signature ---------------------------------------------------


def test_json_integers_take_a_narrower_int_type_when_they_fit() -> None:
    signature = Signature((ColumnSpec("n", "int32"), ColumnSpec("m", "uint8")))
    request = decode({"dataframe_records": [{"n": 7, "m": 200}]}, signature)
    assert request.data.dtypes.tolist() == [np.dtype("int32"), np.dtype("uint8")]


def test_a_value_that_does_not_fit_is_left_for_the_check_to_name() -> None:
    signature = Signature((ColumnSpec("n", "int64"), ColumnSpec("m", "uint8")))
    request = decode({"dataframe_records": [{"n": 1.5, "m": 300}]}, signature)
    assert request.data["n"].tolist() == [1.5]  # not truncated to 1
    assert request.data["m"].tolist() == [300]  # not wrapped to 44
    with pytest.raises(InvalidInput, match="'n' has type float64, expected int64"):
        Enforcer(signature)(request.data)


def test_whole_floats_become_ints() -> None:
    request = decode({"dataframe_records": [{"age": 40.0, "income": 1}]})
    assert request.data.dtypes.tolist() == [np.dtype("int64"), np.dtype("float64")]


def test_floats_take_the_signature_float_type() -> None:
    signature = Signature((ColumnSpec("x", "float32"),))
    assert decode({"inputs": {"x": [0.1, 2]}}, signature).data["x"].dtype == np.float32


def test_nulls_in_a_float_column_are_nan() -> None:
    request = decode({"dataframe_split": {"columns": ["income"], "data": [[None], [2.5]]}})
    assert request.data["income"].dtype == np.float64
    assert np.isnan(request.data["income"].iloc[0])


def test_nulls_in_an_int_column_are_missing_values_the_check_reports() -> None:
    signature = Signature((ColumnSpec("age", "int64", allow_missing=False),))
    request = decode({"dataframe_records": [{"age": None}, {"age": 3}]}, signature)
    with pytest.raises(InvalidInput, match="missing values"):
        Enforcer(signature)(request.data)


def test_datetimes_strings_and_bools() -> None:
    signature = Signature(
        (ColumnSpec("when", "datetime"), ColumnSpec("name", "string"), ColumnSpec("ok", "bool"))
    )
    request = decode(
        {"dataframe_records": [{"when": "2024-05-01T10:00:00", "name": "a", "ok": True}]},
        signature,
    )
    assert request.data["when"].dtype.kind == "M"
    assert request.data["ok"].dtype == np.bool_
    assert request.data["name"].tolist() == ["a"]
    Enforcer(signature)(request.data)


def test_numbers_without_a_signature_are_not_object_columns() -> None:
    request = decode({"dataframe_records": [{"a": 1, "b": 2.5, "c": True}]}, None)
    assert [d.kind for d in request.data.dtypes] == ["i", "f", "b"]


def test_columns_outside_the_signature_are_kept_for_the_check_to_drop() -> None:
    request = decode({"dataframe_records": [{"age": 1, "income": 2, "extra": "x"}]})
    assert Enforcer(TABLE)(request.data).columns.tolist() == ["age", "income"]


# -- CSV ---------------------------------------------------------------------------------


def test_csv_with_a_header_row() -> None:
    request = decode_invocation(b"age,income\n40,5\n31,7.5\n", "text/csv", TABLE)
    assert request.data.to_dict(orient="list") == {"age": [40, 31], "income": [5.0, 7.5]}
    assert request.data.dtypes.tolist() == [np.dtype("int64"), np.dtype("float64")]
    assert request.params is None


def test_csv_types_from_the_signature() -> None:
    signature = Signature(
        (ColumnSpec("code", "string"), ColumnSpec("n", "int32"), ColumnSpec("when", "datetime"))
    )
    body = b"code,n,when\n007,3,2024-05-01\n"
    request = decode_invocation(body, "text/csv; charset=utf-8", signature)
    assert request.data["code"].tolist() == ["007"]
    assert request.data["n"].dtype == np.int32
    assert request.data["when"].dtype.kind == "M"
    Enforcer(signature)(request.data)


def test_csv_without_a_signature() -> None:
    request = decode_invocation(b"a,b\n1,x\n", "text/csv", None)
    assert request.data["a"].tolist() == [1]


@pytest.mark.parametrize(
    "body", [b"a,b\n1,2,3,4\n", b'a,b\n"unclosed,2\n', b"\n\n"], ids=["ragged", "quote", "blank"]
)
def test_malformed_csv(body: bytes) -> None:
    with pytest.raises(
        InvalidInput, match=r"empty|not CSV with a header row|more fields than its header"
    ):
        decode_invocation(body, "text/csv", None)


# -- content types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        'application/json; charset="UTF-8"',
        "application/json;",
        "Application/JSON",
    ],
)
def test_accepted_json_content_types(content_type: str) -> None:
    body = b'{"inputs": [[1, 2]]}'
    assert decode_invocation(body, content_type, TENSOR).data.shape == (1, 2)


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (None, "no Content-Type"),
        ("", "no Content-Type"),
        ("text/plain", "'text/plain' is not accepted"),
        ("application/x-www-form-urlencoded", "is not accepted"),
        ("application/json; charset=latin-1", "must be UTF-8, got charset 'latin-1'"),
        ("application/json; format=pandas-split", "MLflow 1's request format"),
        ("application/json; format=pandas-records", "dataframe_split"),
        ("application/json; boundary=x", "unknown Content-Type parameter 'boundary'"),
    ],
)
def test_unsupported_content_types(content_type: str | None, message: str) -> None:
    with pytest.raises(UnsupportedMediaType, match=message) as caught:
        decode_invocation(b'{"inputs": [[1, 2]]}', content_type, TENSOR)
    assert caught.value.http_status == 415
    assert isinstance(caught.value, InvalidInput)


# -- bad bodies --------------------------------------------------------------------------

ACCEPTED = "'dataframe_split', 'dataframe_records', 'instances' or 'inputs'"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the request body is empty"),
        (b"  \n", "the request body is empty"),
        (b'{"inputs": "\xff"}', r"not UTF-8 text \(byte b'\\xff' at offset 12\)"),
        (b'{"inputs": [[1, 2]]', "not valid JSON"),
        (b"[[1, 2]]", "is a list, not an object"),
        (b"3", r"is a number \(3\), not an object"),
        (b'{"data": [[1]]}', r"unknown key\(s\) \['data'\]"),
        (b'{"inputs": [[1]], "instances": [[1]]}', r"has both \['instances', 'inputs'\]"),
        (b'{"params": {}}', "has none of them"),
        (b"{}", "has none of them"),
        (b'{"inputs": [[1]], "params": [1]}', "'params' is an object"),
    ],
)
def test_bad_envelopes(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        decode_invocation(body, JSON, None)
    assert caught.value.http_status == 400


@pytest.mark.parametrize(
    "body",
    [b'{"data": 1}', b"[1]", b"{}", b"not json", b""],
    ids=["key", "list", "none", "json", "empty"],
)
def test_envelope_errors_name_the_accepted_formats(body: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_invocation(body, JSON, None)
    assert ACCEPTED in str(caught.value)
    assert "text/csv" in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"dataframe_split": [[1, 2]]}, "'dataframe_split' is an object with 'data'"),
        ({"dataframe_split": {"columns": ["age"]}}, r"with 'data'.*got \['columns'\]"),
        ({"dataframe_split": {"data": [[1]], "dtype": "x"}}, r"got \['data', 'dtype'\]"),
        ({"dataframe_split": {"data": {"age": 1}}}, "'dataframe_split.data' is a list of rows"),
        ({"dataframe_split": {"columns": "age", "data": [[1]]}}, "is a list of names"),
        ({"dataframe_split": {"columns": ["age"], "data": [[1, 2]]}}, "row 0 .* has 2 values"),
        ({"dataframe_split": {"columns": ["age"], "data": [1]}}, "row 0 .* has a number"),
        ({"dataframe_split": {"data": [[1]], "index": [1, 2]}}, "one label per row"),
        ({"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}, "repeat a name"),
        ({"dataframe_records": {"age": [1]}}, "'dataframe_records' is a list of records"),
        ({"dataframe_records": [1, 2]}, "'dataframe_records' is a list of records"),
        ({"inputs": {"age": [1, 2], "income": [1.0]}}, "different lengths"),
    ],
)
def test_bad_frame_shapes(document: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"inputs": [[1, 2], [3]]}, "'inputs' is not a rectangular array"),
        ({"inputs": {"x": [1, 2]}}, r"one tensor float32 of shape \[-1, 2\]; .* got an object"),
        ({"instances": [{"x": 1}]}, "send 'instances' as a .* list, got records"),
    ],
)
def test_bad_tensors(document: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode(document, TENSOR)


# -- encoding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predictions", "expected"),
    [
        (np.array([1, 0, 1]), [1, 0, 1]),
        (np.array([[0.25, 0.75]]), [[0.25, 0.75]]),
        (np.array(["a", "b"]), ["a", "b"]),
        (np.array([True]), [True]),
        (np.float32(0.5), 0.5),
        (np.int64(3), 3),
        (np.bool_(True), True),
        (7, 7),
        ("yes", "yes"),
        ([np.int64(1), np.float32(2.5)], [1, 2.5]),
        ({"a": np.array([1, 2]), "b": {"c": np.array([0.5])}}, {"a": [1, 2], "b": {"c": [0.5]}}),
        (pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}), [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]),
        (pd.Series([0.5, 1.5], name="score"), [{"score": 0.5}, {"score": 1.5}]),
        (pd.Series([1, 0]), [{"0": 1}, {"0": 0}]),
    ],
)
def test_encode_as_mlflow_does(predictions: Any, expected: Any) -> None:
    assert strict_loads(encode_predictions(predictions)) == {"predictions": expected}


def test_nan_and_infinities_are_null() -> None:
    body = encode_predictions(np.array([[np.nan, np.inf], [-np.inf, 1.0]]))
    assert strict_loads(body) == {"predictions": [[None, None], [None, 1.0]]}
    frame = pd.DataFrame({"x": [np.nan, 1.0], "y": [np.float32("nan"), np.float32(2)]})
    assert strict_loads(encode_predictions(frame))["predictions"] == [
        {"x": None, "y": None},
        {"x": 1.0, "y": 2.0},
    ]
    assert strict_loads(encode_predictions(float("nan"))) == {"predictions": None}
    assert strict_loads(encode_predictions([np.float32("inf")])) == {"predictions": [None]}


def test_datetimes_are_iso_text() -> None:
    days = np.array(["2024-05-01T10:00", "NaT"], dtype="datetime64[ns]")
    assert strict_loads(encode_predictions(days))["predictions"] == [
        "2024-05-01T10:00:00.000000000",
        None,
    ]
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-05-01", None])})
    assert strict_loads(encode_predictions(frame))["predictions"] == [
        {"when": "2024-05-01T00:00:00"},
        {"when": None},
    ]
    assert strict_loads(encode_predictions(dt.date(2024, 5, 1))) == {"predictions": "2024-05-01"}
    assert strict_loads(encode_predictions(np.datetime64("2024-05-01"))) == {
        "predictions": "2024-05-01"
    }


def test_bytes_are_base64_as_mlflow_writes_them() -> None:
    assert strict_loads(encode_predictions([b"hi"])) == {"predictions": ["aGk=\n"]}


@pytest.mark.parametrize("predictions", [np.array([1 + 2j]), [object()], {"a": {1, 2}}])
def test_values_without_a_json_form_raise(predictions: Any) -> None:
    with pytest.raises(MloopError, match="cannot be encoded as JSON"):
        encode_predictions(predictions)


def test_error_body_is_mlflows_shape() -> None:
    assert json.loads(error_body("bad input")) == {
        "error_code": "BAD_REQUEST",
        "message": "bad input",
    }
    assert json.loads(error_body("é", "INTERNAL_ERROR")) == {
        "error_code": "INTERNAL_ERROR",
        "message": "é",
    }


# -- with a real model -------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, pd.DataFrame]:
    from sklearn.linear_model import LogisticRegression

    table = pd.DataFrame(
        {"age": [20, 30, 40, 50, 60, 70], "income": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    )
    y = [0, 0, 0, 1, 1, 1]
    path = Path(tmp_path_factory.mktemp("scoring")) / "model"
    mloop.models.save(LogisticRegression().fit(table, y), str(path), input_example=table)
    return mloop.models.load(str(path)), table


def _bodies(table: pd.DataFrame) -> list[tuple[bytes, str]]:
    rows = table.to_dict(orient="records")
    return [
        (json.dumps({"dataframe_split": table.to_dict(orient="split")}).encode(), JSON),
        (json.dumps({"dataframe_records": rows}).encode(), JSON),
        (json.dumps({"instances": rows}).encode(), JSON),
        (json.dumps({"inputs": table.to_dict(orient="list")}).encode(), JSON),
        (json.dumps({"inputs": table.to_numpy().tolist()}).encode(), JSON),
        (table.to_csv(index=False).encode(), "text/csv"),
    ]


@pytest.mark.parametrize(
    "number", range(6), ids=["split", "records", "instances", "columns", "array", "csv"]
)
def test_round_trip_with_a_saved_model(classifier: tuple[Any, pd.DataFrame], number: int) -> None:
    model, table = classifier
    body, content_type = _bodies(table)[number]
    request = decode_invocation(body, content_type, model.signature)
    response = strict_loads(encode_predictions(model.predict(request.data, request.params)))
    assert response == {"predictions": model.predict(table).tolist()}


def test_a_wrong_column_type_reaches_the_models_check(classifier: tuple[Any, pd.DataFrame]) -> None:
    model, _ = classifier
    request = decode({"dataframe_records": [{"age": "old", "income": 1.0}]}, model.signature)
    with pytest.raises(InvalidInput, match="'age' has type string, expected int64"):
        model.predict(request.data)
