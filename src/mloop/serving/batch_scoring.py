"""Batch scoring: a model over a Parquet or CSV file (or a dataset version), chunk by chunk.

:func:`predict_batch` reads the input in chunks of ``chunk_rows`` rows, checks
each against the model's signature, predicts, and writes the input's columns
with the answers appended to a Parquet or CSV file: the output appears whole
at the end or not at all. The scoring is a tracked run (experiment
``batch-scoring`` unless named) that records the model and the input dataset
as its inputs and the rows and seconds as metrics; ``register`` adds the output
as a dataset version that run produced. ``executor="ray"`` spreads the chunks
over a Ray cluster (Ray Data, ``pip install 'mloop[ray]'``).

Example:
    >>> import mloop
    >>> result = mloop.serving.predict_batch(
    ...     "models:/credit@champion", "credit@latest", "scores.parquet", register="credit-scores"
    ... )  # doctest: +SKIP
    >>> result.rows, result.dataset  # doctest: +SKIP
    (120000, 'credit-scores@1')
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Final

import pyarrow as pa

from mloop import data as datasets
from mloop import models
from mloop.data.refs import check_name
from mloop.entities import RunIO
from mloop.errors import InvalidInput, NotFound
from mloop.models.loaded import LoadedModel
from mloop.serving.batch_chunks import score_chunk
from mloop.serving.batch_io import TableWriter, count_rows, csv_types, read_chunks, table_files
from mloop.tracking import fluent
from mloop.tracking.client import experiment_named

DEFAULT_EXPERIMENT: Final = "batch-scoring"
DEFAULT_CHUNK_ROWS: Final = 10_000
EXECUTORS: Final = ("local", "ray")

Progress = Callable[[int, "int | None"], None]
"""Called with ``(rows done, rows in all or None)`` after each chunk."""


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """What a batch scoring did.

    Attributes:
        output: the file written.
        rows: rows scored.
        seconds: time taken, from the first chunk read to the output in place.
        run_id: the tracked run of the scoring.
        dataset: the dataset version the output was added as (``name@version``), if any.
    """

    output: Path
    rows: int
    seconds: float
    run_id: str
    dataset: str | None = None


@dataclasses.dataclass(frozen=True)
class _Input:
    files: list[Path]
    dataset: datasets.Dataset | None


def _resolve_input(source: str | os.PathLike[str]) -> _Input:
    """A file or folder when one is there, else a dataset version (``credit@3``)."""
    text = os.fspath(source)
    if Path(text).exists():
        return _Input(table_files(text), None)
    if "@" not in text:
        raise NotFound(
            f"no file or folder {text!r} (a dataset version is named NAME@VERSION, e.g. "
            "credit@latest)"
        )
    version = datasets.get(text)
    try:
        files = table_files(version.path)
    except InvalidInput:
        raise InvalidInput(
            f"dataset {version.ref} holds no Parquet or CSV files to score"
        ) from None
    return _Input(files, version)


def predict_batch(
    model_uri: str,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    keep: Sequence[str] | None = None,
    register: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    executor: str = "local",
    progress: Progress | None = None,
) -> BatchResult:
    """Score ``input`` with the model at ``model_uri`` into ``output``, ``chunk_rows`` at a time.

    ``input`` is a Parquet file or folder, a CSV file, or a dataset version
    (``credit@3``, ``credit@latest``); ``output`` a ``.parquet`` or ``.csv``
    file, replaced whole at the end (its folder must exist). Each chunk is
    checked against the model's signature as ``predict`` checks it. The output
    holds the input's columns (only those in ``keep`` when given; ``keep=[]``
    for the answers alone) and the answers: a ``prediction`` column, or the
    model's own columns when it answers with a DataFrame.

    Example:
        >>> import mloop
        >>> mloop.serving.predict_batch(
        ...     "models:/credit/3", "applicants.csv", "scores.csv", keep=["id"], chunk_rows=5000
        ... ).rows  # doctest: +SKIP
        20000

    Raises:
        InvalidInput: an output or input of another format, a bad ``chunk_rows``,
            ``executor`` or dataset name, or rows the signature refuses (named by
            column and row range, counted from 0); nothing is written.
        NotFound: no model at ``model_uri``, no input, or no folder for the output.
        MissingExtra: ``executor="ray"`` without Ray installed.
    """
    if chunk_rows < 1:
        raise InvalidInput(f"chunk_rows must be at least 1, got {chunk_rows}")
    if executor not in EXECUTORS:
        raise InvalidInput(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if register is not None:
        check_name(register)
    TableWriter(output)  # the output's format and folder, checked before anything is read
    source = _resolve_input(input)
    model = models.load(model_uri)
    client = fluent.current_client()
    experiment_id = experiment_named(client, experiment).experiment_id
    with fluent.start_run(experiment_id=experiment_id, nested=True) as run:
        fluent.log_params(
            {
                "model_uri": model_uri,
                "input": os.fspath(input),
                "output": os.fspath(output),
                "chunk_rows": chunk_rows,
                "executor": executor,
            }
        )
        fluent.log_input(RunIO(model.digest, model_uri, "model", "input", model.uri))
        if source.dataset is not None:
            fluent.log_input(source.dataset)
        started = time.perf_counter()
        rows = _score(model, model_uri, source.files, output, chunk_rows, keep, executor, progress)
        seconds = time.perf_counter() - started
        fluent.log_metrics(
            {"rows": rows, "seconds": seconds, "rows_per_second": rows / max(seconds, 1e-9)}
        )
        added = datasets.add(output, name=register) if register is not None else None
    return BatchResult(
        Path(output), rows, seconds, run.info.run_id, added.ref if added is not None else None
    )


def _score(
    model: LoadedModel,
    model_uri: str,
    files: list[Path],
    output: str | os.PathLike[str],
    chunk_rows: int,
    keep: Sequence[str] | None,
    executor: str,
    progress: Progress | None,
) -> int:
    total = count_rows(files)
    with TableWriter(output) as writer:
        if executor == "ray":
            from mloop.serving.batch_ray import score_on_ray  # Ray loads only when asked for

            chunks = score_on_ray(
                model_uri, model.digest, files, chunk_rows, keep, csv_types(model.signature)
            )
        else:
            chunks = _score_locally(model, files, chunk_rows, keep)
        for chunk in chunks:
            writer.write(chunk)
            if progress is not None:
                progress(writer.rows, total)
        return writer.rows


def _score_locally(
    model: LoadedModel, files: list[Path], chunk_rows: int, keep: Sequence[str] | None
) -> Iterator[pa.Table]:
    first = 0
    for chunk in read_chunks(files, chunk_rows, csv_types(model.signature)):
        where = f"rows {first}-{first + chunk.num_rows - 1}"
        yield score_chunk(model, chunk, where, keep)
        first += chunk.num_rows
