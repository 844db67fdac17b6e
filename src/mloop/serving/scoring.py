"""MLflow's scoring protocol for ``POST /invocations``: request bodies in, prediction bodies out.

A codec without a web framework, so MLflow's clients and scripts work unchanged
against mloop's server. :func:`decode_invocation` turns a request body into
what :meth:`~mloop.models.loaded.LoadedModel.predict` takes,
:func:`encode_predictions` turns its answer into MLflow's response body and
:func:`error_body` gives MLflow's error body.

Accepted bodies, as MLflow 2 and 3 accept them:

* ``Content-Type: application/json``, an object with exactly one of
  ``dataframe_split`` (``{"columns": [...], "data": [[...]], "index": [...]}``),
  ``dataframe_records`` (``[{column: value}, ...]``), ``instances`` or
  ``inputs`` (a nested list for a tensor; records or a dict of columns for a
  table), and optionally ``params`` (an object, passed to the model).
* ``Content-Type: text/csv``, with a header row.

The only content-type parameter accepted is ``charset=utf-8``; MLflow 1's
``format=pandas-split`` and ``format=pandas-records`` are refused as MLflow 2
refuses them (:class:`~mloop.errors.UnsupportedMediaType`, HTTP 415). Every
other malformed body raises :class:`~mloop.errors.InvalidInput` (HTTP 400).

Example:
    >>> request = decode_invocation(
    ...     b'{"dataframe_split": {"columns": ["x"], "data": [[1.5], [2.5]]}}',
    ...     "application/json", None)
    >>> request.data
         x
    0  1.5
    1  2.5
    >>> encode_predictions(request.data["x"].to_numpy() * 2)
    b'{"predictions":[3.0,5.0]}'
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
import math
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from mloop.errors import InvalidInput, MloopError, UnsupportedMediaType
from mloop.models.signature import (
    CATEGORY,
    DATETIME,
    OBJECT,
    STRING,
    ColumnSpec,
    Signature,
    TensorSpec,
)
from mloop.serving.columns import (
    as_array,
    assemble,
    column_types,
    frame_from_rows,
    json_kind,
    shown,
    typed_column,
)

CONTENT_TYPE_JSON: Final = "application/json"
CONTENT_TYPE_CSV: Final = "text/csv"
INPUT_KEYS: Final = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS_KEY: Final = "params"

ACCEPTED: Final = (
    "send Content-Type application/json with an object holding exactly one of "
    "'dataframe_split', 'dataframe_records', 'instances' or 'inputs' (and optionally "
    "'params'), or Content-Type text/csv with a header row"
)
_SPLIT_KEYS: Final = frozenset({"columns", "data", "index"})
_STRINGS: Final = frozenset({STRING, CATEGORY, OBJECT})


@dataclasses.dataclass(frozen=True, slots=True)
class ScoringRequest:
    """A decoded ``/invocations`` request: the model input and the inference params.

    ``data`` is a DataFrame (column signatures, the dataframe formats, CSV), an
    ndarray (a tensor), or a dict of ndarrays (named tensors, without a
    signature); ``params`` is the request's ``"params"`` object, or None.
    """

    data: Any
    params: dict[str, Any] | None


def decode_invocation(
    body: bytes, content_type: str | None, signature: Signature | None
) -> ScoringRequest:
    r"""The model input and params of an MLflow scoring request.

    The signature, when given, types the columns as they are built (JSON
    numbers become int or float columns of the signature's dtype when that
    loses nothing, ISO strings become datetimes); what does not fit is left
    as it came for ``LoadedModel.predict``'s check to name.

    Args:
        body: the raw request body (UTF-8).
        content_type: the ``Content-Type`` header, or None if absent.
        signature: the served model's signature, if it has one.

    Raises:
        UnsupportedMediaType: a content type other than JSON or CSV, a charset other
            than UTF-8, or MLflow 1's ``format=`` parameter.
        InvalidInput: an empty body, bytes that are not UTF-8, malformed JSON or CSV,
            no input key or more than one, an unknown key, or data of the wrong shape.

    Example:
        >>> from mloop.models.signature import ColumnSpec, Signature, TensorSpec
        >>> sig = Signature((ColumnSpec("age", "int32"), ColumnSpec("income", "float64")))
        >>> request = decode_invocation(
        ...     b'{"dataframe_records": [{"age": 40, "income": 5}], "params": {"k": 2}}',
        ...     "application/json; charset=utf-8", sig)
        >>> request.data.dtypes.tolist(), request.params
        ([dtype('int32'), dtype('float64')], {'k': 2})
        >>> decode_invocation(b"age,income\n40,5.5\n", "text/csv", sig).data
           age  income
        0   40     5.5
        >>> decode_invocation(b'{"inputs": [[1, 2]]}', "application/json",
        ...                   Signature(TensorSpec("float32", (-1, 2)))).data
        array([[1., 2.]], dtype=float32)
        >>> decode_invocation(b'{"data": [[1]]}', "application/json", None)
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: unknown key(s) ['data'] in the JSON body; send Content-Type ...
    """
    media_type = _media_type(content_type)
    text = _text(body)
    inputs = signature.inputs if signature is not None else None
    if media_type == CONTENT_TYPE_CSV:
        return ScoringRequest(_from_csv(text, inputs), None)
    return _from_document(_parse_json(text), inputs)


def encode_predictions(predictions: Any) -> bytes:
    """MLflow's response body, ``{"predictions": ...}``, as compact JSON.

    An ndarray becomes nested lists, a DataFrame a list of records, a Series a
    list of one-key records (both as MLflow's ``orient="records"``), a dict its
    values encoded likewise; NumPy scalars become numbers, datetimes ISO text,
    bytes base64. NaN and infinities become ``null``: MLflow writes the bare
    tokens ``NaN`` and ``Infinity``, which strict JSON parsers refuse.

    Raises:
        MloopError: the predictions hold a value JSON cannot carry (a complex number,
            an arbitrary object).

    Example:
        >>> import numpy as np, pandas as pd
        >>> encode_predictions(np.array([[0.25, np.nan]]))
        b'{"predictions":[[0.25,null]]}'
        >>> encode_predictions(pd.DataFrame({"label": ["a"], "score": [np.float32(0.5)]}))
        b'{"predictions":[{"label":"a","score":0.5}]}'
        >>> encode_predictions({"day": np.array(["2024-05-01"], dtype="datetime64[D]")})
        b'{"predictions":{"day":["2024-05-01"]}}'
    """
    try:
        document = {"predictions": _jsonable(predictions)}
        try:
            text = _dumps(document)
        except ValueError:  # NaN or an infinity: the slow walk only when there is one
            text = _dumps(_finite(document))
    except (TypeError, ValueError, RecursionError) as err:
        raise MloopError(
            f"the model's predictions ({type(predictions).__name__}) cannot be encoded as "
            f"JSON: {err}"
        ) from None
    return text.encode("ascii")


def error_body(message: str, error_code: str = "BAD_REQUEST") -> bytes:
    """MLflow's error body, ``{"error_code": ..., "message": ...}``.

    Example:
        >>> error_body("no input key")
        b'{"error_code":"BAD_REQUEST","message":"no input key"}'
    """
    return _dumps({"error_code": error_code, "message": message}).encode("ascii")


# -- the envelope ------------------------------------------------------------------------


def _media_type(content_type: str | None) -> str:
    if not content_type or not content_type.strip():
        raise UnsupportedMediaType(f"the request has no Content-Type; {ACCEPTED}")
    media_type, *parameters = content_type.split(";")
    media_type = media_type.strip().lower()
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"').lower()
        if not key:  # "application/json;", as MLflow's own examples send it
            continue
        if key == "charset":
            if value not in ("utf-8", "utf8"):
                raise UnsupportedMediaType(f"the request body must be UTF-8, got charset {value!r}")
        elif key == "format":
            raise UnsupportedMediaType(
                f"Content-Type parameter 'format={value}' is MLflow 1's request format, "
                "which MLflow 2 replaced: send plain application/json and wrap the frame, "
                'e.g. {"dataframe_split": {"columns": [...], "data": [[...]]}}'
            )
        else:
            raise UnsupportedMediaType(
                f"unknown Content-Type parameter {key!r} in {content_type!r}; only charset=utf-8 "
                "is accepted"
            )
    if media_type not in (CONTENT_TYPE_JSON, CONTENT_TYPE_CSV):
        raise UnsupportedMediaType(f"Content-Type {media_type!r} is not accepted; {ACCEPTED}")
    return media_type


def _text(body: bytes) -> str:
    if not body:
        raise InvalidInput(f"the request body is empty; {ACCEPTED}")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"the request body is not UTF-8 text (byte {body[err.start : err.start + 1]!r} at "
            f"offset {err.start}); encode it as UTF-8"
        ) from None
    if not text.strip():
        raise InvalidInput(f"the request body is empty; {ACCEPTED}")
    return text


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)  # NaN and Infinity too: MLflow's own client sends them
    except json.JSONDecodeError as err:
        raise InvalidInput(
            f"the request body is not valid JSON ({err.msg} at line {err.lineno} column "
            f"{err.colno}); {ACCEPTED}"
        ) from None
    except RecursionError:
        raise InvalidInput("the request body's JSON is nested too deeply") from None


def _from_document(document: Any, inputs: Any) -> ScoringRequest:
    if not isinstance(document, dict):
        raise InvalidInput(f"the JSON body is {json_kind(document)}, not an object; {ACCEPTED}")
    unknown = [k for k in document if k not in INPUT_KEYS and k != PARAMS_KEY]
    if unknown:
        raise InvalidInput(f"unknown key(s) {unknown} in the JSON body; {ACCEPTED}")
    keys = [k for k in INPUT_KEYS if k in document]
    if len(keys) != 1:
        found = f"both {keys}" if keys else "none of them"
        raise InvalidInput(f"the JSON body has {found}; {ACCEPTED}")
    params = document.get(PARAMS_KEY)
    if params is not None and not isinstance(params, dict):
        raise InvalidInput(
            f"'params' is an object of parameter names to values, got {json_kind(params)}"
        )
    key = keys[0]
    value = document[key]
    if key == "dataframe_split":
        data = _from_split(value, inputs)
    elif key == "dataframe_records":
        data = _from_records(value, inputs, key)
    else:
        data = _from_tensor_input(value, inputs, key)
    return ScoringRequest(data, params)


# -- the four input formats and CSV ------------------------------------------------------


def _from_split(value: Any, inputs: Any) -> pd.DataFrame:
    if not isinstance(value, dict) or "data" not in value or not _SPLIT_KEYS.issuperset(value):
        got = sorted(value) if isinstance(value, dict) else json_kind(value)
        raise InvalidInput(
            "'dataframe_split' is an object with 'data' (a list of rows) and optionally "
            f"'columns' and 'index', got {got}"
        )
    rows, labels, index = value["data"], value.get("columns"), value.get("index")
    if not isinstance(rows, list):
        raise InvalidInput(f"'dataframe_split.data' is a list of rows, got {json_kind(rows)}")
    if labels is not None and (
        not isinstance(labels, list) or any(isinstance(c, list | dict) for c in labels)
    ):
        raise InvalidInput(f"'dataframe_split.columns' is a list of names, got {shown(labels)}")
    if index is not None and (not isinstance(index, list) or len(index) != len(rows)):
        raise InvalidInput(
            f"'dataframe_split.index' is a list of one label per row ({len(rows)}), got "
            f"{shown(index)}"
        )
    if labels is None:
        first = rows[0] if rows else []
        labels = list(range(len(first) if isinstance(first, list) else 0))
    return frame_from_rows(rows, labels, index, inputs, "dataframe_split.data")


def _from_records(value: Any, inputs: Any, key: str) -> pd.DataFrame:
    if not isinstance(value, list):
        raise InvalidInput(f"'{key}' is a list of records (objects), got {json_kind(value)}")
    if not all(isinstance(record, dict) for record in value):
        if value and all(isinstance(row, list) for row in value):  # rows without names
            return frame_from_rows(value, list(range(len(value[0]))), None, inputs, key)
        raise InvalidInput(f"'{key}' is a list of records (objects), got {shown(value)}")
    labels = list(value[0]) if value else _names(inputs)
    wanted = set(labels)
    if any(len(record) != len(labels) or record.keys() != wanted for record in value):
        labels = list(dict.fromkeys(name for record in value for name in record))
    rows = [[record.get(name) for name in labels] for record in value]  # absent: missing
    return frame_from_rows(rows, labels, None, inputs, key)


def _from_tensor_input(value: Any, inputs: Any, key: str) -> Any:
    records = isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    if isinstance(inputs, TensorSpec):
        if isinstance(value, dict) or records:
            raise InvalidInput(
                f"the model takes one tensor {inputs.dtype} of shape {list(inputs.shape)}; send "
                f"'{key}' as a (nested) list, got {'records' if records else 'an object'}"
            )
        return as_array(value, inputs.dtype, key)
    if records:
        return _from_records(value, inputs, key)
    if isinstance(value, dict):
        if inputs is None:  # named tensors, as MLflow gives them to a model without a signature
            return {name: as_array(v, None, f"{key}.{name}") for name, v in value.items()}
        return _columns_frame(value, inputs, key)
    if isinstance(inputs, tuple) and isinstance(value, list) and value:
        names = _names(inputs)
        if len(names) == 1 and not any(isinstance(v, list | dict) for v in value):
            return frame_from_rows([[v] for v in value], names, None, inputs, key)  # one column
        if all(isinstance(row, list) and len(row) == len(names) for row in value):
            return frame_from_rows(value, names, None, inputs, key)  # rows, columns in order
    return as_array(value, None, key)


def _columns_frame(value: dict[str, Any], inputs: Any, key: str) -> pd.DataFrame:
    columns = [v if isinstance(v, list) else [v] for v in value.values()]
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        sizes = {name: len(c) for name, c in zip(value, columns, strict=True)}
        raise InvalidInput(f"the columns of '{key}' have different lengths: {shown(sizes)}")
    labels = list(value)
    types = column_types(inputs, tuple(labels))
    arrays = [typed_column(c, t) for c, t in zip(columns, types, strict=True)]
    return assemble(arrays, labels, None, lengths.pop() if lengths else 0)


def _from_csv(text: str, inputs: Any) -> pd.DataFrame:
    # Strings stay strings ("007" is not 7); the other columns are typed below.
    strings = {
        c.name: "str" for c in inputs or () if isinstance(c, ColumnSpec) and c.type in _STRINGS
    }
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=strings or None)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InvalidInput(
            f"the request body is not CSV with a header row, as pandas.DataFrame.to_csv "
            f"writes it ({str(err).strip()})"
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the extra fields as an index
        raise InvalidInput(
            "the CSV rows have more fields than its header row "
            f"{shown(list(frame.columns))}; write it with pandas.DataFrame.to_csv(index=False)"
        )
    types = column_types(inputs, tuple(frame.columns))
    for position, (label, type_) in enumerate(zip(frame.columns, types, strict=True)):
        if type_ is None or type_ in _STRINGS:
            continue
        current = frame.iloc[:, position]
        retyped = typed_column(current.to_numpy() if type_ != DATETIME else current.tolist(), type_)
        if getattr(retyped, "dtype", None) is not None and retyped.dtype != current.dtype:
            frame[label] = retyped
    return frame


def _names(inputs: Any) -> list[str]:
    return [c.name for c in inputs] if isinstance(inputs, tuple) else []


# -- encoding ----------------------------------------------------------------------------


def _dumps(document: Any) -> str:
    return json.dumps(document, allow_nan=False, default=_default, separators=(",", ":"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _array_to_list(value)
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):  # MLflow encodes a Series as a one-column frame
        return value.to_frame().to_dict(orient="records")
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _array_to_list(array: np.ndarray) -> Any:
    kind = array.dtype.kind
    if kind == "M":
        text = np.datetime_as_string(array).astype(object)
        text[np.isnat(array)] = None
        return text.tolist()
    if kind == "c":
        raise TypeError(f"complex numbers ({array.dtype}) have no JSON form")
    return array.tolist()  # bytes and objects inside go through _default


def _default(value: Any) -> Any:
    """What the JSON encoder writes for a value it does not know."""
    if isinstance(value, np.ndarray):
        return _array_to_list(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(np.datetime_as_string(value))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes | bytearray):  # as MLflow: base64, with its line breaks
        return base64.encodebytes(value).decode("ascii")
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, dt.date | dt.time):  # datetimes and pandas Timestamps too
        return value.isoformat()
    if isinstance(value, pd.DataFrame | pd.Series):
        return _jsonable(value)
    raise TypeError(f"{type(value).__name__} {value!r} has no JSON form")


def _finite(value: Any) -> Any:
    """``value`` with every NaN and infinity as None (the rare path: only when there is one)."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray | np.generic | pd.DataFrame | pd.Series):
        return _finite(_default(value))
    return value
