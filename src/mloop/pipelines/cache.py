"""The step cache: a successful step run's outputs, by the hash of what determined them.

The key covers the step's source code, its literal params (a param naming a
dataset by a moving reference, such as ``bc@latest``, with the digest of the
version it names), the digests of its inputs and the materializers of its
outputs, so changing any of them runs the step again. An entry also keeps the
datasets and models the step read by reference; it is reused only while each
reference still names the same version or package (see
:mod:`mloop.pipelines.freshness`).

Example:
    >>> len(cache_key("train", "ab" * 32, {"lr": 0.1}, {"df": "cd" * 32}, {"output": "auto"}))
    64
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

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
        sql = f"SELECT run_id, outputs FROM step_cache WHERE cache_key = {self._db.placeholder}"
        with self._db.connect() as conn:
            rows = self._db.fetch(conn, sql, [key])
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def put_many(self, entries: Mapping[str, tuple[str, Mapping[str, Any]]]) -> None:
        """Remember (or replace) ``{key: (run id, outputs)}`` in one transaction."""
        if not entries:
            return
        now = time.time_ns() // 1_000_000
        rows = [
            {
                "cache_key": key,
                "run_id": run_id,
                "outputs": json.dumps(outputs, sort_keys=True),
                "created_time": now,
            }
            for key, (run_id, outputs) in entries.items()
        ]
        statement = self._db.upsert(_C)
        statement = statement.on_conflict_do_update(
            index_elements=["cache_key"],
            set_={"run_id": statement.excluded.run_id, "outputs": statement.excluded.outputs},
        )
        with self._db.begin() as conn:
            conn.execute(statement, rows)

    def forget(self, key: str) -> None:
        """Drop an entry whose outputs are gone."""
        with self._db.begin() as conn:
            conn.execute(_C.delete().where(_C.c.cache_key == key))
