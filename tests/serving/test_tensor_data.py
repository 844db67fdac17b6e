"""One V2 tensor's datatypes and its JSON and binary encodings."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInput, MloopError
from mloop.serving.tensor_data import (
    datatype_of,
    encode_tensor,
    from_binary,
    from_json,
    numpy_dtype,
)


def test_numpy_dtype_and_datatype_of_are_inverse_for_numbers() -> None:
    for datatype in ("BOOL", "UINT8", "UINT64", "INT8", "INT64", "FP16", "FP32", "FP64"):
        assert datatype_of(numpy_dtype(datatype)) == datatype
    assert numpy_dtype("BYTES") == np.dtype(object)
    assert datatype_of(np.dtype("<U3")) == datatype_of("datetime64[ns]") == "BYTES"


def test_from_json_reads_nested_data_row_major() -> None:
    array = from_json("x", [[[1, 2]], [[3, 4]]], (2, 1, 2), "UINT16")

    assert array.shape == (2, 1, 2)
    assert array.reshape(-1).tolist() == [1, 2, 3, 4]


def test_from_json_refuses_mixed_nesting() -> None:
    with pytest.raises(InvalidInput, match="mixes lists and values"):
        from_json("x", [[1, [2]], [3, 4]], (4,), "INT8")


def test_empty_tensors() -> None:
    assert from_json("x", [], (0, 3), "FP32").shape == (0, 3)
    assert from_binary("x", memoryview(b""), (0,), "BYTES").shape == (0,)


def test_from_binary_reads_little_endian_whatever_the_machine() -> None:
    raw = struct.pack("<2i", 1, -2)

    assert from_binary("x", memoryview(raw), (2,), "INT32").tolist() == [1, -2]


def test_from_binary_refuses_truncated_bytes_elements() -> None:
    with pytest.raises(InvalidInput, match="runs past its binary data"):
        from_binary("s", memoryview(struct.pack("<I", 5) + b"ab"), (1,), "BYTES")
    with pytest.raises(InvalidInput, match="ends inside a length prefix"):
        from_binary("s", memoryview(b"\x01\x00"), (1,), "BYTES")
    with pytest.raises(InvalidInput, match="so 2 element"):
        from_binary("s", memoryview(struct.pack("<I", 0)), (2,), "BYTES")


def test_encode_tensor_writes_bytes_elements_length_prefixed() -> None:
    chunks: list[bytes] = []

    output = encode_tensor("s", np.array(["ab", None, b"\xff"], dtype=object), chunks)

    assert output["parameters"] == {"binary_data_size": 15}
    assert chunks == [
        struct.pack("<I", 2) + b"ab" + struct.pack("<I", 0) + struct.pack("<I", 1) + b"\xff"
    ]


def test_encode_tensor_refuses_non_text_bytes_in_json() -> None:
    with pytest.raises(MloopError, match="not UTF-8"):
        encode_tensor("s", np.array([b"\xff"], dtype=object), None)


def test_encode_tensor_writes_categories_as_text() -> None:
    values = pd.Categorical(["a", "b"]).astype(object)

    assert encode_tensor("c", np.asarray(values), None)["data"] == ["a", "b"]
