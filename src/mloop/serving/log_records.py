"""Prediction log records as Parquet: their columns, their keys, personal data hashed first.

A prediction is one row: ``request_id``, ``time`` (UTC), ``deployment`` (the
deployment's name, or the served model's when it serves no deployment),
``model``, ``version``, ``protocol``, ``inputs`` and ``outputs`` (JSON text),
``rows``, ``latency_seconds``, ``shadow`` (the shadow version's answer to the
same request, JSON text: ``{"model", "version", "outputs" | "error",
"latency_seconds"}``; null without a shadow), ``status`` (the HTTP status
answered), ``error`` (its message, for a request that failed after a
version was chosen for it) and ``role`` (how the version was chosen:
``primary`` or ``canary`` by a deployment's routing, ``direct`` when the
request named the version). Inputs and outputs are JSON because their
shape changes with the model and its version, and one file holds requests of
any shape: a table of columns becomes ``{"column": [values...]}``, a tensor a
nested list, so a column is one ``$.name`` path away in any engine that reads
JSON (pandas, DuckDB, Spark). Feedback is one row per label: ``request_id``,
``time``, ``deployment``, ``label`` (JSON text).

Files are keyed ``predictions/<deployment>/<version>/<YYYY-MM-DDTHH>/<file>``
and ``feedback/<deployment>/<YYYY-MM-DDTHH>/<file>``, the hour in UTC.

Example:
    >>> import numpy as np, pandas as pd
    >>> jsonable(pd.DataFrame({"x": [1.5, 2.0]}))
    {'x': [1.5, 2.0]}
    >>> jsonable({"t": np.array([[1, 2]])})
    {'t': [[1, 2]]}
    >>> hour_of(0.0)
    '1970-01-01T00'
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from mloop.data.privacy import pseudonym
from mloop.serving.inputs import rows_of

PREDICTIONS = "predictions"
FEEDBACK = "feedback"

PREDICTION_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("deployment", pa.string()),
        ("model", pa.string()),
        ("version", pa.string()),
        ("protocol", pa.string()),
        ("inputs", pa.string()),
        ("outputs", pa.string()),
        ("rows", pa.int64()),
        ("latency_seconds", pa.float64()),
        ("shadow", pa.string()),
        ("status", pa.int32()),
        ("error", pa.string()),
        ("role", pa.string()),
    ]
)
FEEDBACK_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("deployment", pa.string()),
        ("label", pa.string()),
    ]
)


class Prediction(NamedTuple):
    """One answered request, as the request path hands it over (nothing converted yet).

    ``shadow`` is the shadow version's answer as a mapping (``model``,
    ``version``, ``outputs`` or ``error``, ``latency_seconds``); a failed request
    has its ``status`` and ``error`` and no ``outputs``.
    """

    request_id: str
    time: float
    deployment: str
    model: str
    version: str
    protocol: str
    inputs: Any
    outputs: Any
    latency_seconds: float
    shadow: Mapping[str, Any] | None = None
    status: int = 200
    error: str | None = None
    role: str | None = None


class Feedback(NamedTuple):
    """The ground truth for one request, arrived later."""

    request_id: str
    time: float
    deployment: str
    label: Any


def hour_of(when: float) -> str:
    """The UTC hour of an epoch time, as a partition name (``2026-12-05T22``)."""
    return time.strftime("%Y-%m-%dT%H", time.gmtime(when))


def file_name(now: float | None = None) -> str:
    """A new file's name: its UTC write time (sortable), then a random part."""
    moment = datetime.datetime.fromtimestamp(now or time.time(), datetime.UTC)
    return f"{moment:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:16]}.parquet"


def prediction_prefix(deployment: str, version: str, hour: str) -> str:
    """The folder of one deployment, version and hour."""
    return f"{PREDICTIONS}/{deployment}/{version}/{hour}/"


def feedback_prefix(deployment: str, hour: str) -> str:
    """The folder of one deployment's feedback in one hour."""
    return f"{FEEDBACK}/{deployment}/{hour}/"


def _names(columns: Any) -> list[str]:
    """A frame's column names; through Arrow, ~10x faster than ``Index.tolist()`` on strings."""
    try:  # the Index's own array: a third faster than the Index
        names = pa.array(getattr(columns, "array", columns))
    except (pa.ArrowException, TypeError, ValueError):  # names of mixed types, a MultiIndex
        return list(map(str, columns))
    if names.null_count == 0 and (
        pa.types.is_string(names.type) or pa.types.is_large_string(names.type)
    ):
        return names.to_pylist()  # type: ignore[no-any-return]
    return list(map(str, names.to_pylist()))


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready Python: frames and mappings as columns, arrays as lists."""
    if hasattr(value, "to_numpy") and hasattr(value, "columns"):  # a DataFrame
        # One array for the whole frame, not a Series per column: ~30x faster on a wide row.
        array = value.to_numpy()
        if array.dtype.kind in "mM":  # datetimes, which tolist() would give as integers
            array = array.astype(str)
        return dict(zip(_names(value.columns), array.T.tolist(), strict=True))
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas series
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


SMALL_FRAME = 256
"""Values in a numeric frame up to which its columns go to orjson as lists, not arrays."""


def json_text(value: Any) -> str:
    """JSON text for a log column, as ``to_json(jsonable(value))`` gives, in C where it can.

    The request path calls it for every answer, so it has to be cheap: a frame
    of numbers goes to orjson as one list per column when it is small (about
    10 us for a one-row request of 30 columns, most of it pandas giving up its
    names and values; orjson takes a short list faster than an array) and as
    one contiguous array per column when it is large (about ten times faster
    than lists on a 1,000-row request); arrays go as they are. Anything orjson
    does not take (object columns, datetimes, exotic dtypes) goes the Python way.

    Example:
        >>> import pandas as pd
        >>> json_text(pd.DataFrame({"x": [1.5, float("nan")], "y": [1.0, 2.5]}))
        '{"x":[1.5,null],"y":[1.0,2.5]}'
    """
    prepared: Any = value
    if hasattr(value, "to_numpy") and hasattr(value, "columns"):  # a DataFrame
        if value.size > SMALL_FRAME:
            text = _mixed_frame_text(value)
            if text is not None:
                return text
        array = value.to_numpy()
        if array.dtype.kind in "biuf":
            names = _names(value.columns)
            if array.size <= SMALL_FRAME and array.dtype != np.float32:  # orjson: 0.1, not 0.100..1
                prepared = dict(zip(names, array.T.tolist(), strict=True))
            else:
                prepared = dict(zip(names, np.ascontiguousarray(array.T), strict=True))
        else:
            prepared = None
    elif isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
        prepared = None
    if prepared is not None:
        try:
            return orjson.dumps(prepared, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        except TypeError:  # a value orjson does not know: the Python way
            pass
    return to_json(jsonable(value))


def _mixed_frame_text(frame: Any) -> str | None:
    """A large frame of numbers and objects (text, mostly) through orjson, column by column.

    Its values as the Python way gives them (a 1,000-row frame of 30 number
    columns and one of text: 16 ms in Python, about 1 ms here, on the request
    path); None for a frame of numbers only (one array serves it better) or
    with columns of other kinds (datetimes), and for values orjson does not take.
    """
    kinds = {dtype.kind for dtype in frame.dtypes}
    if "O" not in kinds or not kinds <= set("biufO"):
        return None
    columns: dict[str, Any] = {}
    for name, (_, column) in zip(_names(frame.columns), frame.items(), strict=True):
        values = column.to_numpy()
        if values.dtype.kind in "biu" or values.dtype == np.float64:
            columns[name] = np.ascontiguousarray(values)
        else:  # objects, and floats narrower than orjson's (as Python gives them)
            columns[name] = values.tolist()
    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME
    try:
        return orjson.dumps(columns, default=_default, option=option).decode()
    except TypeError:  # an integer past 64 bits, say: the Python way
        return None


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return base64.b64encode(value).decode()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def to_json(value: Any) -> str:
    """JSON text for a log column; NaN and infinities become null (JSON has neither)."""
    try:
        return json.dumps(value, default=_default, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a NaN somewhere: the slow path, only for those
        return json.dumps(_finite(value), default=_default, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def hide(value: Any, columns: frozenset[str], secret: bytes) -> Any:
    """``value`` (from :func:`jsonable`) with the named columns replaced by keyed hashes.

    Example:
        >>> hide({"email": ["a@b.io", None], "n": [1, 2]}, frozenset({"email"}), b"k")["n"]
        [1, 2]
    """
    if not columns or not isinstance(value, dict):
        return value
    hidden = dict(value)
    for name in columns.intersection(hidden):
        column = hidden[name]
        if isinstance(column, list):
            hidden[name] = [None if v is None else pseudonym(v, secret) for v in column]
        elif column is not None:
            hidden[name] = pseudonym(column, secret)
    return hidden


def prediction_row(
    record: Prediction, pii: frozenset[str], secret: bytes | None
) -> tuple[Any, ...]:
    """One prediction as a row of :data:`PREDICTION_SCHEMA`: values as JSON text, ``pii`` hashed.

    This is the whole conversion a record needs; the log calls it on the request
    path (15-20 us for a one-row request), so that its writer only builds Arrow
    columns from lists of strings and numbers.

    Example:
        >>> answer = Prediction("r1", 1.5, "credit", "credit", "3", "plain", {"x": [1]}, [5], 0.1)
        >>> row = prediction_row(answer, frozenset(), None)
        >>> row[:2], row[6:9]
        (('r1', 1500000), ('{"x":[1]}', '[5]', 1))
    """
    inputs, outputs = record.inputs, record.outputs
    if secret is not None and pii:  # hashing works on Python values, column by column
        input_text = to_json(hide(jsonable(inputs), pii, secret))
        output_text = to_json(hide(jsonable(outputs), pii, secret))
    else:
        input_text, output_text = json_text(inputs), json_text(outputs)
    return (
        record.request_id,
        int(record.time * 1_000_000),
        record.deployment,
        record.model,
        record.version,
        record.protocol,
        None if inputs is None else input_text,  # a request that failed before its body was read
        None if outputs is None else output_text,  # a request that failed
        0 if inputs is None else rows_of(inputs),
        record.latency_seconds,
        _shadow_text(record.shadow, pii, secret),
        record.status,
        record.error,
        record.role,
    )


def feedback_row(record: Feedback) -> tuple[Any, ...]:
    """One label as a row of :data:`FEEDBACK_SCHEMA`."""
    return (
        record.request_id,
        int(record.time * 1_000_000),
        record.deployment,
        to_json(jsonable(record.label)),
    )


def record_batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    """Rows (of :func:`prediction_row` or :func:`feedback_row`) as one Arrow batch of ``schema``.

    Transposing and building the arrays run in C; about 0.5 ms for 500 one-row
    predictions, which is how the writer keeps each stretch it holds the
    interpreter short.

    Example:
        >>> record_batch([("r1", 0, "credit", "1")], FEEDBACK_SCHEMA).num_rows
        1
    """
    if not rows:
        return pa.RecordBatch.from_pylist([], schema=schema)
    columns = zip(*rows, strict=True)
    arrays = [
        pa.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def prediction_table(
    records: Sequence[Prediction], pii: frozenset[str], secret: bytes | None
) -> pa.Table:
    """The Parquet table of some predictions, with the ``pii`` columns already hashed."""
    rows = [prediction_row(record, pii, secret) for record in records]
    return pa.Table.from_batches([record_batch(rows, PREDICTION_SCHEMA)], schema=PREDICTION_SCHEMA)


def _shadow_text(
    shadow: Mapping[str, Any] | None, pii: frozenset[str], secret: bytes | None
) -> str | None:
    if shadow is None:
        return None
    answer = dict(shadow)
    if "outputs" in answer:
        outputs = jsonable(answer["outputs"])
        answer["outputs"] = hide(outputs, pii, secret) if secret is not None and pii else outputs
    return to_json(answer)


def feedback_table(records: Sequence[Feedback]) -> pa.Table:
    """The Parquet table of some feedback."""
    rows = [feedback_row(record) for record in records]
    return pa.Table.from_batches([record_batch(rows, FEEDBACK_SCHEMA)], schema=FEEDBACK_SCHEMA)


def parquet_bytes(table: pa.Table) -> bytes:
    """One whole Parquet file (zstd-compressed).

    Written to an Arrow buffer, not a Python file: encoding and compressing
    then run without the interpreter's lock, while the server answers.
    """
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()  # type: ignore[no-any-return]
