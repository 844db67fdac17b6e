"""The step cache over SQL (table ``step_cache``), SQLite and PostgreSQL.

Example:
    >>> from mloop.store.sql import open_sql_store_set
    >>> stores = open_sql_store_set("sqlite://")
    >>> stores.steps.put_many({"k" * 64: ("run1", {"output": "ab"})})
    >>> stores.steps.get("k" * 64)
    ('run1', {'output': 'ab'})
    >>> stores.close()
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mloop.store import schema
from mloop.store.database import Database, now_millis

_C = schema.step_cache


class SqlStepCacheStore:
    """:class:`~mloop.store.protocols.steps.StepCacheStore` over SQL."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # Every cached step asks once: compiled once, run through the driver.
        self._get = (
            f"SELECT run_id, outputs FROM step_cache WHERE cache_key = {database.placeholder}"
        )

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """``(run id, outputs)`` of the step run cached under ``key``, or None."""
        with self._db.connect() as conn:
            rows = self._db.fetch(conn, self._get, [key])
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def put_many(self, entries: Mapping[str, tuple[str, Mapping[str, Any]]]) -> None:
        """Remember (or replace) ``{key: (run id, outputs)}`` in one transaction."""
        if not entries:
            return
        now = now_millis()
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
        """Drop an entry (its outputs are gone); an unknown key is no error."""
        with self._db.begin() as conn:
            conn.execute(_C.delete().where(_C.c.cache_key == key))
