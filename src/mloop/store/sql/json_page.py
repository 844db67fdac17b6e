"""A page of runs read from SQLite as a few JSON arrays instead of one row per value.

SQLite builds each array in C (``json_group_array``) and Python decodes it in
C (``json.loads``): no Python object per row, and none of the cyclic garbage
collection that holding tens of thousands of row tuples sets off. Only exact
values travel this way: text and integers. SQLite writes a float in JSON with
15 significant digits, which does not give back every stored double, so
metric values never do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def _arrays(conn: sa.Connection, sql: str, run_ids: Sequence[str]) -> list[list[Any]]:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        row = cursor.execute(sql, (json.dumps(list(run_ids)),)).fetchone()
    finally:
        cursor.close()
    return [json.loads(text) for text in row]


def json_key_lists(
    conn: sa.Connection, table: str, run_ids: Sequence[str]
) -> tuple[list[int], list[str], list[str]]:
    """Positions, keys and text values of ``table``'s rows for ``run_ids``, as three lists.

    ``table`` is one of mloop's own key/value tables whose values are text
    (``params``, ``tags``); position ``i`` is ``run_ids[i]``.

    Example:
        >>> from mloop.store.database import Database
        >>> with Database.open("sqlite://").connect() as conn:
        ...     json_key_lists(conn, "params", ["no-such-run"])
        ([], [], [])
    """
    positions, keys, values = _arrays(
        conn,
        "SELECT json_group_array(p.key), json_group_array(x.key), json_group_array(x.value)"
        f" FROM json_each(?) AS p JOIN {table} AS x ON x.run_id = p.value",
        run_ids,
    )
    return positions, keys, values


def json_run_fields(
    conn: sa.Connection, fields: Sequence[str], run_ids: Sequence[str]
) -> list[list[Any]]:
    """One list per field of ``runs`` (text or integer columns), in the order of ``run_ids``.

    Ids with no run are skipped. ``experiment_id`` comes back as text, as
    the entities hold it.

    Example:
        >>> from mloop.store.database import Database
        >>> with Database.open("sqlite://").connect() as conn:
        ...     json_run_fields(conn, ("run_id", "name"), ["no-such-run"])
        [[], []]
    """
    selected = "".join(f", json_group_array({_as_json(name)})" for name in fields)
    positions, *columns = _arrays(
        conn,
        f"SELECT json_group_array(p.key){selected}"
        " FROM json_each(?) AS p JOIN runs AS x ON x.run_id = p.value",
        run_ids,
    )
    if positions == list(range(len(positions))):
        return columns
    order = sorted(range(len(positions)), key=positions.__getitem__)
    return [[column[index] for index in order] for column in columns]


def _as_json(name: str) -> str:
    return f"CAST(x.{name} AS TEXT)" if name == "experiment_id" else f"x.{name}"
