"""The alert-rule language: what parses to what, its canonical text, and every error a user can hit."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.errors import FilterSyntaxError, InvalidInput
from mloop.monitoring.rule_language import (
    MAX_LENGTH,
    MAX_NESTING,
    MAX_OPERATORS,
    MAX_WINDOWS,
    parse_rule,
)
from mloop.monitoring.rule_tree import (
    And,
    Arithmetic,
    Comparison,
    Metric,
    Negative,
    Not,
    Number,
    Or,
    metric_keys,
    render,
)

OPERATORS = "the operators are +, -, *, /, <, <=, >, >=, ==, !=, and, or, not"
USER_RULES = [
    ("drift_share > 0.3", 1, ("drift_share",)),
    ("psi(income) > 0.2", 1, ("psi(income)",)),
    ("accuracy < 0.85 for 2 windows", 2, ("accuracy",)),
    (
        "estimated_roc_auc < champion.roc_auc - 0.05",
        1,
        ("estimated_roc_auc", "champion.roc_auc"),
    ),
    ("missing(income) > 0.01", 1, ("missing(income)",)),
    ("rows < 100", 1, ("rows",)),
    ("drift(age) >= 0.1 and drift(plan) >= 0.1", 1, ("drift(age)", "drift(plan)")),
    ("p_value(age) < 0.01 or missing(age) > 0.2", 1, ("p_value(age)", "missing(age)")),
    ('missing("annual income") > 0.01', 1, ("missing(annual income)",)),
]


@pytest.mark.parametrize(("text", "windows", "keys"), USER_RULES)
def test_the_rules_users_write_parse_and_print_as_written(
    text: str, windows: int, keys: tuple[str, ...]
) -> None:
    condition, found = parse_rule(text)
    assert found == windows
    assert metric_keys(condition) == keys
    assert render(condition) + (f" for {windows} windows" if windows > 1 else "") == text


def test_the_tree_of_a_rule() -> None:
    condition, _ = parse_rule("estimated_roc_auc < champion.roc_auc - 0.05")
    assert condition == Comparison(
        "<",
        Metric("estimated_roc_auc"),
        Arithmetic("-", Metric("roc_auc", champion=True), Number(0.05, "0.05")),
    )
    assert parse_rule('missing("annual income") != 0')[0] == Comparison(
        "!=", Metric("missing", "annual income"), Number(0.0, "0")
    )


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        (
            "a > 1 or b > 2 and c > 3",
            Or(
                Comparison(">", Metric("a"), Number(1, "1")),
                And(
                    Comparison(">", Metric("b"), Number(2, "2")),
                    Comparison(">", Metric("c"), Number(3, "3")),
                ),
            ),
        ),
        (
            "not a > 1 and b > 2",
            And(
                Not(Comparison(">", Metric("a"), Number(1, "1"))),
                Comparison(">", Metric("b"), Number(2, "2")),
            ),
        ),
        (
            "a - b - c * -d == 0",
            Comparison(
                "==",
                Arithmetic(
                    "-",
                    Arithmetic("-", Metric("a"), Metric("b")),
                    Arithmetic("*", Metric("c"), Negative(Metric("d"))),
                ),
                Number(0, "0"),
            ),
        ),
        ("+a <= ((1))", Comparison("<=", Metric("a"), Number(1, "1"))),
    ],
)
def test_precedence_and_associativity(text: str, tree: object) -> None:
    assert parse_rule(text)[0] == tree


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-3", 0.001), (".5", 0.5), ("5.", 5.0), ("2.5E+2", 250.0), ("5%", 0.05), ("0.5%", 0.005)],
)
def test_numbers(text: str, value: float) -> None:
    condition = parse_rule(f"x > {text}")[0]
    assert isinstance(condition, Comparison)
    assert condition.right == Number(value, text.lower())
    assert render(condition) == f"x > {text.lower()}"


def test_keywords_are_case_insensitive_and_one_window_is_no_clause() -> None:
    assert parse_rule("A > 1 AND b < 2 FOR 3 WINDOWS")[1] == 3
    assert parse_rule("a > 1 for 1 window") == parse_rule("a > 1")
    assert parse_rule("windows > 1 for 2 window")[1] == 2  # 'windows' is a fine metric name


def test_limits_are_reached_and_not_crossed() -> None:
    longest = "x > 1" + " " * (MAX_LENGTH - 5)
    assert parse_rule(longest)[1] == 1
    nested = "(" * MAX_NESTING + "x > 1" + ")" * MAX_NESTING
    assert render(parse_rule(nested)[0]) == "x > 1"
    many = " + ".join(["x"] * MAX_OPERATORS) + " > 1"
    assert len(metric_keys(parse_rule(many)[0])) == 1
    assert parse_rule(f"x > 1 for {MAX_WINDOWS} windows")[1] == MAX_WINDOWS


# Every error a user can hit: the exact message and the position it points at.
ERRORS = [
    ("", "the rule is empty: write a condition such as 'drift_share > 0.3'", 0),
    ("   ", "the rule is empty: write a condition such as 'drift_share > 0.3'", 0),
    (
        "x" * (MAX_LENGTH + 1),
        f"a rule has at most {MAX_LENGTH} characters, this one has 1001",
        1000,
    ),
    ("a => 1", "unknown operator '=>': write '>='", 2),
    ("a =< 1", "unknown operator '=<': write '<='", 2),
    ("a = 1", "unknown operator '=': write '==' to compare for equality", 2),
    ("a === 1", "unknown operator '===': write '=='", 2),
    ("a <> 1", "unknown operator '<>': write '!='", 2),
    ("a > 1 && b > 1", "unknown operator '&&': write 'and'", 6),
    ("a > 1 || b > 1", "unknown operator '||': write 'or'", 6),
    ("!(a > 1)", "unknown operator '!': write 'not'", 0),
    ("a !! 1", "unknown operator '!!': " + OPERATORS, 2),
    ("a ** 2 > 1", "unknown operator '**': rules have no power operator", 2),
    ("a */ 2 > 1", "unknown operator '*/': " + OPERATORS, 2),
    ("a // 2 > 1", "unknown operator '//': write '/' (rules have no floor division)", 2),
    (
        "a % 2 > 1",
        "'%' follows a number as a percentage (5% is 0.05); rules have no remainder operator",
        2,
    ),
    ("a < 1 for 0 windows", "'for 0 windows': the number of windows is a whole number >= 1", 10),
    (
        "a < 1 for 2.5 windows",
        "'for 2.5 windows': the number of windows is a whole number >= 1",
        10,
    ),
    ("a < 1 for 2% windows", "'for 2% windows': the number of windows is a whole number >= 1", 10),
    ("a < 1 for 1001 windows", "'for 1001 windows': at most 1000 windows", 10),
    (
        "a < 1 for 2 days",
        "expected 'windows' after 'for 2', found 'days': rules count the monitor's windows, "
        "not time",
        12,
    ),
    (
        "a < 1 for 2",
        "expected 'windows' after 'for 2', found the end of the rule: rules count "
        "the monitor's windows, not time",
        11,
    ),
    ("a < 1 for windows", "expected a number of windows after 'for', found 'windows'", 10),
    (
        "a < 1 for 2 windows and b > 1",
        "unexpected 'and': 'for N windows' ends the rule, after the whole condition",
        20,
    ),
    (
        "(a < 1 for 2 windows)",
        "'for N windows' applies to the whole rule: put it last, outside ( )",
        7,
    ),
    (
        "accuracy",
        "'accuracy' is a value, not a condition: compare it with <, <=, >, >=, ==, !=, "
        "as in 'accuracy > 0.5'",
        0,
    ),
    (
        "accuracy for 2 windows",
        "'accuracy' is a value, not a condition: compare it with <, <=, >, >=, ==, !=, "
        "as in 'accuracy > 0.5'",
        0,
    ),
    (
        "a > 1 and psi(x)",
        "'psi(x)' is a value, not a condition: compare it with <, <=, >, >=, ==, !=, "
        "as in 'psi(x) > 0.5'",
        10,
    ),
    (
        "accuracy 0.85",
        "expected an operator after 'accuracy', found '0.85': compare it with "
        "<, <=, >, >=, ==, !=, or use +, -, * or /",
        9,
    ),
    ("a > 1 b > 2", "unexpected 'b' after a condition: join conditions with 'and' or 'or'", 6),
    (
        "(a > 1) + 1 > 2",
        "(a > 1) is a condition, not a value: only values are compared, added or multiplied",
        1,
    ),
    ("a < b < c", "comparisons do not chain: join two with 'and', as in 'a < b and b < c'", 6),
    ("a > 1 and", "expected a number, a metric or '(', found the end of the rule", 9),
    ("a > 1 and or b > 1", "expected a number, a metric or '(', found the keyword 'or'", 10),
    ("(a > 1", "expected ')' to close the '(' at position 0, found the end of the rule", 6),
    ("a > 1)", "unmatched ')'", 5),
    ("max(a, b) > 1", "max( ) takes one column: max(column)", 5),
    ("f(g(x)) > 1", "rules call no functions: f(column) reads a metric of a column", 3),
    ("f() > 1", "f() names no column: write f(column), or f alone", 2),
    (
        "f(1) > 1",
        'a column name is a word or a quoted string, as in f(income) or f("annual income"); '
        "found '1'",
        2,
    ),
    ("f(x y) > 1", "expected ')' after the column of f(, found 'y'", 4),
    ('missing("") > 1', "the column name of missing( ) is empty", 8),
    ('missing("abc) > 1', "unterminated quoted column name", 8),
    ("f(x)(y) > 1", "unexpected '(' after 'f(x)': only a metric name takes a (column)", 4),
    ("2(x) > 1", "unexpected '(' after '2': only a metric name takes a (column)", 1),
    (
        "os.system > 1",
        "'.' after 'os': the only dotted names are the champion's metrics, "
        "as in 'champion.roc_auc'",
        2,
    ),
    (
        "psi(x).real > 1",
        "'.' after 'psi(x)': the only dotted names are the champion's metrics, "
        "as in 'champion.roc_auc'",
        6,
    ),
    (
        "champion.auc.real > 1",
        "'.' after 'champion.auc': the only dotted names are the champion's metrics, "
        "as in 'champion.roc_auc'",
        12,
    ),
    (
        "champion > 1",
        "'champion' is followed by '.' and a metric of the champion model, "
        "as in 'champion.roc_auc'; found '>'",
        9,
    ),
    ("champion.(x) > 1", "expected a metric name after 'champion.', found '('", 9),
    ("champion.auc(x) > 1", "the champion's metrics have no column: write champion.NAME", 12),
    ("x[0] > 1", "rules have no subscripts: a column's metric is written name(column)", 1),
    (
        "'abc' > 1",
        "a quoted string is a column name and goes inside a metric's parentheses, "
        'as in missing("annual income")',
        0,
    ),
    (
        "x > 'abc'",
        "a quoted string is a column name and goes inside a metric's parentheses, "
        'as in missing("annual income")',
        4,
    ),
    (
        "__import__('os').system('ls') > 0",
        "'__import__' is not a metric name: names starting with '__' are refused",
        0,
    ),
    (
        "champion.__class__ > 0",
        "'__class__' is not a metric name: names starting with '__' are refused",
        9,
    ),
    ("lambda: 1", "'lambda' is a Python keyword, not a metric: a rule compares metrics", 0),
    ("True > 0", "'True' is a Python keyword, not a metric: a rule compares metrics", 0),
    (
        "x in (1, 2)",
        "expected an operator after 'x', found 'in': compare it with "
        "<, <=, >, >=, ==, !=, or use +, -, * or /",
        2,
    ),
    ("x > 1;", "unexpected character ';'", 5),
    ("x > {1}", "unexpected character '{'", 4),
    (
        "âge > 1",
        "unexpected character 'â': quote a column name with such letters, as in missing(\"âge\")",
        0,
    ),
    ("1e > x", "malformed number '1e'", 0),
    ("x > 0.2.3", "malformed number '0.2.3'", 4),
    ("x > 5%%", "malformed number '5%%'", 4),
    ("x > 1e999", "the number '1e999' is too large", 4),
    ("x > " + "9" * 400, "the number '" + "9" * 40 + "…' is too large", 4),
    (
        "-" * (MAX_NESTING + 1) + "x > 1",
        f"more than {MAX_NESTING} parentheses, 'not's and signs are open at once",
        MAX_NESTING,
    ),
    (
        "not " * (MAX_NESTING + 1) + "x > 1",
        f"more than {MAX_NESTING} parentheses, 'not's and signs are open at once",
        4 * MAX_NESTING,
    ),
    (
        "+".join(["x"] * (MAX_OPERATORS + 1)) + " > 1",
        f"a rule has at most {MAX_OPERATORS} operators; this is one more",
        2 * MAX_OPERATORS + 2,  # the comparison, after 100 additions
    ),
]


@pytest.mark.parametrize(("text", "message", "position"), ERRORS)
def test_errors_say_what_is_wrong_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_rule(text)
    assert str(caught.value).split(f" at position {position}:")[0] == f"alert rule: {message}"
    assert caught.value.position == position
    assert caught.value.text == text
    assert isinstance(caught.value, InvalidInput)


ATTACKS = [
    "__import__('sys').modules.__setitem__('rule_canary', 1) or x > 1",
    "x > 1 and __builtins__.exec('import sys; sys.modules[\"rule_canary\"] = 1')",
    "().__class__.__bases__[0].__subclasses__() > 0",
    "(lambda: __import__('sys'))() > 0",
    "exec('import sys') > 0 if 1 else 0",
    "globals()['rule_canary'] > 0",
    "x > 1; import sys",
    "x > 1\nimport sys",
    "[c for c in ().__class__.__base__.__subclasses__()] > 0",
    "f'{__import__(\"sys\")}' > 0",
    "x.__class__ > 0",
    "x > 1 for __import__('sys') windows",
    "breakpoint() > 0",
    "x := 1",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_nothing_is_ever_executed(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_rule(text)
    assert "rule_canary" not in sys.modules


def test_names_of_builtins_are_only_metric_keys() -> None:
    condition, _ = parse_rule("eval(x) > 0 or open('/etc/passwd') > 0 or exec > 0")
    assert metric_keys(condition) == ("eval(x)", "open(/etc/passwd)", "exec")


ALPHABET = "abx_(). \"'<>=!+-*/%0123456789e,[]:;&|\\n" + "ä"
WORDS = ["and", "or", "not", "for", "windows", "champion", "x", "psi(age)", "1", "0.5", "%"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40) | st.lists(st.sampled_from(WORDS)).map(" ".join))
def test_any_text_parses_or_raises_invalid_input(text: str) -> None:
    try:
        condition, _ = parse_rule(text)
    except InvalidInput:
        return
    assert parse_rule(render(condition))[0] == condition
