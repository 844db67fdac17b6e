"""Batch scoring on Ray: Ray Data reads the input and scores it on a pool of actors.

Each actor loads the model once and scores the chunks it is given, checked
against the signature as the local path checks them. The scored chunks come
back in input order and are written by the caller into the one output file
(the output is a single file on the caller's machine, so it is written there).
Ray is started locally when no cluster is running, as the pipelines' Ray
executor does.

Example:
    >>> score_on_ray.__name__  # needs ``pip install 'mloop[ray]'`` to run
    'score_on_ray'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv

from mloop import errors, models
from mloop.config import Settings
from mloop.errors import IntegrityError, MissingExtra, MloopError
from mloop.pipelines.tasks import worker_client, worker_settings
from mloop.serving.batch_chunks import score_chunk
from mloop.serving.batch_io import PARQUET, table_format
from mloop.tracking import fluent

_ERROR: Final = "__mloop_error__"
_MESSAGE: Final = "__mloop_error_message__"


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise MissingExtra("batch scoring on Ray", extra="ray") from None
    return ray


class _Scorer:
    """A Ray Data actor: loads the model once, then scores each batch it is handed."""

    def __init__(
        self, settings: Settings, model_uri: str, digest: str, keep: Sequence[str] | None
    ) -> None:
        worker_client(settings)
        self.model = models.load(model_uri)
        if self.model.digest != digest:  # an alias moved while the scoring started
            raise IntegrityError(
                f"{model_uri} is package {self.model.digest[:12]} on a Ray worker but was "
                f"{digest[:12]} when the scoring started: pin a version (models:/NAME/VERSION)"
            )
        self.keep = keep

    def __call__(self, batch: pa.Table) -> pa.Table:
        try:
            return score_chunk(self.model, batch, "a chunk of rows", self.keep)
        except MloopError as err:
            # Returned, not raised: Ray would wrap it past recognition (its type, its message).
            return pa.table({_ERROR: [type(err).__name__], _MESSAGE: [str(err)]})


def _dataset(ray: Any, files: Sequence[Path], types: Mapping[str, pa.DataType]) -> Any:
    convert = pa_csv.ConvertOptions(column_types=dict(types))  # as the local reader reads
    parquet = [str(f) for f in files if table_format(f) == PARQUET]
    csv = [str(f) for f in files if table_format(f) != PARQUET]
    parts = ([ray.data.read_parquet(parquet)] if parquet else []) + (
        [ray.data.read_csv(csv, convert_options=convert)] if csv else []
    )
    return parts[0] if len(parts) == 1 else parts[0].union(*parts[1:])


def _raise_if_failed(batch: pa.Table) -> None:
    """Raise the mloop error a worker returned in place of a scored chunk."""
    if _ERROR not in batch.column_names:
        return
    kind = getattr(errors, batch.column(_ERROR)[0].as_py(), MloopError)
    if not (isinstance(kind, type) and issubclass(kind, MloopError)):
        kind = MloopError
    raise kind(batch.column(_MESSAGE)[0].as_py())


def score_on_ray(
    model_uri: str,
    digest: str,
    files: Sequence[Path],
    chunk_rows: int,
    keep: Sequence[str] | None,
    types: Mapping[str, pa.DataType],
) -> Iterator[pa.Table]:
    """Scored chunks of ``files``, in input order, computed by Ray Data actors.

    Raises:
        MissingExtra: Ray is not installed.
        InvalidInput: a chunk the signature refuses (as the local path, without row numbers).
    """
    ray = _import_ray()
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=True)
    with warnings.catch_warnings():
        # Ray Data's context sets its own deprecated defaults when first made (Ray 2.60).
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
        context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # the output's rows in the input's order
    settings = worker_settings(fluent.current_client())
    workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    scored = _dataset(ray, files, types).map_batches(
        _Scorer,
        fn_constructor_args=(settings, model_uri, digest, keep),
        batch_size=chunk_rows,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=workers),
    )
    for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
        _raise_if_failed(batch)
        yield batch
