"""Reading the prediction log back: one deployment's predictions as a table, joined to feedback.

Example:
    >>> from mloop.artifacts.objects.schemes import open_object_store
    >>> from mloop.serving.log_records import Prediction, Feedback
    >>> from mloop.serving.prediction_log import PredictionLog, PredictionLogSettings
    >>> log = PredictionLog(open_object_store("memory://log-reading-doc"), PredictionLogSettings())
    >>> answer = Prediction("r1", 60.0, "credit", "credit", "3", "plain", {"x": [1]}, [1], 0.0)
    >>> _ = log.record(answer)
    >>> _ = log.record(Feedback("r1", 90.0, "credit", 0))
    >>> log.close()
    >>> table = predictions("credit", uri="memory://log-reading-doc")
    >>> table[["request_id", "version", "inputs", "outputs", "label"]].to_dict("records")
    [{'request_id': 'r1', 'version': '3', 'inputs': {'x': [1]}, 'outputs': [1], 'label': 0}]
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from mloop.artifacts.objects.base import ObjectStore
from mloop.errors import InvalidInput
from mloop.models.uris import check_model_name
from mloop.serving.log_records import (
    FEEDBACK,
    FEEDBACK_SCHEMA,
    PREDICTION_SCHEMA,
    PREDICTIONS,
    hour_of,
)
from mloop.serving.prediction_log import log_objects

if TYPE_CHECKING:
    import pandas as pd

    from mloop.context import Context

When = datetime.datetime | str | None


def _moment(value: When, name: str) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"{name}={value!r} is not an ISO date or time (2026-12-05T22:00)"
            ) from None
    if not isinstance(value, datetime.datetime):
        raise InvalidInput(f"{name} must be a datetime or an ISO string, got {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _files(objects: ObjectStore, prefix: str, hour_at: int, first: str, last: str) -> Iterator[str]:
    for info in objects.list(prefix):
        if not info.key.endswith(".parquet"):
            continue
        parts = info.key.split("/")
        if len(parts) > hour_at and first <= parts[hour_at] <= last:
            yield info.key


def _hours(start: datetime.datetime, end: datetime.datetime | None) -> list[str]:
    """The hour partitions from ``start``'s to ``end``'s (or now's), oldest first."""
    last = (end or datetime.datetime.now(datetime.UTC)).timestamp()
    hour = int(start.timestamp() // 3600)
    found = []
    while hour * 3600 <= last:
        found.append(hour_of(hour * 3600.0))
        hour += 1
    return found


def _read(objects: ObjectStore, keys: list[str], schema: pa.Schema) -> pa.Table:
    tables = [
        _conformed(pq.read_table(pa.BufferReader(objects.get_bytes(key))), schema)
        for key in sorted(keys)
    ]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns: those an older writer did not have are null."""
    if table.schema.names == schema.names:
        return table
    columns = [
        table.column(field.name).cast(field.type)
        if field.name in table.schema.names
        else pa.nulls(table.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _parse(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else None


def predictions(
    deployment: str,
    since: When = None,
    until: When = None,
    with_feedback: bool = True,
    *,
    versions: Sequence[str] | None = None,
    context: Context | None = None,
    uri: str | None = None,
) -> pd.DataFrame:
    """The logged predictions of ``deployment`` from ``since`` until before ``until``, oldest first.

    One row per answered request: ``request_id``, ``time`` (UTC), ``deployment``,
    ``model``, ``version``, ``protocol``, ``inputs`` and ``outputs`` (decoded from
    their JSON), ``rows``, ``latency_seconds``, ``shadow`` (decoded), ``status``,
    ``error`` (failed requests have no outputs) and ``role`` (``primary``,
    ``canary`` or ``direct``); with feedback, also
    ``label`` and ``label_time`` (the latest label sent for the request, or null).
    Only the hourly partitions in range are read.

    Args:
        deployment: the served model's name (a deployment's, when deployments exist).
        since: the first time to include (a datetime or ISO string; naive means UTC).
        until: the first time to leave out.
        with_feedback: join the labels sent to ``POST /feedback``.
        versions: only these versions' predictions (their labels, as in
            ``x-model-version``); with ``since``, only their folders of the hours in
            range are listed, however long the log is.
        context: whose artifact store holds the log (default: the process's).
        uri: the log's root when the server wrote it elsewhere (``--prediction-log-uri``).

    Example:
        >>> import mloop.serving
        >>> mloop.serving.predictions("credit", since="2026-12-05T00:00")  # doctest: +SKIP

    Raises:
        InvalidInput: a bad deployment name or time.
    """
    import pandas as pd

    check_model_name(deployment)
    start, end = _moment(since, "since"), _moment(until, "until")
    objects = log_objects(context, uri)
    first = hour_of(start.timestamp()) if start else ""
    last = hour_of(end.timestamp()) if end else "~"
    if versions is not None and start is not None:
        hours = _hours(start, end)
        keys = [
            key
            for version in versions
            for hour in hours
            for key in _files(objects, f"{PREDICTIONS}/{deployment}/{version}/{hour}/", 3, "", "~")
        ]
    else:
        keys = list(_files(objects, f"{PREDICTIONS}/{deployment}/", 3, first, last))
        if versions is not None:  # predictions/<deployment>/<version>/<hour>/<file>
            keys = [key for key in keys if key.split("/")[2] in set(versions)]
    frame = _read(objects, keys, PREDICTION_SCHEMA).to_pandas()
    if start is not None:
        frame = frame[frame["time"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["time"] < pd.Timestamp(end)]
    frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    for column in ("inputs", "outputs", "shadow"):
        frame[column] = frame[column].map(_parse).astype(object)
    if not with_feedback:
        return frame  # type: ignore[no-any-return]
    # Feedback comes after the prediction it labels, so only its hours from ``since`` on count.
    feedback_keys = list(_files(objects, f"{FEEDBACK}/{deployment}/", 2, first, "~"))
    labels = _read(objects, feedback_keys, FEEDBACK_SCHEMA).to_pandas()
    labels = labels.sort_values("time", kind="stable").drop_duplicates("request_id", keep="last")
    labels = labels.rename(columns={"time": "label_time"})[["request_id", "label", "label_time"]]
    labels["label"] = labels["label"].map(_parse).astype(object)
    return frame.merge(labels, on="request_id", how="left")  # type: ignore[no-any-return]
