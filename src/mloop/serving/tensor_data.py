"""V2 tensor data: the datatypes, and one tensor's JSON and binary encodings.

The Open Inference Protocol names element types ``BOOL``, ``UINT8`` …
``UINT64``, ``INT8`` … ``INT64``, ``FP16``, ``FP32``, ``FP64`` and ``BYTES``;
JSON tensor data is flat (row-major) or nested; the binary tensor data
extension sends elements little-endian without padding, a ``BYTES`` element as
a 4-byte little-endian length and then its bytes.

Example:
    >>> from_json("x", [[1, 2], [3, 4]], (2, 2), "INT32").dtype
    dtype('int32')
    >>> flags = from_binary("y", memoryview(bytes([1, 0])), (2,), "BOOL")
    >>> encode_tensor("y", flags, None)
    {'name': 'y', 'shape': [2], 'datatype': 'BOOL', 'data': [True, False]}
"""

from __future__ import annotations

import math
import struct
from typing import Any, Final

import numpy as np
import pandas as pd

from mloop.errors import InvalidInput, MloopError

_NUMPY: Final = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_DATATYPE: Final = {v: k for k, v in _NUMPY.items() if k != "BYTES"}
_FLOATS: Final = frozenset({"FP16", "FP32", "FP64"})
# The Python types JSON data of each kind may hold (bool is an int in Python: listed apart).
_JSON_TYPES: Final[dict[str, frozenset[type]]] = {
    "BOOL": frozenset({bool}),
    "BYTES": frozenset({str}),
    "INT": frozenset({int}),
    "FP": frozenset({int, float}),
}


def numpy_dtype(datatype: str) -> np.dtype[Any]:
    """The NumPy dtype of a V2 datatype (``BYTES`` is ``object``: str or bytes elements).

    Example:
        >>> numpy_dtype("FP32"), numpy_dtype("BYTES")
        (dtype('float32'), dtype('O'))

    Raises:
        InvalidInput: not a V2 datatype.
    """
    if datatype not in _NUMPY:
        raise InvalidInput(
            f"unknown datatype {datatype!r}; the Open Inference Protocol's are {', '.join(_NUMPY)}"
        )
    return np.dtype(_NUMPY[datatype])


def datatype_of(dtype: Any) -> str:
    """The V2 datatype of a NumPy or pandas dtype, or of an mloop signature type.

    Text, categories, datetimes and objects are ``BYTES`` (datetimes as ISO text).

    Example:
        >>> datatype_of("float64"), datatype_of("string"), datatype_of("bool")
        ('FP64', 'BYTES', 'BOOL')
    """
    name = str(getattr(dtype, "numpy_dtype", dtype))  # pandas' nullable Int64 -> int64
    return _DATATYPE.get(name, "BYTES")


def from_json(name: str, data: Any, shape: tuple[int, ...], datatype: str) -> np.ndarray:
    """The array of input ``name`` from its JSON ``data``, flat (row-major) or nested.

    Example:
        >>> from_json("x", [1.5, 2, 3, 4], (2, 2), "FP64")
        array([[1.5, 2. ],
               [3. , 4. ]])

    Raises:
        InvalidInput: the data does not hold ``shape``'s count of elements, or holds
            values of another kind than ``datatype`` (text in a number tensor …).
    """
    if not isinstance(data, list):
        raise InvalidInput(
            f"input {name!r} has no 'data' list (nor parameters.binary_data_size), "
            f"got {data!r:.100}"
        )
    flat = _flatten(name, data)
    expected = math.prod(shape)
    if len(flat) != expected:
        raise InvalidInput(
            f"input {name!r} has shape {list(shape)}, so {expected} element(s), "
            f"but its data holds {len(flat)}"
        )
    kind = datatype if datatype in ("BOOL", "BYTES") else "FP" if datatype in _FLOATS else "INT"
    found = set(map(type, flat)) - _JSON_TYPES[kind]
    if found:
        example = next(x for x in flat if type(x) in found)
        raise InvalidInput(
            f"input {name!r} has datatype {datatype}, but its data holds "
            f"{type(example).__name__} {example!r:.40}; send {_describe(example)} or change "
            "the datatype"
        )
    try:
        return np.array(flat, dtype=numpy_dtype(datatype)).reshape(shape)
    except OverflowError:
        info = np.iinfo(numpy_dtype(datatype))
        raise InvalidInput(
            f"input {name!r} has datatype {datatype}, whose values are {info.min}..{info.max}; "
            "its data holds a value out of that range"
        ) from None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "datatype BOOL"
    if isinstance(value, int):
        return "an integer datatype (INT64 …)"
    if isinstance(value, float):
        return "a float datatype (FP64 …)"
    if isinstance(value, str):
        return "datatype BYTES"
    return "numbers, booleans or strings"


def _flatten(name: str, data: list[Any]) -> list[Any]:
    """The elements of flat or nested (regular) JSON data, in row-major order."""
    level = data
    while level and isinstance(level[0], list):
        if not all(isinstance(row, list) and len(row) == len(level[0]) for row in level):
            raise InvalidInput(
                f"input {name!r}: nested data must be regular (lists of equal length at each "
                "depth), or send it flat in row-major order"
            )
        level = [x for row in level for x in row]
    if any(isinstance(x, list) for x in level):
        raise InvalidInput(f"input {name!r}: nested data mixes lists and values")
    return level


def from_binary(name: str, raw: memoryview, shape: tuple[int, ...], datatype: str) -> np.ndarray:
    """The array of input ``name`` from its binary data (``BYTES``: str if UTF-8, else bytes).

    Example:
        >>> from_binary("s", memoryview(bytes([2, 0, 0, 0]) + b"hi"), (1,), "BYTES")
        array(['hi'], dtype=object)

    Raises:
        InvalidInput: the bytes do not hold ``shape``'s count of ``datatype`` elements.
    """
    count = math.prod(shape)
    if datatype == "BYTES":
        elements = _unpack_bytes(name, raw)
        if len(elements) != count:
            raise InvalidInput(
                f"input {name!r} has shape {list(shape)}, so {count} element(s), but its "
                f"binary data holds {len(elements)}"
            )
        array = np.empty(count, dtype=object)
        array[:] = elements
        return array.reshape(shape)
    dtype = numpy_dtype(datatype).newbyteorder("<")
    if len(raw) != count * dtype.itemsize:
        raise InvalidInput(
            f"input {name!r} has shape {list(shape)} and datatype {datatype}, so "
            f"{count * dtype.itemsize} bytes of binary data, but binary_data_size is {len(raw)}"
        )
    array = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a native, writable copy


def _unpack_bytes(name: str, raw: memoryview) -> list[str | bytes]:
    """BYTES elements: each a 4-byte little-endian length, then that many bytes."""
    elements: list[str | bytes] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidInput(f"input {name!r}: BYTES binary data ends inside a length prefix")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise InvalidInput(f"input {name!r}: a BYTES element runs past its binary data")
        item = bytes(raw[offset : offset + length])
        offset += length
        try:  # text for the model when it is text; the raw bytes otherwise
            elements.append(item.decode())
        except UnicodeDecodeError:
            elements.append(item)
    return elements


def encode_tensor(name: str, array: np.ndarray, chunks: list[bytes] | None) -> dict[str, Any]:
    """The response output of ``array``: its data in JSON, or appended to ``chunks`` as binary.

    Example:
        >>> chunks = []
        >>> encode_tensor("p", np.array([0.5, 1.0], dtype="float32"), chunks)
        {'name': 'p', 'shape': [2], 'datatype': 'FP32', 'parameters': {'binary_data_size': 8}}
        >>> np.frombuffer(chunks[0], dtype="<f4")
        array([0.5, 1. ], dtype=float32)

    Raises:
        MloopError: a ``BYTES`` element is bytes that are not UTF-8 (JSON only: binary
            data carries any bytes).
    """
    datatype = datatype_of(array.dtype)
    found: dict[str, Any] = {"name": name, "shape": list(array.shape), "datatype": datatype}
    flat = array.reshape(-1)
    if chunks is None:
        found["data"] = [_text(x) for x in flat] if datatype == "BYTES" else flat.tolist()
        return found
    if datatype == "BYTES":
        raw = b"".join(_packed(x) for x in flat)
    else:
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    found["parameters"] = {"binary_data_size": len(raw)}
    chunks.append(raw)
    return found


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):  # None, NaN, NA, NaT
        return None
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise MloopError(
                "the model returned bytes that are not UTF-8 text, which JSON cannot carry"
            ) from None
    if isinstance(value, np.datetime64 | pd.Timestamp):
        return str(pd.Timestamp(value).isoformat())
    return str(value)


def _packed(value: Any) -> bytes:
    """One BYTES element of binary data: its length (4 bytes, little-endian), then its bytes."""
    if isinstance(value, bytes):
        raw = value
    else:
        text = _text(value)
        raw = b"" if text is None else text.encode()
    return struct.pack("<I", len(raw)) + raw
