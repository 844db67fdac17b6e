from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mloop.errors import InvalidInput
from mloop.models.signature import (
    ColumnSpec,
    Enforcer,
    ParamSpec,
    Signature,
    TensorSpec,
    as_frame_or_array,
    column_type,
    infer_signature,
)


def _columns(sig: Signature) -> list[tuple[str, str]]:
    assert isinstance(sig.inputs, tuple)
    return [(c.name, c.type) for c in sig.inputs]


def test_infers_columns_with_their_types() -> None:
    frame = pd.DataFrame(
        {
            "f": [1.5],
            "i": [2],
            "b": [True],
            "s": ["x"],
            "o": pd.Series(["y"], dtype=object),
            "c": pd.Categorical(["a"]),
            "d": pd.to_datetime(["2024-01-01"]),
            "n": pd.array([1], dtype="Int64"),
            "f32": np.array([1.0], dtype="float32"),
        }
    )
    assert _columns(infer_signature(frame)) == [
        ("f", "float64"),
        ("i", "int64"),
        ("b", "bool"),
        ("s", "string"),
        ("o", "string"),
        ("c", "category"),
        ("d", "datetime"),
        ("n", "int64"),
        ("f32", "float32"),
    ]


def test_infers_a_tensor_with_a_free_batch_dimension_and_outputs() -> None:
    sig = infer_signature(np.zeros((4, 3, 2), dtype="float32"), np.zeros(4, dtype="int64"))
    assert sig.inputs == TensorSpec("float32", (-1, 3, 2))
    assert sig.outputs == TensorSpec("int64", (-1,))


def test_records_and_dicts_become_tables() -> None:
    assert _columns(infer_signature([{"a": 1, "b": "x"}])) == [("a", "int64"), ("b", "string")]
    assert _columns(infer_signature({"a": [1.0, 2.0]})) == [("a", "float64")]
    assert isinstance(as_frame_or_array([[1, 2], [3, 4]]), np.ndarray)


def test_an_object_array_or_a_scalar_cannot_be_a_signature() -> None:
    with pytest.raises(InvalidInput, match="array of Python objects"):
        infer_signature(np.array([object()]))
    with pytest.raises(InvalidInput, match="got int"):
        infer_signature(3)


def test_round_trips_through_plain_data() -> None:
    sig = infer_signature(pd.DataFrame({"a": [1.0]}), np.zeros(1))
    assert Signature.from_dict(sig.to_dict()) == sig


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"inputs": {"type": "columns", "columns": [{"name": "a", "type": "complex"}]}},
        {"inputs": {"type": "tensor"}},
        {"inputs": {"type": "graph"}},
        {"inputs": None},
        "text",
    ],
)
def test_a_malformed_signature_is_invalid(document: object) -> None:
    with pytest.raises(InvalidInput):
        Signature.from_dict(document)  # type: ignore[arg-type]


COLUMNS = Signature((ColumnSpec("income", "float64"), ColumnSpec("age", "int64")))


def test_the_right_frame_passes_unchanged() -> None:
    frame = pd.DataFrame({"income": [1.0], "age": [3]})
    assert Enforcer(COLUMNS)(frame) is frame


def test_columns_are_reordered_extras_dropped_and_ints_become_floats() -> None:
    frame = pd.DataFrame({"extra": ["x"], "age": np.array([31], dtype="int32"), "income": [72]})
    out = Enforcer(COLUMNS)(frame)
    assert list(out.columns) == ["income", "age"]
    assert out.dtypes.tolist() == [np.dtype("float64"), np.dtype("int64")]
    assert out["income"].iloc[0] == 72.0


def test_records_and_arrays_are_fitted_to_the_columns() -> None:
    enforce = Enforcer(COLUMNS)
    assert enforce([{"age": 3, "income": 1.5}]).columns.tolist() == ["income", "age"]
    out = enforce(np.array([[1, 2]]))
    assert out.columns.tolist() == ["income", "age"]
    assert out.dtypes.tolist() == [np.dtype("float64"), np.dtype("int64")]
    with pytest.raises(InvalidInput, match="'age' has type float64"):
        enforce(np.array([[1.0, 2.0]]))
    with pytest.raises(InvalidInput, match=r"shape \(1, 3\)"):
        enforce(np.array([[1.0, 2.0, 3.0]]))


def test_a_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"missing column\(s\) \['age'\]"):
        Enforcer(COLUMNS)(pd.DataFrame({"income": [1.0]}))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["a"], "'income' has type string, expected float64"),
        ([True], "'income' has type bool, expected float64"),
        (pd.to_datetime(["2024-01-01"]), "'income' has type datetime64"),
    ],
)
def test_an_unsafe_type_is_named_with_the_expected_one(values: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Enforcer(COLUMNS)(pd.DataFrame({"income": values, "age": [1]}))


def test_a_float_where_an_int_is_expected_is_refused() -> None:
    with pytest.raises(InvalidInput, match="'age' has type float64, expected int64"):
        Enforcer(COLUMNS)(pd.DataFrame({"income": [1.0], "age": [1.5]}))


def test_strings_categories_and_datetimes() -> None:
    sig = Signature(
        (ColumnSpec("s", "string"), ColumnSpec("c", "category"), ColumnSpec("d", "datetime"))
    )
    ok = pd.DataFrame({"s": ["x"], "c": ["y"], "d": pd.to_datetime(["2024-01-01"])})
    assert Enforcer(sig)(ok) is ok
    with pytest.raises(InvalidInput, match="'s' has type int64, expected string"):
        Enforcer(sig)(ok.assign(s=[1]))


def test_tensors_check_shape_and_cast_safely() -> None:
    enforce = Enforcer(Signature(TensorSpec("float64", (-1, 2))))
    out = enforce(np.array([[1, 2]], dtype="int32"))
    assert out.dtype == np.float64
    assert enforce([[1.0, 2.0]]).shape == (1, 2)
    assert enforce(pd.DataFrame({"a": [1.0], "b": [2.0]})).shape == (1, 2)
    with pytest.raises(InvalidInput, match=r"expected \(any, 2\)"):
        enforce(np.zeros((1, 3)))
    with pytest.raises(InvalidInput, match=r"shape \(2,\)"):
        enforce(np.zeros(2))
    narrow = Enforcer(Signature(TensorSpec("float32", (-1,))))
    with pytest.raises(InvalidInput, match="dtype float64, expected float32"):
        narrow(np.zeros(2))


def test_without_a_signature_input_passes_through_as_a_table_or_array() -> None:
    enforce = Enforcer(None)
    assert isinstance(enforce([{"a": 1}]), pd.DataFrame)
    array = np.zeros(2)
    assert enforce(array) is array
    with pytest.raises(InvalidInput, match="got str"):
        enforce("text")


def test_nullable_extension_ints_are_accepted_for_floats() -> None:
    out = Enforcer(Signature((ColumnSpec("a", "float64"),)))(
        pd.DataFrame({"a": pd.array([1, 2], dtype="Int64")})
    )
    assert out["a"].tolist() == [1.0, 2.0]


@given(
    st.lists(
        st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint32", "float32"]),
        min_size=1,
        max_size=4,
    )
)
def test_any_int_or_narrower_float_column_is_accepted_for_float64(dtypes: list[str]) -> None:
    names = [f"c{i}" for i in range(len(dtypes))]
    frame = pd.DataFrame({n: np.ones(2, dtype=d) for n, d in zip(names, dtypes, strict=True)})
    sig = Signature(tuple(ColumnSpec(n, "float64") for n in names))
    out = Enforcer(sig)(frame)
    assert all(t == np.float64 for t in out.dtypes)


def test_column_type_of_unusual_dtypes() -> None:
    assert column_type(np.dtype("S3")) == "string"
    assert column_type(np.dtype("O"), sample=3) == "object"
    assert column_type(pd.BooleanDtype()) == "bool"


def test_missing_values_where_the_example_had_none_are_named_with_their_count() -> None:
    example = pd.DataFrame({"income": [1.0, 2.0], "age": [3, 4], "note": ["a", None]})
    sig = infer_signature(example)
    assert isinstance(sig.inputs, tuple)
    assert [c.allow_missing for c in sig.inputs] == [False, False, True]
    assert Signature.from_dict(sig.to_dict()) == sig
    enforce = Enforcer(sig)
    frame = pd.DataFrame(
        {"income": [1.0, np.nan, np.nan], "age": [1.0, np.nan, 3.0], "note": [None, "b", None]}
    )
    with pytest.raises(InvalidInput, match=r"'income' \(2 of 3 rows\), 'age' \(1 of 3 rows\)"):
        enforce(frame)
    filled = frame.fillna({"income": 0.0, "age": 0.0})
    assert enforce(filled.astype({"age": "int64"}))["age"].dtype == np.dtype("int64")
    # nullable ints can hold NA too
    with pytest.raises(InvalidInput, match=r"'age' \(1 of 2 rows\)"):
        enforce(
            pd.DataFrame(
                {
                    "income": [1.0, 2.0],
                    "age": pd.array([1, None], dtype="Int64"),
                    "note": ["a", "b"],
                }
            )
        )


def test_signatures_without_the_flag_check_no_missing_values() -> None:
    sig = Signature.from_dict(
        {"inputs": {"type": "columns", "columns": [{"name": "income", "type": "float64"}]}}
    )
    frame = pd.DataFrame({"income": [np.nan]})
    assert Enforcer(sig)(frame) is frame
    with pytest.raises(InvalidInput, match="1 missing value"):
        Enforcer(COLUMNS)(pd.DataFrame({"income": [1.0], "age": [np.nan]}))


def test_params_are_inferred_with_mlflows_types_and_kept_in_the_package(home: Path) -> None:
    from sklearn.linear_model import LinearRegression

    import mloop

    frame = pd.DataFrame({"x": [1.0, 2.0]})
    model = LinearRegression().fit(frame, [1.0, 2.0])
    params = {
        "k": 3,
        "scale": np.float32(0.5),
        "mode": "fast",
        "on": True,
        "since": dt.datetime(2024, 1, 2),
        "ids": [1, 2],
    }
    sig = infer_signature(frame, model.predict(frame), params=params)
    assert sig.params == (
        ParamSpec("k", "long", 3),
        ParamSpec("scale", "double", 0.5),
        ParamSpec("mode", "string", "fast"),
        ParamSpec("on", "boolean", True),
        ParamSpec("since", "datetime", "2024-01-02T00:00:00"),
        ParamSpec("ids", "long", [1, 2], (-1,)),
    )
    assert Signature.from_dict(sig.to_dict()) == sig
    assert "params" not in infer_signature(frame).to_dict()  # older manifests stay byte-identical
    with mloop.start_run():
        info = mloop.models.log_model(model, "model", signature=sig)
    assert mloop.models.get_model_info(info.model_uri).signature == sig


def test_params_survive_when_the_outputs_are_inferred_from_the_example(home: Path) -> None:
    from sklearn.linear_model import LinearRegression

    import mloop

    frame = pd.DataFrame({"x": [1.0, 2.0]})
    model = LinearRegression().fit(frame, [1.0, 2.0])
    sig = infer_signature(frame, params={"k": 3})  # no outputs: the example's prediction gives them
    with mloop.start_run():
        info = mloop.models.log_model(model, "model", signature=sig, input_example=frame)
    stored = mloop.models.get_model_info(info.model_uri).signature
    assert stored is not None and stored.outputs is not None
    assert stored.params == (ParamSpec("k", "long", 3),)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"d": {"a": 1}}, "param 'd' is a bool, int, float, str or datetime"),
        ({"mixed": [1, "a"]}, "list of one type"),
        ({"nested": [[1], [2]]}, "param 'nested' is a bool"),
        ({"": 1}, "non-empty string"),
        ([("k", 1)], "mapping of name to default"),
    ],
)
def test_params_that_mlflow_could_not_type_are_refused(params: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        infer_signature(np.zeros((1, 1)), params=params)  # type: ignore[arg-type]


def test_malformed_params_in_a_manifest_are_refused() -> None:
    inputs = {"type": "tensor", "dtype": "float64", "shape": [-1]}
    with pytest.raises(InvalidInput, match="unknown param type 'map'"):
        Signature.from_dict(
            {"inputs": inputs, "params": [{"name": "p", "type": "map", "default": 1}]}
        )
    with pytest.raises(InvalidInput, match="malformed signature params"):
        Signature.from_dict({"inputs": inputs, "params": [{"name": "p"}]})


def test_a_wide_input_with_the_wrong_columns_is_named_briefly() -> None:
    wide = Signature(tuple(ColumnSpec(f"feature_{n}", "float64") for n in range(30)))
    with pytest.raises(InvalidInput) as refused:
        Enforcer(wide)(pd.DataFrame({"x": [1.0]}))
    assert str(refused.value) == (
        "model input is missing 30 column(s): 'feature_0', 'feature_1', 'feature_2', "
        "'feature_3', 'feature_4' and 25 more of the model's 30; it has 1 the model does not "
        "take: 'x'"
    )
