"""One page of a run search read as columns: what a DataFrame is built from.

A fixed number of queries, whatever the page size: the ordered ids, then the
page's runs, params, tags and latest metrics, one query each. The page's ids
travel as one parameter (a JSON array on SQLite, an array on PostgreSQL) and
each row comes back with its run's position in the page, so values drop
straight into per-key columns. No per-run entity is built.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from mloop.entities import RunTable
from mloop.store.database import Database
from mloop.store.sql.json_page import json_key_lists, json_run_fields
from mloop.store.sql.key_columns import spread_columns

_RUN_FIELDS = (
    "run_id",
    "experiment_id",
    "name",
    "status",
    "artifact_uri",
    "start_time",
    "end_time",
)
# json_each is part of every SQLite build from 3.38 on (an optional extension before).
_SQLITE_HAS_JSON = sqlite3.sqlite_version_info >= (3, 38, 0)
# Tables whose values are text, which SQLite's JSON carries exactly.
_TEXT_TABLES = frozenset({"params", "tags"})
# Rows split per batch: few enough tuples alive at once not to set off the garbage collector.
_BATCH = 256


def _positioned_query(
    database: Database, table: str, columns: Sequence[str], run_ids: Sequence[str]
) -> tuple[str, object, dict[str, Any]]:
    """SQL, its one parameter and the cursor options for :func:`positioned_rows`."""
    selected = ", ".join(f"x.{name}" for name in columns)
    if database.dialect == "postgresql":
        sql = (
            f"SELECT p.ord - 1, {selected} FROM unnest(%s::varchar[]) WITH ORDINALITY"
            f" AS p(run_id, ord) JOIN {table} AS x ON x.run_id = p.run_id"
        )
        # Floats arrive as 8 bytes, not text to parse.
        return sql, list(run_ids), {"binary": True}
    sql = f"SELECT p.key, {selected} FROM json_each(?) AS p JOIN {table} AS x ON x.run_id = p.value"
    return sql, json.dumps(list(run_ids)), {}


def positioned_rows(
    database: Database,
    conn: sa.Connection,
    table: str,
    columns: Sequence[str],
    run_ids: Sequence[str],
) -> Iterator[tuple[Any, ...]]:
    """Rows ``(position, *columns)`` of ``table`` for the runs ``run_ids``, in one query.

    ``position`` is the run's index in ``run_ids``; rows come in no set order.
    """
    if database.dialect == "sqlite" and not _SQLITE_HAS_JSON:
        yield from chunked_positioned_rows(database, conn, table, columns, run_ids)
        return
    sql, ids, options = _positioned_query(database, table, columns, run_ids)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, (ids,), **options)
        # Iterating the cursor, not fetchall(): rows are dropped as they are read.
        yield from cursor
    finally:
        cursor.close()


def positioned_lists(
    database: Database, conn: sa.Connection, table: str, run_ids: Sequence[str]
) -> tuple[list[int], list[str], list[Any]]:
    """Positions, keys and values of ``table``'s rows for the runs ``run_ids``, as three lists.

    On SQLite the text-valued tables (``params``, ``tags``) come back as JSON
    arrays (:mod:`mloop.store.sql.json_page`). Other rows are read a batch at
    a time and dropped once split, so no more than a batch of row tuples is
    alive at once.
    """
    if database.dialect == "sqlite" and _SQLITE_HAS_JSON and table in _TEXT_TABLES:
        return json_key_lists(conn, table, run_ids)
    positions: list[int] = []
    keys: list[str] = []
    values: list[Any] = []
    rows = iter(positioned_rows(database, conn, table, ("key", "value"), run_ids))
    while batch := list(itertools.islice(rows, _BATCH)):
        batch_positions, batch_keys, batch_values = zip(*batch, strict=True)
        positions += batch_positions
        keys += batch_keys
        values += batch_values
    return positions, keys, values


def chunked_positioned_rows(
    database: Database,
    conn: sa.Connection,
    table: str,
    columns: Sequence[str],
    run_ids: Sequence[str],
) -> Iterator[tuple[Any, ...]]:
    """:func:`positioned_rows` through ``IN`` lists, for a SQLite without ``json_each``."""
    position = {run_id: index for index, run_id in enumerate(run_ids)}
    for row in database.fetch_by_run(conn, table, ", ".join(("run_id", *columns)), run_ids):
        yield (position[row[0]], *row[1:])


def _run_fields(database: Database, conn: sa.Connection, ids: Sequence[str]) -> list[list[Any]]:
    """One list per name of ``_RUN_FIELDS`` for the runs ``ids``, in order; unknown ids skipped."""
    if database.dialect == "sqlite" and _SQLITE_HAS_JSON:
        return json_run_fields(conn, _RUN_FIELDS, ids)
    found: list[Any] = [None] * len(ids)
    for row in positioned_rows(database, conn, "runs", _RUN_FIELDS, ids):
        found[row[0]] = row[1:]
    rows = [row for row in found if row is not None]
    fields = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in _RUN_FIELDS]
    fields[1] = [str(value) for value in fields[1]]  # experiment ids are text in the entities
    return fields


def read_run_table(
    database: Database, conn: sa.Connection, ids: Sequence[str], next_page_token: str | None
) -> RunTable:
    """The runs ``ids`` as a :class:`RunTable`, in the order given; unknown ids are skipped."""
    fields = _run_fields(database, conn, ids)
    if len(fields[0]) < len(ids):  # a run purged since the ids were read
        ids = fields[0]
    size = len(ids)

    def columns(table: str) -> dict[str, list[Any]]:
        return spread_columns(*positioned_lists(database, conn, table, ids), size)

    run_id, experiment_id, name, status, artifact_uri, start_time, end_time = fields
    return RunTable(
        run_id=run_id,
        experiment_id=experiment_id,
        run_name=name,
        status=status,
        artifact_uri=artifact_uri,
        start_time=start_time,
        end_time=end_time,
        metrics=columns("latest_metrics"),
        params=columns("params"),
        tags=columns("tags"),
        next_page_token=next_page_token,
    )
