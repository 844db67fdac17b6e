"""Moving references and the step cache: a cached output is reused only while its refs hold.

Two things make a step's cached output stale without any change to its code,
params or inputs: a param that names a dataset by a reference that moves
(``bc@latest``, a tag, a bare name), and a dataset or model the step reads by
such a reference inside its body (``mloop.data.get("bc@latest")``,
``mloop.models.load("models:/credit@champion")``).

- :func:`key_params` resolves string params that name a dataset to the version
  they name now, before the cache key is made: a new version gives a new key.
- Each step's reads (recorded through :mod:`mloop.tracking.reads`) are kept
  with its cache entry and recorded as its run's inputs; :func:`still_current`
  says whether each recorded reference still names what it named then. A
  cached entry is used only if so.

Example:
    >>> key_params({"lr": 0.1, "optimizer": 3})
    {'lr': 0.1, 'optimizer': 3}
    >>> still_current([])
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mloop.data.api import get as get_dataset
from mloop.errors import MloopError
from mloop.tracking.reads import Read

READS_KEY = "mloop.reads"
"""Where a cache entry keeps its step's reads (no output name holds a dot)."""


def _dataset_digest(ref: str) -> str | None:
    """The digest of the dataset version ``ref`` names now, or None (not a dataset)."""
    try:
        digest: str = get_dataset(ref).digest
        return digest
    except MloopError:  # not a reference (InvalidInput), or no such dataset (NotFound)
        return None


def _model_digest(ref: str) -> str | None:
    # Imported on first use, measured: the models layer (numpy with it) adds about 175 ms,
    # +30 %, to `import mloop.pipelines`, which every script with an @mloop.step pays.
    from mloop.models.backend import backend
    from mloop.models.fetch import locate
    from mloop.models.uris import parse_model_uri

    try:
        return locate(backend(), parse_model_uri(ref), ref).digest
    except MloopError:
        return None


def key_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params for the cache key: a string naming a dataset also carries its version's digest.

    A string that is no dataset reference, or names no dataset, stays as it is.
    """
    keyed: dict[str, Any] = {}
    for name, value in params.items():
        digest = _dataset_digest(value) if isinstance(value, str) and value else None
        keyed[name] = value if digest is None else {"ref": value, "dataset": digest}
    return keyed


def still_current(recorded: Sequence[Read]) -> bool:
    """Whether every recorded reference still names the dataset version or package it named."""
    for read in recorded:
        resolve = _dataset_digest if read.kind == "dataset" else _model_digest
        if resolve(read.ref) != read.digest:
            return False
    return True
