"""How a rule's tree is decided on one window: True, False, or no data, and why.

The window's metrics and the champion's are two mappings. A metric that is
missing, None, NaN or not a number, a champion metric when no champion
metrics are given, a division by zero and an arithmetic result that is not a
number (``inf - inf``) leave a comparison without data. ``and``, ``or`` and
``not`` then follow three-valued logic: ``False and unknown`` is False,
``True or unknown`` is True, and other mixes with unknown are unknown.

The facts given back are the comparisons that decided, each with its values
(``psi(income) = 0.25 > 0.2``; one that failed shows the relation that does
hold: ``rows = 1200 >= 100``), or the reasons there was no data.

Example:
    >>> from mloop.monitoring.rule_language import parse_rule
    >>> condition, _ = parse_rule("psi(income) > 0.2 or missing(income) > 0.5")
    >>> decide(condition, {"psi(income)": 0.25}, None)
    (True, ['psi(income) = 0.25 > 0.2'], {'psi(income)': 0.25})
    >>> decide(condition, {"psi(income)": 0.1}, None)
    (None, ["missing(income) is not in this window's metrics"], {'psi(income)': 0.1})
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from mloop.monitoring.rule_tree import (
    Comparison,
    Condition,
    Metric,
    Negative,
    Not,
    Number,
    Or,
    Value,
    metric_keys,
    render,
)

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def decide(
    condition: Condition, metrics: Mapping[str, Any], champion: Mapping[str, Any] | None
) -> tuple[bool | None, list[str], dict[str, float]]:
    """Whether ``condition`` holds (None: no data), the facts or reasons, the values read.

    Every comparison is decided, so the values are all those the window has of
    the metrics the condition reads; facts and reasons are given once each.
    Nothing raises on the window's content.
    """
    window = _Window(metrics, champion)
    holds, facts = window.truth(condition)
    return holds, list(dict.fromkeys(facts)), window.values


class _NoData(Exception):
    def __init__(self, *reasons: str) -> None:
        super().__init__(*reasons)
        self.reasons = reasons


class _Window:
    """One evaluation: the two mappings, and the values read from them."""

    def __init__(self, metrics: Mapping[str, Any], champion: Mapping[str, Any] | None) -> None:
        self.metrics = metrics
        self.champion = champion
        self.values: dict[str, float] = {}

    def read(self, metric: Metric) -> float:
        if metric.champion:
            if self.champion is None:
                raise _NoData(f"{metric.key}: no champion metrics were given")
            source, key, where = self.champion, metric.name, "the champion's metrics"
        else:
            source, key, where = self.metrics, metric.key, "this window's metrics"
        if key not in source:
            raise _NoData(f"{metric.key} is not in {where}")
        raw = source[key]
        try:
            if raw is None or isinstance(raw, (str, bytes)):
                raise TypeError
            value = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise _NoData(f"{metric.key} is {raw!r}, not a number") from None
        if math.isnan(value):
            raise _NoData(f"{metric.key} is NaN")
        self.values[metric.key] = value
        return value

    def value(self, node: Value) -> float:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Metric):
            return self.read(node)
        if isinstance(node, Negative):
            return -self.value(node.operand)
        left, right = self._both(node.left, node.right)
        if node.op == "/" and right == 0:
            raise _NoData(f"division by zero: {render(node.right)} is 0")
        result = _ARITHMETIC[node.op](left, right)
        if math.isnan(result):
            raise _NoData(f"{render(node)} is not a number")
        return result

    def truth(self, node: Condition) -> tuple[bool | None, list[str]]:
        """Whether ``node`` holds, and the facts that decided (or why there is no data)."""
        if isinstance(node, Comparison):
            return self._compare(node)
        if isinstance(node, Not):
            holds, facts = self.truth(node.operand)
            return (None if holds is None else not holds), facts
        decisive = isinstance(node, Or)  # what one side needs to decide: True for or
        results = [self.truth(node.left), self.truth(node.right)]
        hits = [fact for holds, facts in results if holds is decisive for fact in facts]
        if hits:
            return decisive, hits
        unknown = [fact for holds, facts in results if holds is None for fact in facts]
        if unknown:
            return None, unknown
        return not decisive, [fact for _, facts in results for fact in facts]

    def _both(self, *sides: Value) -> tuple[float, float]:
        # Both sides are read even when one has no data: every reason is reported.
        found: list[float] = []
        reasons: list[str] = []
        for side in sides:
            try:
                found.append(self.value(side))
            except _NoData as gap:
                reasons.extend(gap.reasons)
        if reasons:
            raise _NoData(*reasons)
        return found[0], found[1]

    def _compare(self, node: Comparison) -> tuple[bool | None, list[str]]:
        try:
            left, right = self._both(node.left, node.right)
        except _NoData as gap:
            return None, list(gap.reasons)
        holds = _COMPARE[node.op](left, right)
        op = node.op if holds else _NEGATED[node.op]
        return holds, [f"{_side(node.left, left)} {op} {_side(node.right, right)}"]


def _side(node: Value, value: float) -> str:
    if not metric_keys(node):
        return render(node)
    return f"{render(node)} = {_number(value)}"


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"
