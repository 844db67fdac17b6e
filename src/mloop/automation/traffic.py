"""The data a monitor looks at: a deployment's traffic, or a dataset's newest version, in a window.

A target is ``deployment:NAME`` (the requests the deployment answered, from
its prediction log) or ``dataset:NAME`` (the newest version of the dataset
added in the window). :func:`read_window` returns the window's rows as a
table of model inputs, one row per predicted row, with the prediction log
beside it for the checks that read outputs and labels.

Example:
    >>> parse_target("deployment:credit-api")
    Target(kind='deployment', name='credit-api')
    >>> parse_target("credit-api")
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: target 'credit-api' must be 'deployment:NAME' or 'dataset:NAME'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from mloop import data
from mloop.context.context import Context
from mloop.data.refs import check_name
from mloop.errors import InvalidInput
from mloop.models.uris import check_model_name
from mloop.serving import log_reading

KINDS = ("deployment", "dataset")


@dataclasses.dataclass(frozen=True)
class Target:
    """What a monitor watches: a deployment's traffic or a dataset's versions."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def parse_target(text: str) -> Target:
    """``deployment:NAME`` or ``dataset:NAME``, checked."""
    kind, sep, name = text.partition(":") if isinstance(text, str) else ("", "", "")
    if not sep or kind not in KINDS or not name:
        raise InvalidInput(f"target {text!r} must be 'deployment:NAME' or 'dataset:NAME'")
    if kind == "deployment":
        check_model_name(name)
    else:
        check_name(name)
    return Target(kind, name)


@dataclasses.dataclass(frozen=True)
class Window:
    """The rows of one window of a target.

    Attributes:
        start: the first moment in the window (UTC).
        end: the first moment after it.
        features: the model inputs, one row per predicted row (a dataset's rows).
        log: the prediction log of the window (deployments), one row per request.
        model_versions: the versions that answered in the window (``credit/3``).
        source: what the rows are, for a person (``dataset credit@4``).
        row_versions: the version that answered each row of ``features``
            (``credit/3``; empty text for a failed request), for deployments.
    """

    start: datetime
    end: datetime
    features: pd.DataFrame
    log: pd.DataFrame | None
    model_versions: list[str]
    source: str
    row_versions: list[str] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> int:
        """The rows of the window."""
        return len(self.features)

    @property
    def answered(self) -> pd.DataFrame:
        """The rows a model answered (all of a dataset's): what drift compares.

        A request the server refused (a text where a number belongs) is in
        :attr:`features` for the data-quality check, not here.
        """
        if not self.row_versions:
            return self.features
        answered = self.features[[bool(version) for version in self.row_versions]]
        return answered.infer_objects()  # a refused row of text made its column text


def read_window(target: Target, start: datetime, end: datetime, context: Context) -> Window:
    """The rows of ``target`` from ``start`` until before ``end``."""
    if target.kind == "deployment":
        return _deployment_window(target.name, start, end, context)
    return _dataset_window(target.name, start, end, context)


def _deployment_window(name: str, start: datetime, end: datetime, context: Context) -> Window:
    log = log_reading.predictions(name, since=start, until=end, context=context)
    labels = [
        f"{model}/{version}" if status == 200 else ""
        for model, version, status in zip(log["model"], log["version"], log["status"], strict=True)
    ]
    features, requests = inputs_table(log["inputs"])
    row_versions = [labels[index] for index in requests]
    versions = sorted({label for label in labels if label})
    return Window(start, end, features, log, versions, f"deployment {name}", row_versions)


def inputs_table(inputs: pd.Series[Any]) -> tuple[pd.DataFrame, list[int]]:
    """The requests' inputs (each a mapping of columns to lists) as one table of rows.

    Returns the table and, for each of its rows, the position of its request.
    Inputs that are not a mapping of columns (tensors, a failed request's
    nothing), or whose columns differ in length, are left out; a column a
    request lacks is missing in its rows.

    Example:
        >>> table, requests = inputs_table(pd.Series([{"x": [1, 2]}, None, {"x": [3], "s": ["a"]}]))
        >>> table.to_dict("list"), requests
        ({'x': [1, 2, 3], 's': [nan, nan, 'a']}, [0, 0, 2])
    """
    columns: dict[str, list[Any]] = {}
    requests: list[int] = []
    rows = 0
    for position, item in enumerate(inputs):
        if not isinstance(item, Mapping) or not item:
            continue
        values = {
            str(key): value if isinstance(value, list) else [value] for key, value in item.items()
        }
        sizes = {len(column) for column in values.values()}
        if len(sizes) != 1:  # columns of different lengths: no rows can be made of it
            continue
        size = sizes.pop()
        for key in values.keys() - columns.keys():
            columns[key] = [None] * rows
        for key, column in columns.items():
            column.extend(values.get(key, [None] * size))
        requests.extend([position] * size)
        rows += size
    return pd.DataFrame(columns), requests


def _dataset_window(name: str, start: datetime, end: datetime, context: Context) -> Window:
    since, until = start.timestamp() * 1000, end.timestamp() * 1000
    added = [v for v in data.versions(name, context=context) if since <= v.created_time < until]
    if not added:
        return Window(start, end, pd.DataFrame(), None, [], f"dataset {name} (no version added)")
    newest = added[-1]
    frame = data.get(f"{name}@{newest.version}", context=context).to_pandas()
    return Window(start, end, frame, None, [], f"dataset {name}@{newest.version}")
