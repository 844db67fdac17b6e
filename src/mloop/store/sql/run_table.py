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
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from mloop.entities import RunTable
from mloop.store.database import Database

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
    selected = ", ".join(f"x.{name}" for name in columns)
    if database.dialect == "postgresql":
        sql = (
            f"SELECT p.ord - 1, {selected} FROM unnest(%s::varchar[]) WITH ORDINALITY"
            f" AS p(run_id, ord) JOIN {table} AS x ON x.run_id = p.run_id"
        )
        ids: object = list(run_ids)
        options = {"binary": True}  # floats arrive as 8 bytes, not text to parse
    else:
        sql = (
            f"SELECT p.key, {selected} FROM json_each(?) AS p"
            f" JOIN {table} AS x ON x.run_id = p.value"
        )
        ids = json.dumps(list(run_ids))
        options = {}
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


def key_columns(rows: Iterable[Sequence[Any]], size: int) -> dict[str, list[Any]]:
    """``(position, key, value)`` rows as one column per key, sorted by key; ``None`` where absent.

    Example:
        >>> key_columns([(1, "lr", "0.1"), (0, "lr", "0.2"), (0, "seed", "7")], 2)
        {'lr': ['0.2', '0.1'], 'seed': ['7', None]}
    """
    columns: dict[str, list[Any]] = {}
    for position, key, value in rows:
        column = columns.get(key)
        if column is None:
            column = columns[key] = [None] * size
        column[position] = value
    return {key: columns[key] for key in sorted(columns)}


def read_run_table(
    database: Database, conn: sa.Connection, ids: Sequence[str], next_page_token: str | None
) -> RunTable:
    """The runs ``ids`` as a :class:`RunTable`, in the order given; unknown ids are skipped."""
    found = [None] * len(ids)
    for row in positioned_rows(database, conn, "runs", _RUN_FIELDS, ids):
        found[row[0]] = row[1:]
    rows: list[Any] = [row for row in found if row is not None]
    if len(rows) < len(ids):  # a run purged since the ids were read
        ids = [row[0] for row in rows]
    size = len(ids)

    def columns(table: str) -> dict[str, list[Any]]:
        return key_columns(positioned_rows(database, conn, table, ("key", "value"), ids), size)

    fields = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in _RUN_FIELDS]
    run_id, experiment_id, name, status, artifact_uri, start_time, end_time = fields
    return RunTable(
        run_id=run_id,
        experiment_id=[str(value) for value in experiment_id],
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
