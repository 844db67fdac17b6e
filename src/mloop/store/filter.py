"""The search grammar: ``filter_string`` and ``order_by`` parsed into a small typed tree.

Grammar (keywords are case-insensitive)::

    filter     := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison := field op value | field ["NOT"] "IN" "(" value ("," value)* ")"
    field      := entity "." key | attribute
    entity     := metrics | params | tags | attributes   (singular forms too)
    key        := bare-key | `back-quoted` | "double-quoted"
    op         := = | == | != | <> | < | <= | > | >= | LIKE | ILIKE | NOT LIKE | NOT ILIKE
    value      := number | 'single-quoted' | "double-quoted"

Metrics compare with numbers; params and tags are strings; attributes are
``run_id, run_name, status, start_time, end_time, experiment_id, artifact_uri,
lifecycle_stage, parent_run_id`` (the two times are numbers, in milliseconds).
A malformed filter raises :class:`~mloop.errors.FilterSyntaxError` pointing at
the offending position.

Limits, so that every accepted filter runs on SQLite and PostgreSQL alike
(SQLite's parser stack and its expression depth of 1000 are the tight ones):

- at most ``MAX_NESTING`` (10) groups and NOTs open at once:
  ``NOT (a OR (b AND c))`` is 3 deep;
- at most ``MAX_COMPARISONS`` (500) comparisons in one filter;
- at most ``MAX_IN_VALUES`` (10,000) values across its IN lists.

Beyond them the filter is refused with a FilterSyntaxError pointing at the
position where the limit was crossed. Many comparisons of one field are one
``IN (...)``: ``run_id IN ('a', 'b', 'c')`` rather than ``run_id = 'a' OR
run_id = 'b' OR ...``.

Example:
    >>> parse_filter("metrics.auc > 0.9 and params.lr = '0.1'")
    And(operands=(Comparison(entity='metric', key='auc', op='>', value=0.9), \
Comparison(entity='param', key='lr', op='=', value='0.1')))
    >>> parse_order_by(["metrics.auc DESC"])
    (OrderKey(entity='metric', key='auc', ascending=False),)
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterable
from typing import NoReturn, TypeAlias

from mloop.entities import PARENT_RUN_TAG
from mloop.errors import FilterSyntaxError, MloopWarning

Value: TypeAlias = float | str | tuple[float | str, ...]

MAX_NESTING = 10
MAX_COMPARISONS = 500
MAX_IN_VALUES = 10_000

ENTITIES = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time"})
STRING_ATTRIBUTES = frozenset(
    {
        "run_id",
        "run_name",
        "status",
        "experiment_id",
        "artifact_uri",
        "lifecycle_stage",
        "parent_run_id",
    }
)
ATTRIBUTES = NUMERIC_ATTRIBUTES | STRING_ATTRIBUTES
# Tags mloop once wrote under another name; a filter on the old name still finds them.
RENAMED_TAGS = {"mloop.parent_run_id": PARENT_RUN_TAG}
_ATTRIBUTE_ALIASES = {"run_uuid": "run_id", "name": "run_name", "created": "start_time"}
NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN"})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN"})


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """``<entity>.<key> <op> <value>``; IN lists are tuples."""

    entity: str
    key: str
    op: str
    value: Value


@dataclasses.dataclass(frozen=True, slots=True)
class And:
    """All operands hold."""

    operands: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Or:
    """At least one operand holds."""

    operands: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Not:
    """The operand does not hold."""

    operand: Node


Node: TypeAlias = Comparison | And | Or | Not


@dataclasses.dataclass(frozen=True, slots=True)
class OrderKey:
    """One ``order_by`` term."""

    entity: str
    key: str
    ascending: bool = True


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)(?![\w.]))
  | (?P<squote>'(?:[^']|'')*')
  | (?P<dquote>"(?:[^"]|"")*")
  | (?P<bquote>`[^`]*`)
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),.])
  | (?P<word>[A-Za-z_][\w\-/:]*)
    """,
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "'\"`":
                raise FilterSyntaxError("unterminated quoted string", text, pos)
            raise FilterSyntaxError(f"unexpected character {text[pos]!r}", text, pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unquote(token: _Token) -> str:
    quote = token.text[0]
    body = token.text[1:-1]
    return body if quote == "`" else body.replace(quote * 2, quote)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.comparisons = 0
        self.in_values = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def _is_word(self, *words: str) -> bool:
        return self.current.kind == "word" and self.current.text.upper() in words

    def _expect_punct(self, char: str, what: str) -> None:
        if self.current.kind != "punct" or self.current.text != char:
            self._fail(f"expected {what}")
        self._advance()

    def _fail(self, message: str, token: _Token | None = None) -> NoReturn:
        token = token or self.current
        text = token.text if len(token.text) <= 40 else token.text[:40] + "…"
        found = "end of input" if token.kind == "end" else repr(text)
        raise FilterSyntaxError(f"{message}, found {found}", self.text, token.pos)

    def parse(self) -> Node:
        node = self._or()
        if self.current.kind != "end":
            self._fail("expected AND, OR or the end of the filter")
        return node

    def _or(self) -> Node:
        operands = [self._and()]
        while self._is_word("OR"):
            self._advance()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _and(self) -> Node:
        operands = [self._not()]
        while self._is_word("AND"):
            self._advance()
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _not(self) -> Node:
        if self._is_word("NOT"):
            self._enter()
            node: Node = Not(self._not())
        elif self.current.kind == "punct" and self.current.text == "(":
            self._enter()
            node = self._or()
            self._expect_punct(")", "')' to close the group")
        else:
            return self._comparison()
        self.depth -= 1
        return node

    def _enter(self) -> None:
        # Checked before descending: a deep filter never reaches Python's recursion limit.
        if self.depth == MAX_NESTING:
            raise FilterSyntaxError(
                f"groups and NOTs nest more than {MAX_NESTING} deep (flatten the filter: "
                "NOT (a OR b) is NOT a AND NOT b, and comparisons of one field combine into "
                f"IN (...), e.g. run_id IN ('a', 'b')); level {MAX_NESTING + 1} opens",
                self.text,
                self.current.pos,
            )
        self.depth += 1
        self._advance()

    def _count(self, token: _Token, values: int = 0) -> None:
        self.comparisons += 1
        self.in_values += values
        if self.comparisons > MAX_COMPARISONS:
            raise FilterSyntaxError(
                f"the filter has more than {MAX_COMPARISONS} comparisons (combine those of "
                "one field into IN (...): run_id IN ('a', 'b') rather than "
                f"run_id = 'a' OR run_id = 'b'); comparison {MAX_COMPARISONS + 1} is",
                self.text,
                token.pos,
            )
        if self.in_values > MAX_IN_VALUES:
            raise FilterSyntaxError(
                f"the filter's IN lists hold more than {MAX_IN_VALUES} values (split the "
                "search into several, or tag the runs and filter on the tag); the list "
                "that crosses the limit is",
                self.text,
                token.pos,
            )

    def field(self) -> tuple[str, str, _Token]:
        start = self.current
        if start.kind != "word":
            self._fail("expected a field such as metrics.auc, params.lr, tags.team or status")
        name = self._advance().text
        prefix, dot, rest = name.partition(".")
        if self.current.kind == "punct" and self.current.text == ".":
            self._advance()
            key_token = self._advance()
            if key_token.kind in ("bquote", "dquote", "squote"):
                key = _unquote(key_token)
            elif key_token.kind in ("word", "number"):
                key = key_token.text
            else:
                self._fail("expected a key after '.'", key_token)
            prefix, dot, rest = name, ".", key
            while (
                self.current.kind == "punct"
                and self.current.text == "."
                and key_token.kind in ("word", "number")
            ):
                self._advance()
                rest += "." + self._advance().text
        entity = ENTITIES.get(prefix.lower()) if dot else None
        if entity is None:
            attribute = _ATTRIBUTE_ALIASES.get(name.lower(), name.lower())
            if not dot and attribute in ATTRIBUTES:
                return "attribute", attribute, start
            self._fail(
                "unknown field; use metrics.<key>, params.<key>, tags.<key> or "
                f"attributes.<name> ({', '.join(sorted(ATTRIBUTES))})",
                start,
            )
        if not rest:
            self._fail("empty key", start)
        if entity == "attribute":
            attribute = _ATTRIBUTE_ALIASES.get(rest.lower(), rest.lower())
            if attribute not in ATTRIBUTES:
                self._fail(f"unknown attribute (known: {', '.join(sorted(ATTRIBUTES))})", start)
            return entity, attribute, start
        if entity == "tag" and rest in RENAMED_TAGS:
            warnings.warn(
                f"the tag {rest!r} is now {RENAMED_TAGS[rest]!r} (MLflow's name); "
                f"write tags.{RENAMED_TAGS[rest]}",
                MloopWarning,
                stacklevel=2,
            )
            rest = RENAMED_TAGS[rest]
        return entity, rest, start

    def _operator(self) -> str:
        token = self.current
        if token.kind == "op":
            self._advance()
            return {"==": "=", "<>": "!="}.get(token.text, token.text)
        if self._is_word("LIKE", "ILIKE", "IN"):
            return self._advance().text.upper()
        if self._is_word("NOT"):
            self._advance()
            if self._is_word("LIKE", "ILIKE", "IN"):
                return "NOT " + self._advance().text.upper()
            self._fail("expected LIKE, ILIKE or IN after NOT")
        self._fail("expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)")

    def _value(self) -> tuple[float | str, _Token]:
        token = self._advance()
        if token.kind == "number":
            return float(token.text), token
        if token.kind in ("squote", "dquote"):
            return _unquote(token), token
        self.index -= 1
        self._fail("expected a number or a quoted string")

    def _comparison(self) -> Comparison:
        entity, key, start = self.field()
        op_token = self.current
        op = self._operator()
        numeric = entity == "metric" or (entity == "attribute" and key in NUMERIC_ATTRIBUTES)
        allowed = NUMERIC_OPS if numeric else STRING_OPS
        if op not in allowed:
            kind = "numeric" if numeric else "string"
            self._fail(
                f"operator {op} is not allowed on the {kind} field {entity}s.{key}", op_token
            )
        if op in ("IN", "NOT IN"):
            self._expect_punct("(", "'(' to open the IN list")
            values = [self._typed_value(numeric)]
            while self.current.kind == "punct" and self.current.text == ",":
                self._advance()
                values.append(self._typed_value(numeric))
            self._expect_punct(")", "')' to close the IN list")
            self._count(start, len(values))
            return Comparison(entity, key, op, tuple(values))
        self._count(start)
        return Comparison(entity, key, op, self._typed_value(numeric))

    def _typed_value(self, numeric: bool) -> float | str:
        value, token = self._value()
        if numeric and isinstance(value, str):
            self._fail("this field is numeric: compare it with a number", token)
        if not numeric and isinstance(value, float):
            self._fail(f"this field holds strings: quote the value, e.g. '{token.text}'", token)
        return value


def parse_filter(text: str | None) -> Node | None:
    """Parse a ``filter_string``; None or blank means no filter.

    Raises:
        FilterSyntaxError: the filter is malformed; the message points at the position.
    """
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


def parse_order_by(clauses: Iterable[str] | None) -> tuple[OrderKey, ...]:
    """Parse ``order_by`` terms such as ``"metrics.auc DESC"`` or ``"start_time"``.

    Raises:
        FilterSyntaxError: a term is malformed.
    """
    keys = []
    for clause in clauses or ():
        if not isinstance(clause, str):
            raise FilterSyntaxError(f"order_by terms must be strings, got {clause!r}", "", 0)
        parser = _Parser(clause)
        entity, key, _ = parser.field()
        ascending = True
        if parser._is_word("ASC", "DESC"):
            ascending = parser._advance().text.upper() == "ASC"
        if parser.current.kind != "end":
            parser._fail("expected ASC, DESC or the end of the order_by term")
        keys.append(OrderKey(entity, key, ascending))
    return tuple(keys)


def filter_keys(node: Node | None) -> list[tuple[str, str]]:
    """The ``(entity, key)`` pairs of metrics, params and tags a filter names, in order.

    Attributes are left out: every run has them.

    Example:
        >>> filter_keys(parse_filter("metrics.auc > 0.9 and (tags.t = 'a' or metrics.auc < 1)"))
        [('metric', 'auc'), ('tag', 't')]
    """
    found: list[tuple[str, str]] = []
    stack: list[Node] = [] if node is None else [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (And, Or)):
            stack.extend(reversed(current.operands))
        elif isinstance(current, Not):
            stack.append(current.operand)
        elif current.entity != "attribute" and (current.entity, current.key) not in found:
            found.append((current.entity, current.key))
    return found
