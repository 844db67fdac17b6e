"""Profiles of large tables on Ray: each block profiled where it is read, then merged.

:func:`profile_on_ray` reads a table with Ray Data (Parquet, CSV or JSON-lines
files, or a DataFrame), profiles every block on the cluster's workers, and
merges the block profiles as they come back: the result equals
:func:`~mloop.monitoring.profiles.profile` of the whole table, and the
driver holds one merged profile and one block's at a time, never the rows.
Ray is started locally when no cluster is running, or joined at ``address``.

Example:
    >>> profile_on_ray.__name__  # needs ``pip install 'mloop[ray]'`` to run
    'profile_on_ray'
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mloop.errors import InvalidInput, MissingExtra
from mloop.monitoring.profiles import TableProfile, profile

_READERS = {
    ".parquet": "read_parquet",
    ".csv": "read_csv",
    ".jsonl": "read_json",
    ".json": "read_json",
}


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise MissingExtra("profiling on Ray", extra="ray") from None
    return ray


class _BlockProfiler:
    """Profile one block of rows; the profile travels back as its bytes."""

    def __init__(self, columns: Sequence[Hashable] | None, skip_unsupported: bool) -> None:
        self.columns = columns
        self.skip_unsupported = skip_unsupported

    def __call__(self, block: pd.DataFrame) -> pd.DataFrame:
        found = profile(block, self.columns, skip_unsupported=self.skip_unsupported)
        return pd.DataFrame({"profile": [found.to_bytes()]})


def profile_on_ray(
    source: pd.DataFrame | Sequence[str | Path],
    columns: Sequence[Hashable] | None = None,
    *,
    address: str | None = None,
    skip_unsupported: bool = False,
) -> TableProfile:
    """The profile of a table, computed block by block on Ray and merged.

    Args:
        source: a DataFrame, or the paths of Parquet, CSV or JSON-lines files
            (one table: the same columns in each).
        columns: the columns to profile; all by default.
        address: a running Ray cluster's address; by default the one this
            process is connected to, or a local Ray started for it.
        skip_unsupported: as :func:`~mloop.monitoring.profiles.profile`'s.

    Raises:
        InvalidInput: no files, a file that is not a table, or what
            :func:`~mloop.monitoring.profiles.profile` refuses.
        MissingExtra: Ray is not installed (``pip install 'mloop[ray]'``).
    """
    dataset = _dataset(source, address)
    merged: TableProfile | None = None
    for row in dataset.map_batches(
        _BlockProfiler,
        fn_constructor_args=(columns, skip_unsupported),
        batch_format="pandas",
        batch_size=None,
        concurrency=1,
    ).iter_rows():
        block = TableProfile.from_bytes(row["profile"])
        merged = block if merged is None else merged.merge(block)
    if merged is None:
        raise InvalidInput("the table has no rows: there is nothing to profile")
    return merged


def _dataset(source: pd.DataFrame | Sequence[str | Path], address: str | None) -> Any:
    if isinstance(source, (str, Path)):
        raise InvalidInput(f"give a list of files, not one path: [{str(source)!r}]")
    if not isinstance(source, pd.DataFrame):
        paths = [Path(item) for item in source]
        if not paths:
            raise InvalidInput("no files to profile")
        kinds = {path.suffix.lower() for path in paths}
        unknown = sorted(kinds - set(_READERS))
        if unknown or len({_READERS[kind] for kind in kinds - set(unknown)}) > 1:
            raise InvalidInput(
                "profile on Ray reads files of one kind, Parquet, CSV or JSON lines; "
                f"got {sorted(kinds)}"
            )
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise InvalidInput(f"no file at {missing[0]!r}")
    ray = _import_ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    with warnings.catch_warnings():
        # Ray Data's context sets its own deprecated defaults when first made.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
        ray.data.DataContext.get_current()
    if isinstance(source, pd.DataFrame):
        if source.empty:
            raise InvalidInput("the table has no rows: there is nothing to profile")
        return ray.data.from_pandas(source)
    reader = getattr(ray.data, _READERS[paths[0].suffix.lower()])
    return reader([str(path) for path in paths])
