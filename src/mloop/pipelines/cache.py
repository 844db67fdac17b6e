"""The step cache: a successful step run's outputs, by the hash of what determined them.

The key covers the step's source code, its literal params, the digests of its
inputs and the materializers of its outputs, so changing any of them runs the
step again.

Example:
    >>> len(cache_key("train", "ab" * 32, {"lr": 0.1}, {"df": "cd" * 32}, {"output": "auto"}))
    64
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from mloop.store import schema
from mloop.tracking.sql.database import Database

_C = schema.step_cache


def cache_key(
    step: str,
    source_digest: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str],
    materializers: Mapping[str, str],
) -> str:
    """SHA-256 over everything that determines a step's outputs."""
    import hashlib

    document = {
        "step": step,
        "source": source_digest,
        "params": params,
        "inputs": inputs,
        "materializers": materializers,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class StepCache:
    """Cache entries in the metadata store (table ``step_cache``)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """``(run id, outputs)`` of the step run cached under ``key``, or None."""
        with self._db.connect() as conn:
            row = conn.execute(sa.select(_C.c.run_id, _C.c.outputs).where(_C.c.cache_key == key))
            found = row.first()
        return (found.run_id, json.loads(found.outputs)) if found is not None else None

    def put(self, key: str, run_id: str, outputs: Mapping[str, Any]) -> None:
        """Remember (or replace) the outputs of a successful step run."""
        values = {
            "cache_key": key,
            "run_id": run_id,
            "outputs": json.dumps(outputs, sort_keys=True),
            "created_time": time.time_ns() // 1_000_000,
        }
        statement = self._db.upsert(_C).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["cache_key"],
            set_={"run_id": values["run_id"], "outputs": values["outputs"]},
        )
        with self._db.begin() as conn:
            conn.execute(statement)

    def forget(self, key: str) -> None:
        """Drop an entry whose outputs are gone."""
        with self._db.begin() as conn:
            conn.execute(_C.delete().where(_C.c.cache_key == key))
