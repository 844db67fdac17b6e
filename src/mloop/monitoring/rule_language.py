"""The language of alert rules: its grammar, and the parser that reads text into a tree.

Grammar (keywords are case-insensitive; metric names are not)::

    rule       := condition [ "for" INTEGER ( "window" | "windows" ) ]
    condition  := and_expr ( "or" and_expr )*
    and_expr   := not_expr ( "and" not_expr )*
    not_expr   := "not" not_expr | comparison
    comparison := sum [ ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum ]
    sum        := product ( ( "+" | "-" ) product )*
    product    := unary ( ( "*" | "/" ) unary )*
    unary      := "-" unary | "+" unary | atom
    atom       := NUMBER | metric | "champion" "." NAME | "(" condition ")"
    metric     := NAME [ "(" column ")" ]
    column     := NAME | "double-quoted" | 'single-quoted'
    NAME       := [A-Za-z_][A-Za-z0-9_]*
    NUMBER     := 12 | 0.5 | .5 | 1e-3 | 2.5E+2, optionally followed by % (5% is 0.05)

Parentheses group conditions as well as arithmetic; the tree is then checked
so that comparisons and arithmetic take values, and ``and``, ``or`` and ``not``
take conditions. Comparisons do not chain (``0.1 < x < 0.3`` is refused: write
``0.1 < x and x < 0.3``). A quote inside a quoted column is doubled
(``missing("the ""best"" plan")``). The reserved words are ``and``, ``or``,
``not``, ``for`` and ``champion``; Python's keywords and names starting with
``__`` are refused. A rule has at most :data:`MAX_LENGTH` characters,
:data:`MAX_OPERATORS` binary operators and :data:`MAX_NESTING` levels of
parentheses, ``not`` and signs, and ``for N windows`` counts at most
:data:`MAX_WINDOWS` windows.

Nothing is ever executed: text becomes tokens, tokens become the plain values
of :mod:`mloop.monitoring.rule_tree`, and :mod:`mloop.monitoring.rule_evaluation`
walks them. An error raises :class:`~mloop.errors.FilterSyntaxError` (an
:class:`~mloop.errors.InvalidInput`) that points at the offending position.

Example:
    >>> condition, windows = parse_rule("accuracy < champion.accuracy - 5%  FOR 2 windows")
    >>> from mloop.monitoring.rule_tree import render
    >>> render(condition), windows
    ('accuracy < champion.accuracy - 5%', 2)
"""

from __future__ import annotations

import dataclasses
import keyword
import math
import re
from typing import NoReturn

from mloop.errors import FilterSyntaxError
from mloop.monitoring.rule_tree import (
    COMPARISONS,
    And,
    Arithmetic,
    Comparison,
    Condition,
    Metric,
    Negative,
    Node,
    Not,
    Number,
    Or,
    Value,
    render,
)

MAX_LENGTH = 1000
"""The longest rule text, in characters."""

MAX_NESTING = 20
"""How many parentheses, ``not`` and signs may be open at once."""

MAX_WINDOWS = 1000
"""The largest N of ``for N windows``."""

MAX_OPERATORS = 100
"""How many binary operators (comparisons, arithmetic, ``and``, ``or``) a rule may have."""

RESERVED = frozenset({"and", "or", "not", "for", "champion"})


# --- tokens ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?%?)
  | (?P<string>"(?:[^"]|"")*"|'(?:[^']|'')*')
  | (?P<compare>[<>=!&|^~]+)
  | (?P<arith>[*/]+|[+-])
  | (?P<punct>[().,])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_OPERATOR_ADVICE = {
    "=": "write '==' to compare for equality",
    "===": "write '=='",
    "!==": "write '!='",
    "=>": "write '>='",
    "=<": "write '<='",
    "<>": "write '!='",
    "!": "write 'not'",
    "~": "write 'not'",
    "&": "write 'and'",
    "&&": "write 'and'",
    "|": "write 'or'",
    "||": "write 'or'",
    "**": "rules have no power operator",
    "//": "write '/' (rules have no floor division)",
}
_OPERATORS = "the operators are +, -, *, /, " + ", ".join(COMPARISONS) + ", and, or, not"
_CHARACTER_ADVICE = {
    "%": "'%' follows a number as a percentage (5% is 0.05); rules have no remainder operator",
    "[": "rules have no subscripts: a column's metric is written name(column)",
    "]": "rules have no subscripts: a column's metric is written name(column)",
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, op, punct, word, end
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    # A bad character ends the tokens with an error token, raised when the parser reaches
    # it: errors come in reading order ('lambda: 1' is about 'lambda', not about ':').
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            tokens.append(_Token("error", _bad_character(text, pos), pos))
            break
        kind, word = match.lastgroup or "", match.group()
        if kind == "number" and re.match(r"[A-Za-z0-9_.%]", text[match.end() :]):
            tail = re.match(r"[A-Za-z0-9_.%]*", text[pos:])
            shown = tail.group() if tail else word
            tokens.append(_Token("error", f"malformed number {shown!r}", pos))
            break
        if kind in ("compare", "arith"):
            if word not in COMPARISONS and word not in ("+", "-", "*", "/"):
                advice = _OPERATOR_ADVICE.get(word, _OPERATORS)
                tokens.append(_Token("error", f"unknown operator {word!r}: {advice}", pos))
                break
            kind = "op"
        if kind != "ws":
            tokens.append(_Token(kind, word, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _bad_character(text: str, pos: int) -> str:
    char = text[pos]
    if char in "'\"":
        return "unterminated quoted column name"
    if char in _CHARACTER_ADVICE:
        return _CHARACTER_ADVICE[char]
    if char.isalpha():
        word = re.match(r"\w+", text[pos:])
        return (
            f"unexpected character {char!r}: quote a column name with such letters, "
            f'as in missing("{word.group() if word else char}")'
        )
    return f"unexpected character {char!r}"


def _fail_at(text: str, pos: int, message: str) -> NoReturn:
    raise FilterSyntaxError(f"alert rule: {message}", text, pos)


# --- parser ---------------------------------------------------------------------------


def parse_rule(text: str) -> tuple[Condition, int]:
    """Parse a rule's text into its condition and its number of windows (1 without ``for``).

    Raises:
        FilterSyntaxError: the text is not a rule; the message points at the position.

    Example:
        >>> parse_rule("rows < 100")
        (Comparison(op='<', left=Metric(name='rows', column=None, champion=False), \
right=Number(value=100.0, text='100')), 1)
    """
    if len(text) > MAX_LENGTH:
        _fail_at(
            text,
            MAX_LENGTH,
            f"a rule has at most {MAX_LENGTH} characters, this one has {len(text)}",
        )
    if not text.strip():
        _fail_at(text, 0, "the rule is empty: write a condition such as 'drift_share > 0.3'")
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.operators = 0

    @property
    def current(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind == "error":
            _fail_at(self.text, token.pos, token.text)
        return token

    def _advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def _is(self, kind: str, *texts: str) -> bool:
        token = self.current
        return token.kind == kind and (not texts or token.text.lower() in texts)

    def _fail(self, message: str, pos: int | None = None) -> NoReturn:
        _fail_at(self.text, self.current.pos if pos is None else pos, message)

    def _found(self) -> str:
        token = self.current
        return "the end of the rule" if token.kind == "end" else repr(token.text[:40])

    def _enter(self) -> None:
        # Checked before descending, so that no text reaches Python's recursion limit.
        if self.depth == MAX_NESTING:
            self._fail(f"more than {MAX_NESTING} parentheses, 'not's and signs are open at once")
        self.depth += 1

    def _operator(self) -> str:
        # Bounds the depth of the tree, which is walked recursively.
        if self.operators == MAX_OPERATORS:
            self._fail(f"a rule has at most {MAX_OPERATORS} operators; this is one more")
        self.operators += 1
        return self._advance().text.lower()

    def parse(self) -> tuple[Condition, int]:
        node = self._or()
        if not self._is("end") and not self._is("word", "for"):
            self._leftover(node)
        condition = self._condition(node)
        windows = self._windows() if self._is("word", "for") else 1
        if not self._is("end"):
            self._fail(
                f"unexpected {self._found()}: 'for N windows' ends the rule, after the "
                "whole condition"
            )
        return condition, windows

    def _leftover(self, node: Node) -> NoReturn:
        found = self._found()
        if self._is("punct", ")"):
            self._fail("unmatched ')'")
        if isinstance(node, (Comparison, And, Or, Not)):
            self._fail(f"unexpected {found} after a condition: join conditions with 'and' or 'or'")
        self._fail(
            f"expected an operator after {render(node)!r}, found {found}: compare it with "
            f"{', '.join(COMPARISONS)}, or use +, -, * or /"
        )

    def _windows(self) -> int:
        self._advance()
        count = self.current
        if count.kind != "number":
            self._fail(f"expected a number of windows after 'for', found {self._found()}")
        if not count.text.isdigit() or int(count.text) < 1:
            self._fail(f"'for {count.text} windows': the number of windows is a whole number >= 1")
        if int(count.text) > MAX_WINDOWS:
            self._fail(f"'for {count.text} windows': at most {MAX_WINDOWS} windows")
        self._advance()
        if not self._is("word", "window", "windows"):
            self._fail(
                f"expected 'windows' after 'for {count.text}', found {self._found()}: rules "
                "count the monitor's windows, not time"
            )
        self._advance()
        return int(count.text)

    def _condition(self, node: Node) -> Condition:
        if isinstance(node, (Comparison, And, Or, Not)):
            return node
        self._fail(
            f"{render(node)!r} is a value, not a condition: compare it with "
            f"{', '.join(COMPARISONS)}, as in '{render(node)} > 0.5'",
            node.pos,
        )

    def _value(self, node: Node) -> Value:
        if isinstance(node, (Number, Metric, Negative, Arithmetic)):
            return node
        self._fail(
            f"({render(node)}) is a condition, not a value: only values are compared, "
            "added or multiplied",
            node.pos,
        )

    def _or(self) -> Node:
        node = self._and()
        while self._is("word", "or"):
            self._operator()
            left = self._condition(node)
            node = Or(left, self._condition(self._and()), left.pos)
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._is("word", "and"):
            self._operator()
            left = self._condition(node)
            node = And(left, self._condition(self._not()), left.pos)
        return node

    def _not(self) -> Node:
        if not self._is("word", "not"):
            return self._comparison()
        self._enter()
        start = self._advance().pos
        node = Not(self._condition(self._not()), start)
        self.depth -= 1
        return node

    def _comparison(self) -> Node:
        node = self._sum()
        if self.current.kind != "op" or self.current.text not in COMPARISONS:
            return node
        op = self._operator()
        result = Comparison(op, self._value(node), self._value(self._sum()), node.pos)
        if self.current.kind == "op" and self.current.text in COMPARISONS:
            self._fail("comparisons do not chain: join two with 'and', as in 'a < b and b < c'")
        return result

    def _sum(self) -> Node:
        node = self._product()
        while self._is("op", "+", "-"):
            op = self._operator()
            left = self._value(node)
            node = Arithmetic(op, left, self._value(self._product()), left.pos)
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self._is("op", "*", "/"):
            op = self._operator()
            left = self._value(node)
            node = Arithmetic(op, left, self._value(self._unary()), left.pos)
        return node

    def _unary(self) -> Node:
        if not self._is("op", "+", "-"):
            return self._atom()
        self._enter()
        sign = self._advance()
        operand = self._value(self._unary())
        self.depth -= 1
        return operand if sign.text == "+" else Negative(operand, sign.pos)

    def _atom(self) -> Node:
        token = self.current
        if token.kind == "number":
            return self._number()
        if token.kind == "word":
            return self._metric()
        if self._is("punct", "("):
            self._enter()
            self._advance()
            node = self._or()
            self.depth -= 1
            if self._is("word", "for"):
                self._fail("'for N windows' applies to the whole rule: put it last, outside ( )")
            if not self._is("punct", ")"):
                self._fail(
                    f"expected ')' to close the '(' at position {token.pos}, found {self._found()}"
                )
            self._advance()
            return node
        if token.kind == "string":
            self._fail(
                "a quoted string is a column name and goes inside a metric's parentheses, "
                'as in missing("annual income")'
            )
        self._fail(f"expected a number, a metric or '(', found {self._found()}")

    def _number(self) -> Number:
        token = self._advance()
        text = token.text.lower()
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
        if not math.isfinite(value):
            shown = token.text if len(token.text) <= 40 else token.text[:40] + "…"
            self._fail(f"the number {shown!r} is too large", token.pos)
        self._trailer(text)
        return Number(value, text, token.pos)

    def _metric(self) -> Metric:
        token = self._advance()
        name = token.text
        lowered = name.lower()
        if lowered == "champion":
            return self._champion(token)
        if lowered in RESERVED:
            self._fail(
                f"expected a number, a metric or '(', found the keyword {lowered!r}", token.pos
            )
        _check_name(self, name, token.pos)
        column = None
        if self._is("punct", "("):
            column = self._column(name)
        metric = Metric(name, column, False, token.pos)
        self._trailer(render(metric))
        return metric

    def _champion(self, token: _Token) -> Metric:
        if not self._is("punct", "."):
            self._fail(
                f"'champion' is followed by '.' and a metric of the champion model, as in "
                f"'champion.roc_auc'; found {self._found()}"
            )
        self._advance()
        if not self._is("word"):
            self._fail(f"expected a metric name after 'champion.', found {self._found()}")
        name = self._advance()
        _check_name(self, name.text, name.pos)
        metric = Metric(name.text, None, True, token.pos)
        if self._is("punct", "("):
            self._fail("the champion's metrics have no column: write champion.NAME")
        self._trailer(metric.key)
        return metric

    def _column(self, name: str) -> str:
        self._advance()
        token = self.current
        if token.kind == "word":
            column = token.text
        elif token.kind == "string":
            column = token.text[1:-1].replace(token.text[0] * 2, token.text[0])
            if not column:
                self._fail(f"the column name of {name}( ) is empty")
        elif self._is("punct", ")"):
            self._fail(f"{name}() names no column: write {name}(column), or {name} alone")
        else:
            self._fail(
                f"a column name is a word or a quoted string, as in {name}(income) or "
                f'{name}("annual income"); found {self._found()}'
            )
        self._advance()
        if self._is("punct", "("):
            self._fail(f"rules call no functions: {name}(column) reads a metric of a column")
        if self._is("punct", ","):
            self._fail(f"{name}( ) takes one column: {name}(column)")
        if not self._is("punct", ")"):
            self._fail(f"expected ')' after the column of {name}(, found {self._found()}")
        self._advance()
        return column

    def _trailer(self, shown: str) -> None:
        if self._is("punct", "."):
            self._fail(
                f"'.' after {shown!r}: the only dotted names are the champion's metrics, "
                "as in 'champion.roc_auc'"
            )
        if self._is("punct", "("):
            self._fail(f"unexpected '(' after {shown!r}: only a metric name takes a (column)")


def _check_name(parser: _Parser, name: str, pos: int) -> None:
    if name.startswith("__"):
        parser._fail(f"{name!r} is not a metric name: names starting with '__' are refused", pos)
    if keyword.iskeyword(name):
        parser._fail(f"{name!r} is a Python keyword, not a metric: a rule compares metrics", pos)
