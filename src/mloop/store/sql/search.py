"""Translating the search grammar into SQL over the latest-value tables.

Metric filters read ``latest_metrics`` (one row per run and key), never the
history, so a search over 10,000 runs costs a few index lookups per run.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mloop.entities import ViewType
from mloop.errors import InvalidInput
from mloop.store import schema
from mloop.store.filter import (
    And,
    Comparison,
    Node,
    Not,
    Or,
    OrderKey,
    filter_keys,
    parse_filter,
    parse_order_by,
)
from mloop.store.sql.experiments import stage_filter

MAX_RESULTS_LIMIT = 50_000
_R = schema.runs
_TABLES = {"metric": schema.latest_metrics, "param": schema.params, "tag": schema.tags}
_ATTRIBUTE_COLUMNS = {
    "run_id": _R.c.run_id,
    "run_name": _R.c.name,
    "status": _R.c.status,
    "start_time": _R.c.start_time,
    "end_time": _R.c.end_time,
    "experiment_id": _R.c.experiment_id,
    "artifact_uri": _R.c.artifact_uri,
    "lifecycle_stage": _R.c.lifecycle_stage,
    "parent_run_id": _R.c.parent_run_id,
}


def _compare(column: sa.ColumnElement[object], op: str, value: object) -> sa.ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op in ("IN", "NOT IN"):
        values = list(value)  # type: ignore[call-overload]
        return column.in_(values) if op == "IN" else column.not_in(values)
    text_column = sa.cast(column, sa.String)
    clause = text_column.ilike(value) if op.endswith("ILIKE") else text_column.like(value)
    return sa.not_(clause) if op.startswith("NOT") else clause


def _attribute_value(key: str, value: object) -> object:
    if key != "experiment_id":
        return value

    def as_int(v: object) -> int:
        try:
            return int(str(v))
        except ValueError:
            raise InvalidInput(f"attributes.experiment_id compares with ids, got {v!r}") from None

    return tuple(as_int(v) for v in value) if isinstance(value, tuple) else as_int(value)


def to_clause(node: Node) -> sa.ColumnElement[bool]:
    """The SQL condition on ``runs`` that a parsed filter stands for."""
    if isinstance(node, And):
        return sa.and_(*(to_clause(n) for n in node.operands))
    if isinstance(node, Or):
        return sa.or_(*(to_clause(n) for n in node.operands))
    if isinstance(node, Not):
        return sa.not_(to_clause(node.operand))
    return _comparison(node)


def _comparison(node: Comparison) -> sa.ColumnElement[bool]:
    if node.entity == "attribute":
        column = _ATTRIBUTE_COLUMNS[node.key]
        if node.op in ("LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"):
            return _compare(column, node.op, node.value)
        return _compare(column, node.op, _attribute_value(node.key, node.value))
    table = _TABLES[node.entity]
    return sa.exists(
        sa.select(sa.literal(1)).where(
            table.c.run_id == _R.c.run_id,
            table.c.key == node.key,
            _compare(table.c.value, node.op, node.value),
        )
    )


def decode_page_token(token: str | None) -> int:
    """The offset a page token stands for (0 for None)."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput(
            f"invalid page token {token!r}: pass a token returned by a search"
        ) from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput(f"invalid page token {token!r}: pass a token returned by a search")
    return offset


def encode_page_token(offset: int) -> str:
    """A page token for the page starting at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _ordered(query: sa.Select[Any], keys: Sequence[OrderKey]) -> sa.Select[Any]:
    source: sa.FromClause = _R
    terms: list[sa.ColumnElement[object]] = []
    for index, key in enumerate(keys):
        if key.entity == "attribute":
            column: sa.ColumnElement[object] = _ATTRIBUTE_COLUMNS[key.key]
        else:
            alias = _TABLES[key.entity].alias(f"order_{index}")
            source = source.outerjoin(
                alias, sa.and_(alias.c.run_id == _R.c.run_id, alias.c.key == key.key)
            )
            column = alias.c.value
        ordered = column.asc() if key.ascending else column.desc()
        terms.append(ordered.nulls_last())
    terms += [_R.c.start_time.desc(), _R.c.run_id.asc()]
    return query.select_from(source).order_by(*terms)


def search_run_ids(
    conn: sa.Connection,
    experiment_ids: Sequence[int],
    filter_string: str | None,
    view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> tuple[list[str], str | None]:
    """Ids of one page of matching runs, in order, and the next page's token."""
    rows, token = search_run_rows(
        conn,
        experiment_ids,
        filter_string,
        view_type,
        max_results,
        order_by,
        page_token,
        ("run_id",),
    )
    return [str(row[0]) for row in rows], token


def _fetch_all(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``query`` as plain tuples, straight from the driver's cursor.

    No column of ``runs`` converts its values, so nothing is lost by skipping
    SQLAlchemy's per-row result processing, which costs more than the query
    on a page of thousands of runs.
    """
    if not conn.in_transaction():
        conn.begin()  # as conn.execute would: the page's later reads see the same data
    compiled = query.compile(conn, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(compiled.string, args)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


def search_run_rows(
    conn: sa.Connection,
    experiment_ids: Sequence[int],
    filter_string: str | None,
    view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    columns: Sequence[str],
) -> tuple[list[tuple[Any, ...]], str | None]:
    """``columns`` of ``runs`` for one page of matching runs, in order, and the next page's token.

    Reading the page's run fields with its order costs no second visit to ``runs``.

    Example:
        >>> from mloop.store.database import Database
        >>> with Database.open("sqlite://").connect() as conn:
        ...     search_run_rows(conn, [0], None, ViewType.ACTIVE_ONLY, 10, None, None, ("run_id",))
        ([], None)
    """
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not (1 <= max_results <= MAX_RESULTS_LIMIT)
    ):
        raise InvalidInput(
            f"max_results must be an integer from 1 to {MAX_RESULTS_LIMIT}, got {max_results!r}"
        )
    tree = parse_filter(filter_string)
    keys = parse_order_by(order_by)
    offset = decode_page_token(page_token)
    query = sa.select(*(_R.c[name] for name in columns)).where(
        _R.c.experiment_id.in_(list(experiment_ids)), stage_filter(_R.c.lifecycle_stage, view_type)
    )
    if tree is not None:
        query = query.where(to_clause(tree))
    query = _ordered(query, keys).limit(max_results + 1).offset(offset)
    rows = _fetch_all(conn, query)
    if len(rows) > max_results:
        return rows[:max_results], encode_page_token(offset + max_results)
    return rows, None


def unknown_filter_keys(
    conn: sa.Connection, experiment_ids: Sequence[int], filter_string: str | None
) -> dict[str, list[str]]:
    """The metrics, params and tags a filter names that no run of the experiments has.

    One query for the distinct keys of the experiments, run only when the filter
    names a key. Each unknown field (``"metrics.val_aucc"``) maps to the close
    matches among the known fields of the same kind, best first. mloop's own
    tags (``mloop.*``) are never reported.
    """
    # mloop's own tags (mloop.kind, mloop.parentRunId…) mark kinds of run: when no
    # run has one, there is none of that kind, which is no typo.
    wanted = [
        (entity, key)
        for entity, key in filter_keys(parse_filter(filter_string))
        if not (entity == "tag" and key.startswith("mloop."))
    ]
    if not wanted:
        return {}
    in_experiments = _R.c.experiment_id.in_(list(experiment_ids))
    queries = [
        sa.select(sa.literal(entity).label("entity"), table.c.key)
        .join(_R, _R.c.run_id == table.c.run_id)
        .where(in_experiments)
        .distinct()
        for entity, table in _TABLES.items()
    ]
    known: dict[str, set[str]] = {entity: set() for entity in _TABLES}
    for entity, key in conn.execute(sa.union(*queries)).all():
        known[str(entity)].add(str(key))
    return {
        f"{entity}s.{key}": [
            f"{entity}s.{match}"
            for match in difflib.get_close_matches(key, sorted(known[entity]), n=3, cutoff=0.6)
        ]
        for entity, key in wanted
        if key not in known[entity]
    }
