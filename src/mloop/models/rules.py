"""Gate rules: one comparison over a candidate's metrics and a baseline's.

A rule reads like ``roc_auc >= champion.roc_auc - 0.005`` or ``dp_diff <= 0.1``:
a bare name is the candidate's metric; ``champion.x``, ``baseline.x`` or
``<alias>.x`` is the baseline's (the model the candidate is gated against);
``candidate.x`` and ``challenger.x`` name the candidate explicitly. Numbers,
``+ - * /``, ``abs``, ``min`` and ``max`` may appear on either side. Rules are
parsed with :mod:`ast` and evaluated by walking the tree: nothing is ever
``eval``-ed.

Example:
    >>> rule = parse_rule("roc_auc >= champion.roc_auc - 0.005")
    >>> rule.text, rule.uses_baseline
    ('roc_auc >= champion.roc_auc - 0.005', True)
    >>> rule.check({"roc_auc": 0.91}, {"roc_auc": 0.913})["passed"]
    True
"""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

from mloop.errors import InvalidInput

_COMPARE: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.GtE: operator.ge,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.Lt: operator.lt,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {"abs": abs, "min": min, "max": max}
CANDIDATE = frozenset({"candidate", "challenger"})


@dataclasses.dataclass(frozen=True)
class Rule:
    """A parsed rule; ``text`` is its canonical form (how protections match gate results)."""

    text: str
    tree: ast.Compare = dataclasses.field(repr=False, compare=False)
    uses_baseline: bool = False

    def check(
        self, candidate: Mapping[str, float], baseline: Mapping[str, float] | None
    ) -> dict[str, Any]:
        """Evaluate against the candidate's (and the baseline's) metrics.

        Returns ``{rule, passed, value, threshold, note}``. Without a baseline, a
        rule that needs one passes with a note saying it was skipped.

        Raises:
            InvalidInput: a metric the evaluation does not have.
        """
        if self.uses_baseline and baseline is None:
            return {
                "rule": self.text,
                "passed": True,
                "value": None,
                "threshold": None,
                "note": "skipped: no baseline to compare with",
            }
        left = _value(self.tree.left, candidate, baseline)
        right = _value(self.tree.comparators[0], candidate, baseline)
        compare = _COMPARE[type(self.tree.ops[0])]
        passed = not (math.isnan(left) or math.isnan(right)) and compare(left, right)
        return {"rule": self.text, "passed": passed, "value": left, "threshold": right, "note": ""}


def _value(
    node: ast.expr, candidate: Mapping[str, float], baseline: Mapping[str, float] | None
) -> float:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # checked when parsed
        return float(node.value)
    if isinstance(node, ast.UnaryOp):
        inner = _value(node.operand, candidate, baseline)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        return _ARITHMETIC[type(node.op)](
            _value(node.left, candidate, baseline), _value(node.right, candidate, baseline)
        )
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return float(_FUNCTIONS[node.func.id](*(_value(a, candidate, baseline) for a in node.args)))
    if isinstance(node, ast.Name):
        return _metric(candidate, node.id, "the candidate")
    assert isinstance(node, ast.Attribute)
    assert isinstance(node.value, ast.Name)
    if node.value.id in CANDIDATE:
        return _metric(candidate, node.attr, "the candidate")
    assert baseline is not None
    return _metric(baseline, node.attr, f"the baseline ({node.value.id})")


def _metric(metrics: Mapping[str, float], name: str, whose: str) -> float:
    if name not in metrics:
        raise InvalidInput(
            f"gate rule uses metric {name!r}, which {whose}'s evaluation does not have; "
            f"available: {', '.join(sorted(metrics))}"
        )
    return float(metrics[name])


def _check_node(node: ast.AST, text: str, baselines: Collection[str] | None) -> bool:
    """Validate an operand; returns whether it refers to the baseline."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return False
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _check_node(node.operand, text, baselines)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left = _check_node(node.left, text, baselines)
        return _check_node(node.right, text, baselines) or left
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and node.args
        and not node.keywords
    ):
        return any([_check_node(a, text, baselines) for a in node.args])  # noqa: C419 (check all)
    if isinstance(node, ast.Name):
        return False
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        who = node.value.id
        if who in CANDIDATE:
            return False
        if baselines is not None and who not in baselines:
            raise InvalidInput(
                f"gate rule {text!r} names {who!r}; use a bare metric for the candidate and "
                f"{' or '.join(sorted(baselines))}.<metric> for the baseline"
            )
        return True
    raise InvalidInput(
        f"gate rule {text!r} may use metric names, baseline.<metric>, numbers, + - * /, "
        f"abs, min and max; {ast.unparse(node)!r} is none of these"
    )


def parse_rule(text: str, baselines: Collection[str] | None = None) -> Rule:
    """Parse a rule; ``baselines`` lists the names allowed before ``.`` (any, when None).

    Raises:
        InvalidInput: not one comparison of allowed terms.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"a gate rule is a comparison like 'accuracy >= 0.8', got {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise InvalidInput(f"gate rule {text!r} does not parse: {err.msg}") from None
    if not isinstance(tree, ast.Compare) or len(tree.ops) != 1 or type(tree.ops[0]) not in _COMPARE:
        raise InvalidInput(
            f"gate rule {text!r} must be one comparison (>=, <=, >, <, ==, !=), e.g. "
            "'roc_auc >= champion.roc_auc - 0.005'"
        )
    left = _check_node(tree.left, text, baselines)
    right = _check_node(tree.comparators[0], text, baselines)
    return Rule(ast.unparse(tree), tree, left or right)
