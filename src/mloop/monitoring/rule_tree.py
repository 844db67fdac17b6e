"""The tree of an alert rule: numbers, metrics, arithmetic, comparisons, and, or, not.

:mod:`mloop.monitoring.rule_language` builds it from text; :func:`render`
prints it back as canonical text that parses to the same tree, and
:func:`metric_keys` says which metrics it reads. The nodes are plain frozen
values: nothing in a tree can run.

Example:
    >>> rule = Comparison(">", Metric("missing", "annual income"), Number(0.05, "5%"))
    >>> render(Or(rule, Comparison("<", Metric("roc_auc"), Metric("roc_auc", champion=True))))
    'missing("annual income") > 5% or roc_auc < champion.roc_auc'
"""

from __future__ import annotations

import dataclasses
import re
from typing import TypeAlias

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
"""The comparison operators of rules."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Every node has a ``pos``: where it starts in the rule's text, for error messages.
# It takes no part in equality, so a canonical text parses to an equal tree.


@dataclasses.dataclass(frozen=True, slots=True)
class Number:
    """A number as written (``0.05``, ``1e-3``, ``5%``) and its value."""

    value: float
    text: str
    pos: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Metric:
    """A metric of the window (``rows``, ``psi(income)``) or of the champion model."""

    name: str
    column: str | None = None
    champion: bool = False
    pos: int = dataclasses.field(default=0, compare=False, repr=False)

    @property
    def key(self) -> str:
        """The key the metric has in its mapping: ``psi(income)``, ``champion.roc_auc``."""
        if self.champion:
            return f"champion.{self.name}"
        return self.name if self.column is None else f"{self.name}({self.column})"


@dataclasses.dataclass(frozen=True, slots=True)
class Negative:
    """``-operand``."""

    operand: Value
    pos: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Arithmetic:
    """``left op right`` for ``+``, ``-``, ``*`` and ``/``."""

    op: str
    left: Value
    right: Value
    pos: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """``left op right`` for one of :data:`COMPARISONS`."""

    op: str
    left: Value
    right: Value
    pos: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class And:
    """Both sides hold."""

    left: Condition
    right: Condition
    pos: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Or:
    """Either side holds."""

    left: Condition
    right: Condition
    pos: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Not:
    """The operand does not hold."""

    operand: Condition
    pos: int = dataclasses.field(default=0, compare=False, repr=False)


Value: TypeAlias = Number | Metric | Negative | Arithmetic
Condition: TypeAlias = Comparison | And | Or | Not
Node: TypeAlias = Value | Condition

_PRECEDENCE = {Or: 1, And: 2, Not: 3, Comparison: 4, Negative: 7, Number: 8, Metric: 8}
_ARITHMETIC_PRECEDENCE = {"+": 5, "-": 5, "*": 6, "/": 6}


def _precedence(node: Node) -> int:
    if isinstance(node, Arithmetic):
        return _ARITHMETIC_PRECEDENCE[node.op]
    return _PRECEDENCE[type(node)]


def _quote_column(column: str) -> str:
    if _NAME.match(column):
        return column
    return '"' + column.replace('"', '""') + '"'


def render(node: Node) -> str:
    """The canonical text of a tree: single spaces, lower-case keywords, needed parentheses only.

    Parsing the canonical text gives the same tree back.

    Example:
        >>> a, b = Comparison(">", Metric("a"), Number(1, "1")), Metric("b")
        >>> render(Not(And(a, Comparison("<", Negative(Arithmetic("-", b, b)), Number(2, "2")))))
        'not (a > 1 and -(b - b) < 2)'
    """
    if isinstance(node, Number):
        return node.text
    if isinstance(node, Metric):
        if node.champion:
            return node.key
        return node.name if node.column is None else f"{node.name}({_quote_column(node.column)})"
    mine = _precedence(node)
    if isinstance(node, Negative):
        return "-" + _wrap(node.operand, _precedence(node.operand) < 8)
    if isinstance(node, Not):
        return "not " + _wrap(node.operand, _precedence(node.operand) < mine)
    word = "and" if isinstance(node, And) else "or" if isinstance(node, Or) else node.op
    left = _wrap(node.left, _precedence(node.left) < mine)
    right = _wrap(node.right, _precedence(node.right) <= mine)
    return f"{left} {word} {right}"


def _wrap(node: Node, needed: bool) -> str:
    return f"({render(node)})" if needed else render(node)


def metric_nodes(node: Node) -> list[Metric]:
    """The metrics a tree reads, in the order they are written (repeats included).

    Example:
        >>> a = Metric("a")
        >>> [m.key for m in metric_nodes(Arithmetic("+", a, Arithmetic("*", Metric("b"), a)))]
        ['a', 'b', 'a']
    """
    found: list[Metric] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Metric):
            found.append(current)
        elif isinstance(current, (Negative, Not)):
            stack.append(current.operand)
        elif not isinstance(current, Number):
            stack.extend((current.right, current.left))
    return found


def metric_keys(node: Node) -> tuple[str, ...]:
    """The keys of the metrics a tree reads, in the order they are written, each once.

    Example:
        >>> psi = Metric("psi", "age")
        >>> metric_keys(Comparison(">", psi, Arithmetic("+", psi, Metric("psi", champion=True))))
        ('psi(age)', 'champion.psi')
    """
    return tuple(dict.fromkeys(metric.key for metric in metric_nodes(node)))
