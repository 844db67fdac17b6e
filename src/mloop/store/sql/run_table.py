"""One page of a run search read as columns: what a DataFrame is built from.

A fixed number of queries, whatever the page size: the ordered ids, then the
page's runs, params, tags and latest metrics, one query each. The page's ids
travel as one parameter (a JSON array on SQLite, an array on PostgreSQL) and
each row comes back with its run's position in the page, so values drop
straight into per-key columns. No per-run entity is built.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from mloop.entities import RunTable
from mloop.store.database import Database
from mloop.store.sql.json_page import json_key_lists, json_run_fields
from mloop.store.sql.key_columns import key_columns, spread_columns

# The fields of ``runs`` a table holds, in RunTable's order.
RUN_FIELDS = (
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
    """One list per name of ``RUN_FIELDS`` for the runs ``ids``, in order; unknown ids skipped."""
    if database.dialect == "sqlite" and _SQLITE_HAS_JSON:
        return json_run_fields(conn, RUN_FIELDS, ids)
    found: list[Any] = [None] * len(ids)
    for row in positioned_rows(database, conn, "runs", RUN_FIELDS, ids):
        found[row[0]] = row[1:]
    rows = [row for row in found if row is not None]
    fields = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in RUN_FIELDS]
    fields[1] = [str(value) for value in fields[1]]  # experiment ids are text in the entities
    return fields


def read_run_table(
    database: Database, conn: sa.Connection, ids: Sequence[str], next_page_token: str | None
) -> RunTable:
    """The runs ``ids`` as a :class:`RunTable`, in the order given; unknown ids are skipped."""
    return _table(database, conn, _run_fields(database, conn, ids), next_page_token)


def run_table_from_rows(
    database: Database,
    conn: sa.Connection,
    rows: Sequence[Sequence[Any]],
    next_page_token: str | None,
) -> RunTable:
    """A :class:`RunTable` from rows of ``RUN_FIELDS`` already read in page order.

    Only the params, tags and latest metrics are read.

    Example:
        >>> db = Database.open("sqlite://")
        >>> with db.connect() as conn:
        ...     row = ("r1", 0, "demo", "FINISHED", "a:/r1", 5, None)
        ...     table = run_table_from_rows(db, conn, [row], None)
        >>> (table.run_id, table.experiment_id, table.params)
        (['r1'], ['0'], {})
    """
    fields = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in RUN_FIELDS]
    fields[1] = [str(value) for value in fields[1]]  # experiment ids are text in the entities
    return _table(database, conn, fields, next_page_token)


def _table(
    database: Database, conn: sa.Connection, fields: list[list[Any]], next_page_token: str | None
) -> RunTable:
    ids = fields[0]
    size = len(ids)

    def columns(table: str) -> dict[str, list[Any]]:
        if database.dialect == "sqlite" and _SQLITE_HAS_JSON and table in _TEXT_TABLES:
            return spread_columns(*json_key_lists(conn, table, ids), size)
        return key_columns(positioned_rows(database, conn, table, ("key", "value"), ids), size)

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
