"""Alert rules: conditions on a window's metrics, written as text, and the alerts they raise.

Every check of a monitor gives a flat mapping of metrics, keyed ``NAME`` or
``NAME(COLUMN)`` (``{"drift_share": 0.4, "psi(income)": 0.25}``); the champion
model's recorded metrics are a second mapping (``{"roc_auc": 0.84}``). A rule
is a condition on them, in the language of :mod:`mloop.monitoring.rule_language`::

    drift_share > 0.3
    psi(income) > 0.2
    accuracy < 0.85 for 2 windows
    estimated_roc_auc < champion.roc_auc - 0.05
    drift(age) >= 0.1 and drift(plan) >= 0.1
    missing("annual income") > 1%

:meth:`AlertRule.evaluate` says whether a rule holds in one window: True,
False, or None when the window cannot tell (a metric missing or NaN, a
division by zero). ``and``, ``or`` and ``not`` follow three-valued logic: a
condition with no data is unknown, ``False and unknown`` is False and
``True or unknown`` is True. A :class:`RuleTracker` remembers the last results
of each rule: a rule fires when it held in each of its last N windows
(``for N windows``; N is 1 without it), and a window with no data breaks the
streak. :func:`rule_alerts` puts the three together, window after window, and
gives the alerts for :meth:`~mloop.monitoring.alerting.AlertBook.observe`.

Example:
    >>> rule = AlertRule.parse("accuracy < champion.accuracy - 0.05 for 2 windows")
    >>> rule.name, rule.windows, rule.metrics()
    ('accuracy_lt_champion_accuracy_minus_0_05_for_2_windows', 2, \
('accuracy', 'champion.accuracy'))
    >>> tracker = RuleTracker()
    >>> rule_alerts([rule], tracker, {"accuracy": 0.8}, {"accuracy": 0.9})
    []
    >>> [alert.summary for alert in rule_alerts([rule], tracker, {"accuracy": 0.82},
    ...                                           {"accuracy": 0.9})]
    ['accuracy = 0.82 < champion.accuracy - 0.05 = 0.85 (2 windows in a row)']
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mloop.errors import InvalidInput
from mloop.monitoring.alerts import SEVERITIES, Alert
from mloop.monitoring.rule_evaluation import decide
from mloop.monitoring.rule_language import parse_rule
from mloop.monitoring.rule_tree import Condition, metric_keys, render

MAX_NAME_LENGTH = 100
"""The longest rule name; a name derived from a longer text is shortened and hashed."""

_SLUG_WORDS = {
    "<=": "le",
    ">=": "ge",
    "==": "eq",
    "!=": "ne",
    "<": "lt",
    ">": "gt",
    "+": "plus",
    "-": "minus",
    "*": "times",
    "/": "over",
    "%": "pct",
}


@dataclasses.dataclass(frozen=True)
class RuleResult:
    """What one rule said about one window.

    Attributes:
        rule: the rule's name.
        holds: True or False; None when the window has no data to decide.
        message: the comparisons that decided, with the values seen
            (``psi(income) = 0.25 > 0.2``), or ``no data: ...`` and why.
        values: the metrics the rule read that have a value, by key
            (``champion.roc_auc`` for the champion's).
    """

    rule: str
    holds: bool | None
    message: str
    values: Mapping[str, float] = dataclasses.field(default_factory=dict)

    @property
    def no_data(self) -> bool:
        """Whether the window could not decide the rule."""
        return self.holds is None


@dataclasses.dataclass(frozen=True, eq=False)
class AlertRule:
    """A rule as a user writes it, parsed and checked: ``psi(income) > 0.2 for 3 windows``.

    Build one with :meth:`parse`. Two rules are equal when their names, canonical
    texts, severities and labels are.

    Attributes:
        text: the rule as written.
        name: the alert's name; by default derived from the canonical text
            (``psi(income) > 0.2`` is ``psi_income_gt_0_2``).
        severity: ``info``, ``warning`` or ``critical``.
        labels: added to the labels of the rule's alerts (they win over the
            monitor's labels of the same key).
        windows: the N of ``for N windows``; 1 without it.
        condition: the parsed condition, a tree of :mod:`mloop.monitoring.rule_tree`.

    Example:
        >>> rule = AlertRule.parse("drift(age) >= 0.1  AND drift(plan) >= 0.1 for 3 windows")
        >>> str(rule), rule.windows
        ('drift(age) >= 0.1 and drift(plan) >= 0.1 for 3 windows', 3)
        >>> rule.evaluate({"drift(age)": 0.2, "drift(plan)": 0.05}).message
        'drift(plan) = 0.05 < 0.1'
    """

    text: str
    name: str = ""
    severity: str = "warning"
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    windows: int = dataclasses.field(init=False)
    condition: Condition = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InvalidInput(f"an alert rule is text, got {type(self.text).__name__}")
        condition, windows = parse_rule(self.text)
        object.__setattr__(self, "condition", condition)
        object.__setattr__(self, "windows", windows)
        if not self.name:
            object.__setattr__(self, "name", _slug(str(self)))
        _check_name(self.name)
        if self.severity not in SEVERITIES:
            raise InvalidInput(
                f"alert rule {self.name!r}: severity {self.severity!r} is not one of "
                f"{', '.join(SEVERITIES)}"
            )
        if not isinstance(self.labels, Mapping) or not all(
            isinstance(key, str) and key and isinstance(value, str)
            for key, value in self.labels.items()
        ):
            raise InvalidInput(
                f"alert rule {self.name!r}: labels map names to text, "
                f"as in {{'team': 'risk'}}; got {self.labels!r}"
            )
        object.__setattr__(self, "labels", dict(self.labels))

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        name: str | None = None,
        severity: str = "warning",
        labels: Mapping[str, str] | None = None,
    ) -> AlertRule:
        """The rule ``text`` says, named ``name`` (default: derived from the text).

        Raises:
            InvalidInput: the text is not a rule (a
                :class:`~mloop.errors.FilterSyntaxError` pointing at the position),
                or the name, severity or labels are not valid.

        Example:
            >>> AlertRule.parse("psi(income) > 0.2", severity="critical")
            AlertRule(text='psi(income) > 0.2', name='psi_income_gt_0_2', \
severity='critical', labels={}, windows=1)
            >>> AlertRule.parse("psi(income) => 0.2")
            Traceback (most recent call last):
            ...
            mloop.errors.FilterSyntaxError: alert rule: unknown operator '=>': write '>=' at \
position 12:
              psi(income) => 0.2
                          ^
        """
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidInput(f"a rule's name is non-empty text, got {name!r}")
        return cls(text, name or "", severity, {} if labels is None else labels)

    def __str__(self) -> str:
        """The canonical text: single spaces, lower-case keywords, needed parentheses only.

        Example:
            >>> str(AlertRule.parse("(Rows<100)  OR  missing( 'annual income' )>5%  FOR 1 WINDOW"))
            'Rows < 100 or missing("annual income") > 5%'
        """
        clause = f" for {self.windows} windows" if self.windows > 1 else ""
        return render(self.condition) + clause

    def _identity(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        return (self.name, str(self), self.severity, tuple(sorted(self.labels.items())))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AlertRule):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def metrics(self) -> tuple[str, ...]:
        """The keys of the metrics the rule reads, each once; the champion's as ``champion.NAME``.

        A monitor checks them against the metrics its checks give before it stores the rule.

        Example:
            >>> AlertRule.parse("estimated_roc_auc < champion.roc_auc - 0.05").metrics()
            ('estimated_roc_auc', 'champion.roc_auc')
        """
        return metric_keys(self.condition)

    def evaluate(
        self, metrics: Mapping[str, Any], *, champion: Mapping[str, Any] | None = None
    ) -> RuleResult:
        """Whether the rule holds for one window's ``metrics`` (and the ``champion``'s).

        A metric missing, None, NaN or not a number, a champion metric with no
        ``champion`` given, or a division by zero give ``holds=None`` and a
        message saying why; nothing raises.

        Raises:
            InvalidInput: ``metrics`` or ``champion`` is not a mapping.

        Example:
            >>> rule = AlertRule.parse("psi(income) > 0.2")
            >>> rule.evaluate({"psi(income)": 0.25}).message
            'psi(income) = 0.25 > 0.2'
            >>> rule.evaluate({"psi(income)": 0.1}).holds
            False
            >>> rule.evaluate({"rows": 10})
            RuleResult(rule='psi_income_gt_0_2', holds=None, \
message="no data: psi(income) is not in this window's metrics", values={})
        """
        for given, what in ((metrics, "metrics"), (champion, "champion")):
            if given is not None and not isinstance(given, Mapping):
                raise InvalidInput(
                    f"rule {self.name!r}: {what} must map metric keys to numbers, "
                    f"got {type(given).__name__}"
                )
        holds, facts, values = decide(self.condition, metrics, champion)
        message = " and ".join(facts) if holds is not None else "no data: " + "; ".join(facts)
        return RuleResult(self.name, holds, message, values)

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-ready data, to store with a monitor.

        Example:
            >>> rule = AlertRule.parse("rows < 100", labels={"team": "risk"})
            >>> AlertRule.from_dict(rule.to_dict()) == rule
            True
        """
        return {
            "text": self.text,
            "name": self.name,
            "severity": self.severity,
            "labels": dict(self.labels),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertRule:
        """The rule :meth:`to_dict` gave.

        Raises:
            InvalidInput: data that is not a rule's.
        """
        if not isinstance(data, Mapping) or "text" not in data:
            raise InvalidInput(f"not an alert rule: {data!r} has no 'text'")
        return cls.parse(
            data["text"],
            name=data.get("name"),
            severity=data.get("severity", "warning"),
            labels=data.get("labels"),
        )


def _check_name(name: str) -> None:
    if (
        not isinstance(name, str)
        or not name.strip()
        or name != name.strip()
        or len(name) > MAX_NAME_LENGTH
        or not name.isprintable()
    ):
        raise InvalidInput(
            f"a rule's name is 1 to {MAX_NAME_LENGTH} printable characters with no space "
            f"at either end, got {name!r}"
        )


def _slug(canonical: str) -> str:
    words = re.sub(
        r"<=|>=|==|!=|[<>+*/%-]", lambda match: f" {_SLUG_WORDS[match.group()]} ", canonical
    )
    slug = re.sub(r"\W+", "_", words).strip("_").lower() or "rule"
    if len(slug) <= MAX_NAME_LENGTH:
        return slug
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
    return slug[: MAX_NAME_LENGTH - 9].rstrip("_") + "_" + digest


class RuleTracker:
    """The last results of each rule, window after window: whether it fires.

    A rule fires when it held in each of its last ``windows`` results (one
    without ``for N windows``); a window with no data (``holds=None``) breaks
    the streak, as a False does. Rules are kept by name; a rule whose text
    changed under the same name starts again. Record each window once.
    The state is JSON-ready (:meth:`to_state`, :meth:`from_state`).

    Example:
        >>> rule = AlertRule.parse("rows < 100 for 2 windows")
        >>> tracker = RuleTracker()
        >>> [tracker.record(rule, rule.evaluate({"rows": n})) for n in (50, 60, 500, 70, 80)]
        [False, True, False, False, True]
        >>> tracker.history(rule)
        (True, True)
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, list[bool | None]]] = {}

    def record(self, rule: AlertRule, result: RuleResult) -> bool:
        """Keep ``result`` as ``rule``'s latest window; whether the rule fires now.

        Raises:
            InvalidInput: ``result`` is another rule's.
        """
        if result.rule != rule.name:
            raise InvalidInput(
                f"the result of rule {result.rule!r} is recorded for rule {rule.name!r}"
            )
        history = [*self.history(rule), result.holds][-rule.windows :]
        self._kept[rule.name] = (str(rule), history)
        return self.firing(rule)

    def history(self, rule: AlertRule) -> tuple[bool | None, ...]:
        """The rule's last results, oldest first: at most ``rule.windows`` of them."""
        kept = self._kept.get(rule.name)
        return tuple(kept[1]) if kept is not None and kept[0] == str(rule) else ()

    def firing(self, rule: AlertRule) -> bool:
        """Whether the rule held in each of its last ``rule.windows`` windows."""
        history = self.history(rule)
        return len(history) == rule.windows and all(holds is True for holds in history)

    def retain(self, rules: Iterable[AlertRule]) -> None:
        """Forget every rule but ``rules``: those a monitor no longer has."""
        names = {rule.name for rule in rules}
        self._kept = {name: kept for name, kept in self._kept.items() if name in names}

    def to_state(self) -> dict[str, Any]:
        """The tracker as JSON-ready data, to keep between windows.

        Example:
            >>> rule = AlertRule.parse("rows < 100", name="few_rows")
            >>> tracker = RuleTracker()
            >>> tracker.record(rule, rule.evaluate({}))
            False
            >>> tracker.to_state()
            {'rules': {'few_rows': {'rule': 'rows < 100', 'history': [None]}}}
        """
        return {
            "rules": {
                name: {"rule": text, "history": list(history)}
                for name, (text, history) in self._kept.items()
            }
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> RuleTracker:
        """The tracker :meth:`to_state` gave.

        Raises:
            InvalidInput: state that is not a tracker's.
        """
        tracker = cls()
        try:
            for name, kept in state["rules"].items():
                history = list(kept["history"])
                if not isinstance(name, str) or not isinstance(kept["rule"], str):
                    raise TypeError("names and rules are text")
                if not all(holds is None or isinstance(holds, bool) for holds in history):
                    raise ValueError(f"a history holds true, false or null, got {history!r}")
                tracker._kept[name] = (kept["rule"], history)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InvalidInput(f"not the state of a rule tracker: {err}") from None
        return tracker


def rule_alerts(
    rules: Iterable[AlertRule],
    tracker: RuleTracker,
    metrics: Mapping[str, Any],
    champion: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    at: datetime | None = None,
) -> list[Alert]:
    """Evaluate ``rules`` on one window, record them in ``tracker``; the alerts that fire.

    Each alert is named after its rule, with the rule's severity, ``labels``
    and the rule's own labels (the rule's win), the deciding comparisons and
    their values as its summary, the rule's canonical text as its
    description, and the values read as its values. Pass them to
    :meth:`~mloop.monitoring.alerting.AlertBook.observe`, which resolves the
    alerts that no longer hold.

    Raises:
        InvalidInput: two rules with one name, a naive ``at``, bad ``labels``,
            or ``metrics``/``champion`` not mappings; nothing is recorded then.

    Example:
        >>> rules = [AlertRule.parse("drift_share > 0.3", severity="critical")]
        >>> [alert] = rule_alerts(rules, RuleTracker(), {"drift_share": 0.4},
        ...                       labels={"model": "fraud"})
        >>> alert.name, alert.severity, alert.labels, alert.values
        ('drift_share_gt_0_3', 'critical', {'model': 'fraud'}, {'drift_share': 0.4})
        >>> alert.summary, alert.description
        ('drift_share = 0.4 > 0.3', 'alert rule drift_share_gt_0_3: drift_share > 0.3')
    """
    rules = list(rules)
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise InvalidInput(
                f"two rules are named {rule.name!r}: name one of them "
                "(AlertRule.parse(text, name=...))"
            )
        seen.add(rule.name)
    if at is not None and at.tzinfo is None:
        raise InvalidInput("give an aware time (datetime.now(UTC)), not a naive one")
    if labels is not None and not isinstance(labels, Mapping):
        raise InvalidInput(f"labels map names to text, got {type(labels).__name__}")
    results = [rule.evaluate(metrics, champion=champion) for rule in rules]
    now = at or datetime.now(UTC)
    alerts = []
    for rule, result in zip(rules, results, strict=True):
        if tracker.record(rule, result):
            streak = f" ({rule.windows} windows in a row)" if rule.windows > 1 else ""
            alerts.append(
                Alert(
                    rule.name,
                    severity=rule.severity,
                    labels={**(labels or {}), **rule.labels},
                    summary=result.message + streak,
                    description=f"alert rule {rule.name}: {rule}",
                    values=result.values,
                    started_at=now,
                )
            )
    return alerts
