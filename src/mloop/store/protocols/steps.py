"""The storage seam of the step cache: a step run's outputs, by the key of what determined them.

The key is computed above this seam (:func:`mloop.pipelines.cache.cache_key`);
the store only keeps ``key -> (run id, outputs)``, where ``outputs`` is a
JSON-compatible mapping the pipeline runner reads back as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class StepCacheStore(Protocol):
    """Cached step runs by cache key.

    Contract:
    - ``get`` returns ``(run id, outputs)`` as last put, or None for an unknown key;
    - ``put_many`` writes every entry in one transaction, replacing any entry
      with the same key; an empty mapping writes nothing;
    - ``forget`` drops an entry; an unknown key is no error.
    """

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """``(run id, outputs)`` cached under ``key``, or None."""

    def put_many(self, entries: Mapping[str, tuple[str, Mapping[str, Any]]]) -> None:
        """Remember (or replace) ``{key: (run id, outputs)}`` in one transaction."""

    def forget(self, key: str) -> None:
        """Drop the entry under ``key``, if any."""
