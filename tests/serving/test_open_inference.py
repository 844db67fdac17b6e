"""The Open Inference Protocol V2 codec, with bodies as tritonclient and KServe clients send them."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.errors import InvalidInput
from mloop.models.signature import Signature, TensorSpec, infer_signature
from mloop.serving.open_inference import (
    HEADER_LENGTH,
    InferRequest,
    datatype_of,
    decode_infer,
    encode_infer,
    error_body,
    model_metadata,
    numpy_dtype,
)

ALL_DATATYPES = [
    ("BOOL", [True, False], np.bool_),
    ("UINT8", [0, 255], np.uint8),
    ("UINT16", [0, 65535], np.uint16),
    ("UINT32", [0, 2**32 - 1], np.uint32),
    ("UINT64", [0, 2**64 - 1], np.uint64),
    ("INT8", [-128, 127], np.int8),
    ("INT16", [-(2**15), 2**15 - 1], np.int16),
    ("INT32", [-(2**31), 2**31 - 1], np.int32),
    ("INT64", [-(2**63), 2**63 - 1], np.int64),
    ("FP16", [0.5, -2.0], np.float16),
    ("FP32", [0.25, 1.0], np.float32),
    ("FP64", [0.1, 3.0], np.float64),
    ("BYTES", ["a", "ç€"], np.object_),
]


def body(*inputs: dict[str, Any], **fields: Any) -> bytes:
    return json.dumps({"inputs": list(inputs), **fields}).encode()


def tensor(name: str, shape: list[int], datatype: str, data: Any) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def binary_body(inputs: list[tuple[str, str, np.ndarray]], **fields: Any) -> tuple[bytes, int]:
    """A body as tritonclient builds it with ``set_data_from_numpy(..., binary_data=True)``."""
    described, chunks = [], []
    for name, datatype, array in inputs:
        if datatype == "BYTES":
            raw = b"".join(
                struct.pack("<I", len(x)) + x
                for x in (v if isinstance(v, bytes) else v.encode() for v in array.reshape(-1))
            )
        else:
            raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        described.append(
            {
                "name": name,
                "shape": list(array.shape),
                "datatype": datatype,
                "parameters": {"binary_data_size": len(raw)},
            }
        )
        chunks.append(raw)
    header = json.dumps({"inputs": described, **fields}, separators=(",", ":")).encode()
    return header + b"".join(chunks), len(header)


def read_response(data: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """A response's outputs as arrays, reading binary data as tritonclient's InferResult does."""
    length = int(headers.get(HEADER_LENGTH, len(data)))
    document: dict[str, Any] = json.loads(data[:length])
    offset = length
    for output in document["outputs"]:
        size = output.get("parameters", {}).get("binary_data_size")
        if size is None:
            output["array"] = np.array(output["data"], dtype=numpy_dtype(output["datatype"]))
            continue
        raw = data[offset : offset + size]
        offset += size
        if output["datatype"] == "BYTES":
            items, at = [], 0
            while at < len(raw):
                (n,) = struct.unpack_from("<I", raw, at)
                items.append(raw[at + 4 : at + 4 + n])
                at += 4 + n
            output["array"] = np.array(items, dtype=object)
        else:
            output["array"] = np.frombuffer(raw, dtype=numpy_dtype(output["datatype"]))
        output["array"] = output["array"].reshape(output["shape"])
    assert offset == len(data)
    return document


# -- datatypes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("datatype", "values", "dtype"), ALL_DATATYPES)
def test_each_datatype_decodes_from_json_to_its_numpy_dtype(
    datatype: str, values: list[Any], dtype: type
) -> None:
    request = decode_infer(body(tensor("x", [2], datatype, values)), None)

    assert request.data.dtype == np.dtype(dtype)
    assert request.data.tolist() == values
    assert datatype_of(request.data.dtype) == datatype


@pytest.mark.parametrize(("datatype", "values", "dtype"), ALL_DATATYPES)
def test_each_datatype_decodes_from_binary_data(
    datatype: str, values: list[Any], dtype: type
) -> None:
    array = np.array(values, dtype=dtype)
    data, length = binary_body([("x", datatype, array)])

    request = decode_infer(data, None, header_length=length)

    assert request.data.dtype == np.dtype(dtype)
    assert request.data.tolist() == values


@pytest.mark.parametrize(("datatype", "values", "dtype"), ALL_DATATYPES)
@pytest.mark.parametrize("binary", [False, True])
def test_each_datatype_encodes_and_reads_back(
    datatype: str, values: list[Any], dtype: type, binary: bool
) -> None:
    array = np.array(values, dtype=dtype)

    data, headers = encode_infer("m", "2", "r", array, None, binary=binary)

    (output,) = read_response(data, headers)["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("predict", datatype, [2])
    decoded = [x.decode() if isinstance(x, bytes) else x for x in output["array"].tolist()]
    assert decoded == values
    assert (HEADER_LENGTH in headers) is binary


def test_signature_types_map_to_datatypes() -> None:
    assert [datatype_of(t) for t in ("float32", "int64", "bool", "string", "category")] == [
        "FP32",
        "INT64",
        "BOOL",
        "BYTES",
        "BYTES",
    ]
    assert datatype_of(pd.Int64Dtype()) == "INT64"


def test_an_unknown_datatype_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"input 'x': unknown datatype 'BF16'.*FP32"):
        decode_infer(body(tensor("x", [1], "BF16", [1.0])), None)


# -- tensor data -----------------------------------------------------------------------------


def test_flat_and_nested_data_give_the_same_row_major_array() -> None:
    flat = decode_infer(body(tensor("x", [2, 3], "INT32", [1, 2, 3, 4, 5, 6])), None)
    nested = decode_infer(body(tensor("x", [2, 3], "INT32", [[1, 2, 3], [4, 5, 6]])), None)

    assert flat.data.tolist() == nested.data.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_shape_and_data_length_must_agree() -> None:
    with pytest.raises(InvalidInput, match=r"input 'x' has shape \[2, 2\], so 4 .* holds 3"):
        decode_infer(body(tensor("x", [2, 2], "FP32", [1, 2, 3])), None)


def test_jagged_nested_data_is_refused() -> None:
    with pytest.raises(InvalidInput, match="input 'x': nested data must be regular"):
        decode_infer(body(tensor("x", [3], "FP32", [[1, 2], [3]])), None)


@pytest.mark.parametrize(
    ("datatype", "data", "message"),
    [
        ("FP32", ["1.5"], r"datatype FP32, but its data holds str '1.5'; send datatype BYTES"),
        ("INT64", [1.5], r"datatype INT64, but its data holds float 1.5; send a float"),
        ("INT64", [True], r"holds bool True; send datatype BOOL"),
        ("BOOL", [1], r"datatype BOOL, but its data holds int 1"),
        ("BYTES", [3], r"datatype BYTES, but its data holds int 3"),
        ("UINT8", [256], r"UINT8, whose values are 0..255"),
    ],
)
def test_data_must_match_the_datatype(datatype: str, data: list[Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode_infer(body(tensor("x", [1], datatype, data)), None)


def test_ints_are_accepted_in_a_float_tensor() -> None:
    request = decode_infer(body(tensor("x", [2], "FP64", [1, 2.5])), None)

    assert request.data.tolist() == [1.0, 2.5]


def test_malformed_requests_say_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        decode_infer(b"{", None)
    with pytest.raises(InvalidInput, match="'inputs': a non-empty list"):
        decode_infer(b'{"inputs": []}', None)
    with pytest.raises(InvalidInput, match="'shape' is a list of sizes"):
        decode_infer(body(tensor("x", [-1], "FP32", [1.0])), None)
    with pytest.raises(InvalidInput, match="input 'x' has no 'data' list"):
        decode_infer(body({"name": "x", "shape": [1], "datatype": "FP32"}), None)
    with pytest.raises(InvalidInput, match="input 'x' is given twice"):
        decode_infer(body(tensor("x", [1], "FP32", [1]), tensor("x", [1], "FP32", [1])), None)
    with pytest.raises(InvalidInput, match="the request 'id' is a string"):
        decode_infer(body(tensor("x", [1], "FP32", [1]), id=7), None)


# -- the request's other fields --------------------------------------------------------------


def test_id_parameters_and_requested_outputs_are_kept() -> None:
    request = decode_infer(
        body(
            tensor("x", [1], "FP32", [1.0]),
            id="42",
            parameters={"threshold": 0.3},
            outputs=[{"name": "predict"}],
        ),
        None,
    )

    assert request == InferRequest("42", request.data, {"threshold": 0.3}, ["predict"], False)


def test_binary_outputs_as_asked_by_the_request_or_an_output() -> None:
    whole = decode_infer(
        body(tensor("x", [1], "FP32", [1.0]), parameters={"binary_data_output": True}), None
    )
    one = decode_infer(
        body(
            tensor("x", [1], "FP32", [1.0]),
            outputs=[{"name": "predict", "parameters": {"binary_data": True}}],
        ),
        None,
    )
    overridden = decode_infer(
        body(
            tensor("x", [1], "FP32", [1.0]),
            parameters={"binary_data_output": True},
            outputs=[{"name": "predict", "parameters": {"binary_data": False}}],
        ),
        None,
    )

    assert (whole.binary_outputs, one.binary_outputs, overridden.binary_outputs) == (
        True,
        True,
        False,
    )
    assert whole.parameters == {}  # the protocol's own parameter is not the model's


# -- the binary tensor data extension --------------------------------------------------------


def test_binary_and_json_inputs_mix_in_one_request() -> None:
    # As tritonclient 2.x sends it: JSON header, then each binary input's bytes in order.
    data, length = binary_body(
        [
            ("a", "FP32", np.array([1.5, 2.5], dtype=np.float32)),
            ("c", "BYTES", np.array(["x", "yz"], dtype=object)),
        ],
        id="r1",
    )
    document = json.loads(data[:length])
    document["inputs"].insert(1, tensor("b", [2], "INT64", [7, 8]))
    header = json.dumps(document).encode()
    data = header + data[length:]

    request = decode_infer(data, None, header_length=len(header))

    assert request.id == "r1"
    assert request.data.to_dict("list") == {"a": [1.5, 2.5], "b": [7, 8], "c": ["x", "yz"]}


def test_bytes_that_are_not_text_stay_bytes() -> None:
    data, length = binary_body([("x", "BYTES", np.array([b"\xff\x00", "ok"], dtype=object))])

    assert decode_infer(data, None, header_length=length).data.tolist() == [b"\xff\x00", "ok"]


def test_binary_data_sizes_must_add_up() -> None:
    data, length = binary_body([("x", "FP32", np.zeros(2, dtype=np.float32))])

    with pytest.raises(InvalidInput, match="only 4 bytes of binary data are left"):
        decode_infer(data[:-4], None, header_length=length)
    with pytest.raises(InvalidInput, match="3 bytes after the JSON header"):
        decode_infer(data + b"abc", None, header_length=length)
    with pytest.raises(InvalidInput, match=f"{HEADER_LENGTH} is 999"):
        decode_infer(data, None, header_length=999)


def test_binary_data_must_fit_the_shape() -> None:
    data, length = binary_body([("x", "FP32", np.zeros(3, dtype=np.float32))])
    document = json.loads(data[:length])
    document["inputs"][0]["shape"] = [2]
    header = json.dumps(document).encode()

    with pytest.raises(InvalidInput, match="so 8 bytes of binary data, but binary_data_size is 12"):
        decode_infer(header + data[length:], None, header_length=len(header))


def test_a_binary_round_trip_through_encode_and_decode() -> None:
    array = np.arange(6, dtype=np.float16).reshape(2, 3)

    data, headers = encode_infer("m", None, None, {"x": array}, None, binary=True)
    document = json.loads(data[: int(headers[HEADER_LENGTH])])
    document["inputs"] = document.pop("outputs")  # a response output reads as a request input
    header = json.dumps(document).encode()
    rest = data[int(headers[HEADER_LENGTH]) :]

    again = decode_infer(header + rest, None, header_length=len(header))
    assert again.data.dtype == np.float16
    assert np.array_equal(again.data, array)


# -- signatures ------------------------------------------------------------------------------


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {"income": [50.0, 72.5], "age": [40, 31], "city": ["Oslo", "Lima"], "vip": [True, False]}
    )


def test_metadata_of_a_column_signature_is_one_tensor_per_column(table: pd.DataFrame) -> None:
    signature = infer_signature(table, np.array([0.1, 0.2]))

    metadata = model_metadata("churn", ["1", "2"], signature, "mloop_sklearn")

    assert metadata == {
        "name": "churn",
        "versions": ["1", "2"],
        "platform": "mloop_sklearn",
        "inputs": [
            {"name": "income", "datatype": "FP64", "shape": [-1]},
            {"name": "age", "datatype": "INT64", "shape": [-1]},
            {"name": "city", "datatype": "BYTES", "shape": [-1]},
            {"name": "vip", "datatype": "BOOL", "shape": [-1]},
        ],
        "outputs": [{"name": "predict", "datatype": "FP64", "shape": [-1]}],
    }


def test_metadata_of_a_tensor_signature_and_of_named_outputs() -> None:
    tensor_signature = infer_signature(np.zeros((2, 3), dtype=np.float32))
    named = infer_signature(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"label": ["a"], "p": [0.5]}))

    assert model_metadata("img", [], tensor_signature, "mloop_onnx")["inputs"] == [
        {"name": "input-0", "datatype": "FP32", "shape": [-1, 3]}
    ]
    assert model_metadata("img", [], tensor_signature, "mloop_onnx")["outputs"] == []
    assert model_metadata("m", [], named, "p")["outputs"] == [
        {"name": "label", "datatype": "BYTES", "shape": [-1]},
        {"name": "p", "datatype": "FP64", "shape": [-1]},
    ]
    assert model_metadata("m", [], None, "p")["inputs"] == []


def column_body(frame: pd.DataFrame, shape_of: Any = lambda n: [n]) -> bytes:
    kinds = {"f": "FP64", "i": "INT64", "b": "BOOL"}
    return body(
        *(
            tensor(
                str(c),
                shape_of(len(frame)),
                kinds.get(frame[c].dtype.kind, "BYTES"),
                frame[c].tolist(),
            )
            for c in frame.columns
        )
    )


def test_a_column_signature_gets_a_dataframe_in_its_column_order(table: pd.DataFrame) -> None:
    signature = infer_signature(table)

    request = decode_infer(column_body(table[["city", "vip", "age", "income"]]), signature)

    assert list(request.data.columns) == ["income", "age", "city", "vip"]
    assert request.data.to_dict("list") == table.to_dict("list")


def test_columns_may_come_as_n_by_1_tensors(table: pd.DataFrame) -> None:
    # MLServer's pandas codec sends each column with a trailing dimension of 1.
    request = decode_infer(column_body(table, lambda n: [n, 1]), infer_signature(table))

    assert request.data.to_dict("list") == table.to_dict("list")


def test_unknown_and_missing_columns_are_named(table: pd.DataFrame) -> None:
    sent = table.rename(columns={"age": "years"}).drop(columns="vip")

    with pytest.raises(InvalidInput) as caught:
        decode_infer(column_body(sent), infer_signature(table))

    assert str(caught.value) == (
        "the model takes one input tensor per column ['income', 'age', 'city', 'vip']; "
        "unknown input(s) ['years']; missing input(s) ['age', 'vip']"
    )


def test_a_column_sent_with_the_wrong_datatype_says_which_to_send(table: pd.DataFrame) -> None:
    sent = body(
        tensor("income", [1], "FP64", [1.0]),
        tensor("age", [1], "FP64", [40.5]),
        tensor("city", [1], "BYTES", ["Oslo"]),
        tensor("vip", [1], "BOOL", [True]),
    )

    with pytest.raises(
        InvalidInput, match=r"input 'age' has datatype FP64; column 'age' is int64: send INT64"
    ):
        decode_infer(sent, infer_signature(table))


def test_columns_of_different_lengths_are_refused() -> None:
    signature = infer_signature(pd.DataFrame({"a": [1.0], "b": [2.0]}))

    with pytest.raises(InvalidInput, match="differ in length"):
        decode_infer(
            body(tensor("a", [2], "FP64", [1, 2]), tensor("b", [1], "FP64", [3])), signature
        )


def test_one_wide_tensor_for_a_column_signature_passes_as_an_array(table: pd.DataFrame) -> None:
    # KServe's scikit-learn examples send one [N, features] tensor named input-0.
    signature = infer_signature(table[["income", "age"]])

    request = decode_infer(body(tensor("input-0", [1, 2], "FP64", [[1.0, 2.0]])), signature)

    assert request.data.tolist() == [[1.0, 2.0]]


def test_a_tensor_signature_gets_an_array_of_its_shape() -> None:
    signature = Signature(TensorSpec("float32", (-1, 2, 2)))

    request = decode_infer(body(tensor("pixels", [1, 2, 2], "FP32", [1, 2, 3, 4])), signature)

    assert request.data.shape == (1, 2, 2)
    assert request.data.dtype == np.float32


def test_a_tensor_signature_refuses_another_shape_datatype_or_count() -> None:
    signature = Signature(TensorSpec("float32", (-1, 3)))

    with pytest.raises(InvalidInput, match=r"input 'x' has shape \[2, 2\]; .* shape \[-1, 3\]"):
        decode_infer(body(tensor("x", [2, 2], "FP32", [1, 2, 3, 4])), signature)
    with pytest.raises(
        InvalidInput, match=r"datatype FP64; the model's tensor is float32: send FP32"
    ):
        decode_infer(body(tensor("x", [1, 3], "FP64", [1, 2, 3])), signature)
    with pytest.raises(InvalidInput, match=r"the model takes one tensor \('input-0'"):
        decode_infer(
            body(tensor("x", [1, 3], "FP32", [1, 2, 3]), tensor("y", [1], "FP32", [1])),
            signature,
        )


def test_without_a_signature_several_inputs_are_columns() -> None:
    request = decode_infer(
        body(tensor("a", [2], "INT64", [1, 2]), tensor("b", [2, 1], "BYTES", ["x", "y"])), None
    )

    assert request.data.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


# -- responses -------------------------------------------------------------------------------


def test_the_response_carries_name_version_and_id() -> None:
    data, headers = encode_infer("churn", "3", "abc", np.array([[1, 2], [3, 4]]), None)

    assert json.loads(data) == {
        "model_name": "churn",
        "model_version": "3",
        "id": "abc",
        "outputs": [
            {"name": "predict", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]}
        ],
    }
    assert headers == {}


def test_no_version_and_no_id_leave_those_fields_out() -> None:
    data, _ = encode_infer("m", None, None, [1.0], None)

    assert set(json.loads(data)) == {"model_name", "outputs"}


def test_a_dataframe_or_dict_gives_one_output_per_column() -> None:
    frame = pd.DataFrame({"label": ["a", "b"], "p": [0.9, 0.6]})

    from_frame = read_response(*encode_infer("m", None, None, frame, None))
    from_dict = read_response(*encode_infer("m", None, None, frame.to_dict("series"), None))

    for document in (from_frame, from_dict):
        assert [(o["name"], o["datatype"], o["data"]) for o in document["outputs"]] == [
            ("label", "BYTES", ["a", "b"]),
            ("p", "FP64", [0.9, 0.6]),
        ]


def test_outputs_are_named_by_the_signature() -> None:
    one = infer_signature(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"score": [0.5]}))
    two = infer_signature(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"lo": [0.5], "hi": [0.7]}))

    named = json.loads(encode_infer("m", None, None, np.array([0.1]), one)[0])
    split = json.loads(encode_infer("m", None, None, np.array([[0.1, 0.2]]), two)[0])

    assert [o["name"] for o in named["outputs"]] == ["score"]
    assert [(o["name"], o["data"]) for o in split["outputs"]] == [("lo", [0.1]), ("hi", [0.2])]


def test_a_named_series_keeps_its_name() -> None:
    data, _ = encode_infer("m", None, None, pd.Series([1, 2], name="label"), None)

    assert json.loads(data)["outputs"][0]["name"] == "label"


def test_requested_outputs_are_kept_in_order_and_unknown_ones_refused() -> None:
    predictions = {"a": np.array([1]), "b": np.array([2]), "c": np.array([3])}

    data, _ = encode_infer("m", None, None, predictions, None, outputs=["c", "a"])

    assert [o["name"] for o in json.loads(data)["outputs"]] == ["c", "a"]
    with pytest.raises(InvalidInput, match=r"unknown output\(s\) \['z'\]; the model gives"):
        encode_infer("m", None, None, predictions, None, outputs=["z"])


def test_text_outputs_with_missing_values_and_datetimes() -> None:
    frame = pd.DataFrame(
        {"s": pd.Series(["a", None], dtype="string"), "t": pd.to_datetime(["2024-01-02", None])}
    )

    document = json.loads(encode_infer("m", None, None, frame, None)[0])

    assert [o["data"] for o in document["outputs"]] == [
        ["a", None],
        ["2024-01-02T00:00:00", None],
    ]


def test_error_body() -> None:
    assert json.loads(error_body("no model 'x'")) == {"error": "no model 'x'"}


# -- through a real model --------------------------------------------------------------------


def test_a_saved_sklearn_model_serves_through_the_codec(
    tmp_path: Path, table: pd.DataFrame
) -> None:
    from sklearn.linear_model import LogisticRegression

    features = table[["income", "age"]]
    mloop.models.save(
        LogisticRegression().fit(features, [1, 0]), tmp_path / "model", input_example=features
    )
    model = mloop.models.load(tmp_path / "model")
    assert model.signature is not None
    metadata = model_metadata("churn", ["1"], model.signature, "mloop_sklearn")
    # A client builds its request from the metadata, sending each input binary as tritonclient does.
    data, length = binary_body(
        [
            (i["name"], i["datatype"], features[i["name"]].to_numpy(numpy_dtype(i["datatype"])))
            for i in metadata["inputs"]
        ],
        id="req-1",
        parameters={"binary_data_output": True},
    )

    request = decode_infer(data, model.signature, header_length=length)
    predictions = model.predict(request.data)
    body_out, headers = encode_infer(
        "churn", "1", request.id, predictions, model.signature, binary=request.binary_outputs
    )

    document = read_response(body_out, headers)
    assert document["id"] == "req-1"
    (output,) = document["outputs"]
    assert output["name"] == metadata["outputs"][0]["name"] == "predict"
    assert output["datatype"] == metadata["outputs"][0]["datatype"]
    assert output["array"].tolist() == model.predict(features).tolist()
