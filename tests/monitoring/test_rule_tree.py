"""The tree of a rule: its canonical text parses back to it, and the metrics it reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.errors import InvalidInput
from mloop.monitoring.rule_language import parse_rule
from mloop.monitoring.rule_tree import (
    And,
    Arithmetic,
    Comparison,
    Condition,
    Metric,
    Negative,
    Not,
    Number,
    Or,
    metric_keys,
    metric_nodes,
    render,
)


def test_metric_keys_and_nodes() -> None:
    assert Metric("rows").key == "rows"
    assert Metric("psi", "annual income").key == "psi(annual income)"
    assert Metric("roc_auc", champion=True).key == "champion.roc_auc"
    condition, _ = parse_rule("a > b and not (-a * psi(x) < champion.a or b == 1)")
    assert [m.key for m in metric_nodes(condition)] == ["a", "b", "a", "psi(x)", "champion.a", "b"]
    assert metric_keys(condition) == ("a", "b", "psi(x)", "champion.a")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("(A>1)AND NOT(b<=2 or c == 3)", "A > 1 and not (b <= 2 or c == 3)"),
        ("a - (b - c) > -(-x)", "a - (b - c) > -(-x)"),
        ("--x > 1", "-(-x) > 1"),
        ("-(a + b) * c / (d * e) > 0", "-(a + b) * c / (d * e) > 0"),
        ("(a > 1 or b > 1) and (c > 1 and d > 1)", "(a > 1 or b > 1) and (c > 1 and d > 1)"),
        ("not not a > 1", "not not a > 1"),
        ("missing( 'annual income' ) > 1", 'missing("annual income") > 1'),
        ("missing('say \"hi\"') > 1", 'missing("say ""hi""") > 1'),
        ("missing('it''s') > 1", 'missing("it\'s") > 1'),
        ('missing("plain") > 1', "missing(plain) > 1"),
        ("missing(class) > 1", "missing(class) > 1"),
        ("Champion . AUC > 1", "champion.AUC > 1"),
        ("x\n>\t1", "x > 1"),
    ],
)
def test_canonical_text_parses_back_to_the_same_tree(text: str, canonical: str) -> None:
    condition = parse_rule(text)[0]
    assert render(condition) == canonical
    assert parse_rule(canonical)[0] == condition


NAMES = st.sampled_from(["a", "b", "psi", "champion_x"])
VALUES = st.recursive(
    st.one_of(
        st.builds(Number, st.integers(0, 9).map(float), st.just("")).map(
            lambda n: Number(n.value, str(int(n.value)))
        ),
        st.builds(Metric, NAMES),
        st.builds(Metric, NAMES, st.sampled_from(["age", "annual income", 'say "hi"'])),
        st.builds(Metric, NAMES, st.none(), st.just(True)),
    ),
    lambda inner: st.one_of(
        st.builds(Negative, inner),
        st.builds(Arithmetic, st.sampled_from("+-*/"), inner, inner),
    ),
    max_leaves=6,
)
CONDITIONS = st.recursive(
    st.builds(Comparison, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), VALUES, VALUES),
    lambda inner: st.one_of(
        st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner)
    ),
    max_leaves=4,
)


@settings(max_examples=200, deadline=None)
@given(CONDITIONS)
def test_every_tree_prints_as_text_that_parses_back_to_it(condition: Condition) -> None:
    text = render(condition)
    try:
        assert parse_rule(text)[0] == condition
    except InvalidInput as err:
        # Only the limits may refuse a generated tree.
        assert "at most" in str(err) or "open at once" in str(err)
