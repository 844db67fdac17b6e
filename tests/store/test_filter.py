from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.errors import FilterSyntaxError, MloopWarning
from mloop.store.filter import (
    And,
    Comparison,
    Not,
    Or,
    OrderKey,
    filter_keys,
    parse_filter,
    parse_order_by,
)


def test_blank_filter_is_none() -> None:
    assert parse_filter(None) is None
    assert parse_filter("   ") is None


def test_issue_example() -> None:
    tree = parse_filter("metrics.auc > 0.9 and params.lr = '0.1' and tags.team != 'x'")
    assert tree == And(
        (
            Comparison("metric", "auc", ">", 0.9),
            Comparison("param", "lr", "=", "0.1"),
            Comparison("tag", "team", "!=", "x"),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metric.loss <= -1.5e-3", Comparison("metric", "loss", "<=", -1.5e-3)),
        ("metrics.`train loss` == 1", Comparison("metric", "train loss", "=", 1.0)),
        ('metrics."val/acc" <> 2', Comparison("metric", "val/acc", "!=", 2.0)),
        ("params.a.b = 'x'", Comparison("param", "a.b", "=", "x")),
        ("tags.note = 'it''s'", Comparison("tag", "note", "=", "it's")),
        ('tags.q = "say ""hi"""', Comparison("tag", "q", "=", 'say "hi"')),
        ("params.m NOT LIKE 'x%'", Comparison("param", "m", "NOT LIKE", "x%")),
        ("params.m ilike 'X%'", Comparison("param", "m", "ILIKE", "X%")),
        (
            "status IN ('FINISHED', 'FAILED')",
            Comparison("attribute", "status", "IN", ("FINISHED", "FAILED")),
        ),
        ("attributes.run_name NOT IN ('a')", Comparison("attribute", "run_name", "NOT IN", ("a",))),
        ("attr.created > 5", Comparison("attribute", "start_time", ">", 5.0)),
        ("run_uuid = 'abc'", Comparison("attribute", "run_id", "=", "abc")),
        ("metrics.m IN (1, 2.5)", Comparison("metric", "m", "IN", (1.0, 2.5))),
    ],
)
def test_comparisons(text: str, expected: Comparison) -> None:
    assert parse_filter(text) == expected


def test_precedence_and_grouping() -> None:
    a, b, c = (Comparison("metric", k, ">", 1.0) for k in "abc")
    assert parse_filter("metrics.a > 1 or metrics.b > 1 and metrics.c > 1") == Or((a, And((b, c))))
    assert parse_filter("(metrics.a > 1 or metrics.b > 1) and metrics.c > 1") == And(
        (Or((a, b)), c)
    )
    assert parse_filter("NOT metrics.a > 1 AND metrics.b > 1") == And((Not(a), b))


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("metrics.auc >", 13, "expected a number"),
        ("metrics.auc > 'x'", 14, "numeric"),
        ("params.lr = 0.1", 12, "quote the value"),
        ("foo = 1", 0, "unknown field"),
        ("attributes.color = 'red'", 0, "unknown attribute"),
        ("metrics.a > 1 and", 17, "expected a field"),
        ("metrics.a LIKE '1'", 10, "not allowed"),
        ("(metrics.a > 1", 14, "')'"),
        ("tags.x = 'abc", 9, "unterminated"),
        ("metrics.a > 1 metrics.b > 2", 14, "AND, OR"),
        ("metrics.a ! 1", 10, "unexpected character"),
        ("params.a IN 'x'", 12, "'('"),
        ("params.a IN ('x' 'y')", 17, "')'"),
        ("params.a NOT = 'x'", 13, "LIKE, ILIKE or IN"),
        ("metrics. > 1", 9, "key"),
    ],
)
def test_errors_point_at_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    assert info.value.position == position
    assert message in str(info.value)
    assert str(info.value).splitlines()[-1] == "  " + " " * position + "^"


def test_order_by() -> None:
    assert parse_order_by(None) == ()
    assert parse_order_by(["metrics.auc DESC", "start_time", "params.`a b` asc"]) == (
        OrderKey("metric", "auc", False),
        OrderKey("attribute", "start_time", True),
        OrderKey("param", "a b", True),
    )
    with pytest.raises(FilterSyntaxError, match="ASC, DESC"):
        parse_order_by(["metrics.auc DOWN"])
    with pytest.raises(FilterSyntaxError):
        parse_order_by([42])  # type: ignore[list-item]


keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda k: k.upper() not in {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "ASC", "DESC"}
)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)
strings = st.text(st.characters(blacklist_categories=["Cs"]), max_size=20)


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[str, Comparison]:
    entity = draw(st.sampled_from(["metric", "param", "tag"]))
    key = draw(keys)
    if entity == "metric":
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        value: float | str = draw(numbers)
        literal = repr(value)
    else:
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE"]))
        value = draw(strings)
        literal = "'" + str(value).replace("'", "''") + "'"
    return f"{entity}s.{key} {op} {literal}", Comparison(entity, key, op, value)


@settings(max_examples=200, deadline=None)
@given(st.lists(comparisons(), min_size=1, max_size=4), st.sampled_from(["and", "OR"]))
def test_round_trip_of_generated_filters(parts: list[tuple[str, Comparison]], joiner: str) -> None:
    text = f" {joiner} ".join(p[0] for p in parts)
    tree = parse_filter(text)
    nodes = [p[1] for p in parts]
    expected = nodes[0] if len(nodes) == 1 else (And if joiner == "and" else Or)(tuple(nodes))
    assert tree == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_a_filter_error(text: str) -> None:
    try:
        parse_filter(text)
    except FilterSyntaxError as err:
        assert 0 <= err.position <= len(text)


def test_a_filter_on_the_old_parent_tag_reads_the_new_one_with_a_warning() -> None:
    with pytest.warns(MloopWarning, match="mloop.parentRunId"):
        node = parse_filter("tags.`mloop.parent_run_id` = 'abc'")
    assert filter_keys(node) == [("tag", "mloop.parentRunId")]
