"""The fluent logging functions: params, metrics, tags, artifacts, tables, inputs and outputs.

Each writes to the active run, starting one when none is active (see
:mod:`mloop.tracking.active_runs`); those taking ``run_id`` write to that run
instead. Writes are queued to the background writer unless ``synchronous``
is True, and durable at :func:`flush` or when the run ends.

Example:
    >>> import mloop
    >>> with mloop.start_run() as run:
    ...     mloop.log_params({"lr": 0.1, "depth": 3})
    ...     mloop.log_metric("loss", 0.5, step=1)
    ...     mloop.set_tag("team", "risk")
    >>> sorted(mloop.get_run(run.info.run_id).data.params)
    ['depth', 'lr']
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop.tracking import tables
from mloop.tracking.active_runs import active_run_id
from mloop.tracking.client import as_run_io
from mloop.tracking.fluent_target import current_client

if TYPE_CHECKING:
    import pandas as pd


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param of the active run (starting one if needed); returns the value.

    The ``log_*`` functions take MLflow's arguments in MLflow's order.
    ``synchronous`` (here and on ``set_tag*``) is MLflow's: True returns once
    the write is durable; False and None (the default) leave it to the
    background writer, durable at :func:`flush` or when the run ends.
    ``run_id`` logs to that run instead of the active one.
    """
    current_client().log_param(active_run_id(), key, value, synchronous)
    return value


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    """Log several params of the active run (or of ``run_id``) at once."""
    current_client().log_params(run_id or active_run_id(), params, synchronous)


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log a metric point of the active run (or of ``run_id``); durable at flush or run end."""
    if run_id is None:
        run_id = active_run_id()
    current_client().log_metric(
        run_id, key, value, step=step, timestamp=timestamp, synchronous=synchronous
    )


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
) -> None:
    """Log several metrics sharing one step, to the active run or ``run_id``."""
    current_client().log_metrics(
        run_id or active_run_id(), metrics, step=step, timestamp=timestamp, synchronous=synchronous
    )


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    """Set a tag of the active run."""
    current_client().set_tag(active_run_id(), key, value, synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    """Set several tags of the active run."""
    current_client().set_tags(active_run_id(), tags, synchronous)


def delete_tag(key: str) -> None:
    """Remove a tag of the active run."""
    current_client().delete_tag(active_run_id(), key)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Store a file or folder as an artifact of the active run."""
    current_client().log_artifact(active_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Store a folder's contents as artifacts of the active run."""
    current_client().log_artifacts(active_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    """Store a string as a text artifact of the active run."""
    current_client().log_text(active_run_id(), text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> None:
    """Store a mapping as a JSON (or YAML) artifact of the active run."""
    current_client().log_dict(active_run_id(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Store a matplotlib figure as an image artifact of the active run."""
    current_client().log_figure(active_run_id(), figure, artifact_file)


def log_input(item: object, context: str | None = None) -> None:
    """Record that the active run consumed ``item`` (anything with a ``digest``)."""
    record = as_run_io(item, "input")
    if context:
        record = dataclasses.replace(record, context=context)
    current_client().log_inputs(active_run_id(), [record])


def log_output(item: object) -> None:
    """Record that the active run produced ``item`` (anything with a ``digest``)."""
    current_client().log_inputs(active_run_id(), [item], direction="output")


def log_table(
    data: Mapping[str, Sequence[Any]] | pd.DataFrame, artifact_file: str, run_id: str | None = None
) -> None:
    """Store a table (a DataFrame, or a mapping of column to values) as a JSON artifact."""
    tables.log_table(current_client(), run_id or active_run_id(), data, artifact_file)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    *,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
) -> None:
    """Store an image (numpy array or PIL image) at ``artifact_file``, or under ``key`` by step."""
    tables.log_image(
        current_client(),
        active_run_id(),
        image,
        artifact_file,
        key=key,
        step=step,
        timestamp=timestamp,
    )


def flush() -> None:
    """Write everything buffered; returns when it is durable."""
    current_client().flush()
