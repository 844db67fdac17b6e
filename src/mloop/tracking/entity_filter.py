"""MLflow's ``filter_string`` and ``order_by`` over experiments, registered models and versions.

The filter uses the runs' grammar (:mod:`mloop.store.filter`) over a few named
string fields and ``tags.<key>``, and is evaluated in Python: these lists are
short (experiments and models are counted in hundreds, not millions).

Example:
    >>> rows = [{"name": "credit"}, {"name": "churn"}]
    >>> [r["name"] for r in select(rows, "name LIKE 'c%t'", fields={"name"})]
    ['credit']
    >>> [r["name"] for r in select(rows, None, ["name DESC"], {"name"})]
    ['credit', 'churn']
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from mloop.errors import InvalidInput
from mloop.store.filter import And, Comparison, Node, Not, Or, parse_filter

T = TypeVar("T")
Row = Mapping[str, Any]
# The runs' grammar reads ``name`` as the run's name; here it is the entity's name.
_FIELD_NAMES = {"run_name": "name"}

EXPERIMENT = frozenset(
    {"name", "experiment_id", "lifecycle_stage", "creation_time", "last_update_time"}
)
"""The fields of an experiment that a filter or ``order_by`` may name."""


def _row(item: object) -> Row:
    if isinstance(item, Mapping):
        return item
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    raise InvalidInput(f"cannot filter {type(item).__name__} objects")


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _like(pattern: str, text: str, *, fold: bool) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return (
        re.fullmatch(regex, text, flags=re.IGNORECASE | re.DOTALL if fold else re.DOTALL)
        is not None
    )


def _compare(op: str, actual: str | None, wanted: object) -> bool:
    if actual is None:  # as in SQL (and MLflow): a missing value matches no comparison
        return False
    if op == "=":
        return actual == str(wanted)
    if op == "!=":
        return actual != str(wanted)
    if op in ("IN", "NOT IN"):
        found = actual in {str(v) for v in wanted} if isinstance(wanted, tuple) else False
        return found if op == "IN" else not found
    if op.endswith("LIKE"):
        hit = _like(str(wanted), actual, fold="ILIKE" in op)
        return not hit if op.startswith("NOT") else hit
    raise InvalidInput(f"operator {op} compares numbers; these fields are strings")


def _holds(node: Node, row: Row, fields: Iterable[str]) -> bool:
    if isinstance(node, And):
        return all(_holds(n, row, fields) for n in node.operands)
    if isinstance(node, Or):
        return any(_holds(n, row, fields) for n in node.operands)
    if isinstance(node, Not):
        return not _holds(node.operand, row, fields)
    assert isinstance(node, Comparison)
    if node.entity == "tag":
        tags = row.get("tags") or {}
        return _compare(node.op, _text(tags.get(node.key)), node.value)
    key = _FIELD_NAMES.get(node.key, node.key)
    if node.entity != "attribute" or key not in fields:
        known = ", ".join(sorted(fields))
        raise InvalidInput(f"cannot filter on {node.entity}.{node.key}: use {known} or tags.<key>")
    return _compare(node.op, _text(row.get(key)), node.value)


def _sort_key(row: Row, field: str) -> tuple[int, Any]:
    value = row.get(field)
    if isinstance(value, enum.Enum):
        value = value.value
    return (value is None, value if value is not None else 0)


def select(
    rows: Sequence[T],
    filter_string: str | None,
    order_by: Sequence[str] | None = None,
    fields: Iterable[str] = EXPERIMENT,
) -> list[T]:
    """The rows that match ``filter_string``, sorted by ``order_by`` (``"field [ASC|DESC]"``).

    Args:
        rows: the candidates (mappings or dataclasses), in their default order.
        filter_string: e.g. ``"name = 'credit' AND tags.team = 'risk'"``; None keeps all.
        order_by: sort terms over ``fields``, the first the most significant.
        fields: the attribute names that may be filtered and sorted on.

    Raises:
        InvalidInput: an unknown field, or a numeric comparison of a string.
        FilterSyntaxError: a malformed filter.

    Example:
        >>> select([{"name": "a", "tags": {"t": "x"}}], "tags.t = 'x'", fields={"name"})
        [{'name': 'a', 'tags': {'t': 'x'}}]
    """
    known = set(fields)
    node = parse_filter(filter_string)
    chosen = [r for r in rows if node is None or _holds(node, _row(r), known)]
    for term in reversed(list(order_by or ())):
        parts = term.split()
        if (
            not parts
            or len(parts) > 2
            or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC"))
        ):
            raise InvalidInput(f"order_by term {term!r}: use 'FIELD' or 'FIELD DESC'")
        field = parts[0]
        if field not in known:
            raise InvalidInput(f"cannot order by {field!r}: use one of {', '.join(sorted(known))}")
        descending = len(parts) == 2 and parts[1].upper() == "DESC"
        chosen.sort(key=lambda r, f=field: _sort_key(_row(r), f), reverse=descending)  # type: ignore[misc]
    return chosen
