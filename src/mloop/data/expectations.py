"""Expectation suites: declarative data checks, from Python or YAML.

Example:
    >>> suite = ExpectationSuite("demo", [Expectation("not_null", column="x"),
    ...                                   Expectation("between", column="x", min=0, max=10)])
    >>> ExpectationSuite.from_dict(suite.to_dict()) == suite
    True
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mloop.errors import InvalidInput

# kind -> (needs a column, allowed keyword arguments)
KINDS: dict[str, tuple[bool, frozenset[str]]] = {
    "column_exists": (True, frozenset()),
    "column_type": (True, frozenset({"type"})),
    "not_null": (True, frozenset({"mostly"})),
    "between": (True, frozenset({"min", "max", "mostly"})),
    "in_set": (True, frozenset({"values", "mostly"})),
    "unique": (True, frozenset()),
    "regex": (True, frozenset({"pattern", "mostly"})),
    "string_length": (True, frozenset({"min", "max", "mostly"})),
    "mean_between": (True, frozenset({"min", "max"})),
    "std_between": (True, frozenset({"min", "max"})),
    "quantile_between": (True, frozenset({"quantile", "min", "max"})),
    "row_count": (False, frozenset({"min", "max"})),
    "no_duplicate_rows": (False, frozenset()),
    "custom": (False, frozenset({"check", "name"})),
    # Bias checks on a sensitive column: every group is represented, and the
    # positive-label rate is similar across groups.
    "group_representation": (True, frozenset({"min_share"})),
    "label_rate_parity": (True, frozenset({"label", "positive", "max_gap", "min_ratio"})),
}
_REQUIRED = {
    "column_type": {"type"},
    "in_set": {"values"},
    "regex": {"pattern"},
    "quantile_between": {"quantile"},
    "custom": {"check"},
    "group_representation": {"min_share"},
    "label_rate_parity": {"label"},
}


@dataclasses.dataclass(frozen=True)
class Expectation:
    """One check: a kind, the column it looks at (when it needs one) and its arguments.

    ``custom`` takes ``check``: a function of a pyarrow Table returning a bool,
    or ``(bool, observed value)``. It cannot be written to YAML.
    """

    kind: str
    column: str | None = None
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __init__(self, kind: str, column: str | None = None, **kwargs: Any) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "kwargs", dict(kwargs))
        self._check()

    def _check(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(
                f"unknown expectation {self.kind!r}; known: {', '.join(sorted(KINDS))}"
            )
        needs_column, allowed = KINDS[self.kind]
        if needs_column and not (isinstance(self.column, str) and self.column):
            raise InvalidInput(f"expectation {self.kind!r} needs a column")
        extra = set(self.kwargs) - allowed
        if extra:
            raise InvalidInput(
                f"expectation {self.kind!r} does not take {sorted(extra)}; "
                f"it takes {sorted(allowed)}"
            )
        missing = _REQUIRED.get(self.kind, set()) - set(self.kwargs)
        if missing:
            raise InvalidInput(f"expectation {self.kind!r} needs {sorted(missing)}")
        mostly = self.kwargs.get("mostly", 1.0)
        if not isinstance(mostly, int | float) or not 0 <= mostly <= 1:
            raise InvalidInput(f"'mostly' must be a fraction from 0 to 1, got {mostly!r}")
        if self.kind == "custom" and not callable(self.kwargs["check"]):
            raise InvalidInput("a custom expectation's 'check' must be a function of a table")

    @property
    def label(self) -> str:
        """A short description, e.g. ``between(income)``."""
        name = self.kwargs.get("name") if self.kind == "custom" else None
        return f"{self.kind}({name or self.column or ''})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML/JSON (custom checks cannot be written)."""
        if self.kind == "custom":
            raise InvalidInput("a custom expectation holds Python code and cannot be saved")
        out: dict[str, Any] = {"kind": self.kind}
        if self.column is not None:
            out["column"] = self.column
        out.update(self.kwargs)
        return out


@dataclasses.dataclass(frozen=True)
class ExpectationSuite:
    """A named list of expectations."""

    name: str
    expectations: Sequence[Expectation]

    def __post_init__(self) -> None:
        object.__setattr__(self, "expectations", tuple(self.expectations))

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"name": …, "expectations": [{"kind": …}, …]}``."""
        return {"name": self.name, "expectations": [e.to_dict() for e in self.expectations]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpectationSuite:
        """Build a suite from plain data; errors name the entry at fault."""
        if not isinstance(data, Mapping) or not isinstance(data.get("expectations"), list):
            raise InvalidInput("a suite is a mapping with a 'name' and a list of 'expectations'")
        items = []
        for index, entry in enumerate(data["expectations"]):
            if not isinstance(entry, Mapping) or "kind" not in entry:
                raise InvalidInput(f"expectation #{index + 1} must be a mapping with a 'kind'")
            args = {k: v for k, v in entry.items() if k not in ("kind", "column")}
            try:
                items.append(Expectation(entry["kind"], entry.get("column"), **args))
            except InvalidInput as err:
                raise InvalidInput(f"expectation #{index + 1}: {err}") from None
        return cls(str(data.get("name") or "suite"), items)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> ExpectationSuite:
        """Load a suite from a YAML file."""
        import yaml  # PyYAML loads only when a suite is read or written (~10 ms)

        try:
            data = yaml.safe_load(Path(path).read_text())
        except FileNotFoundError:
            raise InvalidInput(f"suite file {str(path)!r} does not exist") from None
        except yaml.YAMLError as err:
            raise InvalidInput(f"suite file {str(path)!r} is not valid YAML: {err}") from None
        return cls.from_dict(data)

    def to_yaml(self, path: str | os.PathLike[str]) -> None:
        """Write the suite as YAML."""
        import yaml  # loaded only here (see from_yaml)

        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
