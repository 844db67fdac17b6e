"""Labels joined to predictions: one row per prediction of the prediction log, with its label.

The prediction log (``mloop.serving.predictions``) holds one row per answered
request; a request may carry several rows, so its ``outputs`` and its
``label`` may be lists. :func:`join_labels` turns it into one row per
prediction, with the labels of a labels table (a file or a dataset read
into a DataFrame) over those sent as feedback, ready for
:func:`mloop.monitoring.realised_performance.windowed_performance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mloop.errors import InvalidInput


def is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing value: ``None``, ``NaN``, ``pd.NA`` or ``NaT``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def check_columns(table: Any, columns: Sequence[str], name: str) -> None:
    """Refuse ``table`` unless it is a DataFrame with ``columns``; errors call it ``name``."""
    if not isinstance(table, pd.DataFrame):
        raise InvalidInput(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    absent = [column for column in columns if column not in table.columns]
    if absent:
        raise InvalidInput(
            f"{name} has no column {absent[0]!r}; its columns are {list(table.columns)}"
        )


def as_list(value: Any) -> list[Any]:
    """A list or array as a list, anything else as a list of itself."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray):
        return list(value.tolist())
    return [value]


def _picked(outputs: Any, name: str | None, what: str, request: Any) -> list[Any]:
    """A request's predictions (or scores): its outputs, or their ``name`` key in a mapping."""
    if isinstance(outputs, dict):
        if name is None or name not in outputs:
            hint = (
                f"give {what}= (one of {sorted(outputs)})"
                if name is None
                else f"it has {sorted(outputs)}"
            )
            raise InvalidInput(
                f"request {request!r}: outputs are a mapping with no key {name!r}; {hint}"
            )
        return as_list(outputs[name])
    if name is not None:
        raise InvalidInput(
            f"request {request!r}: {what}={name!r} names a key, but its outputs are not a mapping"
        )
    return as_list(outputs)


def join_labels(
    predictions: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    *,
    key: str = "request_id",
    label_column: str = "label",
    output: str | None = None,
    score: str | None = None,
) -> pd.DataFrame:
    """One row per prediction, with its label: the prediction log joined to a labels table.

    ``predictions`` has the columns of ``mloop.serving.predictions`` (at least
    ``key`` and ``outputs``; ``label`` when feedback was joined). A request
    that carried several rows has a list of outputs and, when labelled, a
    list of labels of the same length; it becomes one row per prediction,
    the request's other columns repeated, numbered by ``position`` (0, 1,
    ...). Requests without outputs (those that failed) are left out.

    Labels come from the feedback already in the ``label`` column and from
    ``labels``, a table of ``key`` and ``label_column`` (a file or a dataset
    read into a DataFrame). Where both label a request, the ``labels`` table
    wins: it is the deliberate, usually later and curated, ground truth.

    Args:
        predictions: the prediction log table.
        labels: a table of request ids and labels, one row per request.
        key: the column that names a request in both tables.
        label_column: the column of ``labels`` that holds the label.
        output: when outputs are a mapping of columns (``{"label": [...],
            "proba": [...]}``), the one holding the predictions.
        score: likewise, the one holding the scores, copied to ``score``.

    Returns:
        The rows of ``predictions`` without ``outputs``, with ``position``,
        ``prediction``, ``label`` (``None`` where unlabelled) and, with
        ``score``, ``score``.

    Raises:
        InvalidInput: a table or column missing, a labels table with a
            missing or repeated key, key columns of different kinds, an
            ``output``/``score`` key absent, or a request whose labels and
            predictions are not as many.

    Example:
        >>> import pandas as pd
        >>> log = pd.DataFrame(
        ...     {"request_id": ["a", "b"], "outputs": [[1, 0], [1]], "label": [[1, 1], None]}
        ... )
        >>> joined = join_labels(log, pd.DataFrame({"request_id": ["b"], "label": [0]}))
        >>> columns = ["request_id", "position", "prediction", "label"]
        >>> joined[columns].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
        {'request_id': ['a', 'a', 'b'], 'position': [0, 1, 0],
         'prediction': [1, 0, 1], 'label': [1, 1, 0]}
    """
    check_columns(predictions, [key, "outputs"], "predictions")
    answered = np.array([not is_missing(value) for value in predictions["outputs"]], dtype=bool)
    frame = predictions.loc[answered]
    given = (
        frame["label"]
        if "label" in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    if labels is not None:
        check_columns(labels, [key, label_column], "labels")
        if labels[key].isna().any():
            raise InvalidInput(f"labels has rows without a {key!r}; drop them first")
        repeated = labels[key][labels[key].duplicated()]
        if len(repeated):
            raise InvalidInput(
                f"labels has {key!r} {repeated.iloc[0]!r} more than once; "
                "keep one label per request"
            )
        kinds = {pd.api.types.infer_dtype(side[key], skipna=True) for side in (frame, labels)}
        if len(kinds - {"empty"}) > 1:
            raise InvalidInput(
                f"the {key!r} columns of predictions and labels hold different kinds of "
                f"values ({' and '.join(sorted(kinds))}); convert one to the other's"
            )
        lookup = dict(zip(labels[key], labels[label_column], strict=True))
        wanted = [lookup.get(request) for request in frame[key]]
        given = pd.Series(
            [new if not is_missing(new) else old for new, old in zip(wanted, given, strict=True)],
            index=frame.index,
            dtype=object,
        )
    predicted, truths, scores = [], [], []
    for request, outputs, truth in zip(frame[key], frame["outputs"], given, strict=True):
        values = _picked(outputs, output, "output", request)
        if not isinstance(truth, (list, tuple, np.ndarray)) and is_missing(truth):
            truth = [None] * len(values)
        truth = as_list(truth)
        if len(truth) != len(values):
            raise InvalidInput(
                f"request {request!r} has {len(values)} predictions and {len(truth)} labels; "
                "a request's labels must be as many as its rows"
            )
        predicted.append(values)
        truths.extend(truth)
        if score is not None:
            found = _picked(outputs, score, "score", request)
            if len(found) != len(values):
                raise InvalidInput(
                    f"request {request!r} has {len(values)} predictions and {len(found)} scores"
                )
            scores.extend(found)
    counts = [len(values) for values in predicted]
    rows = frame.drop(columns=[c for c in ("outputs", "label") if c in frame.columns])
    rows = rows.iloc[np.repeat(np.arange(len(rows)), counts)].reset_index(drop=True)
    rows["position"] = (
        np.concatenate([np.arange(n) for n in counts]).astype(np.int64) if counts else []
    )
    rows["prediction"] = pd.Series([v for values in predicted for v in values], dtype=object)
    rows["label"] = pd.Series(truths, dtype=object)
    if score is not None:
        rows["score"] = pd.Series(scores, dtype=object)
    return rows
