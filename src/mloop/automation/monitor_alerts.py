"""What a monitor's run tells its notifiers: alerts that fire, remind, resolve, or wait to be sent.

After each run, the monitor's rules are evaluated on the window's metrics,
and its alert book (kept in the monitor's state) decides what to send:

- a rule that holds fires (once; reminded while it holds);
- a rule that no longer holds resolves, with what the window shows now;
- a rule with **no data** in the window (no traffic, a metric missing)
  keeps the alert it had: a quiet window is not a fix;
- a run that **failed** (the window could not be checked) fires
  ``monitor_failed`` (critical), which resolves at the next run that works;
  the other alerts stay as they were.

A notifier that cannot deliver keeps what it missed in the state and gets
it again, with what is new, at the next run; the others are not sent the
same alert twice.

Example:
    >>> FAILED_RULE
    'monitor_failed'
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mloop.entities import Monitor
from mloop.errors import InvalidInput, NotificationFailed
from mloop.masking import mask_text
from mloop.monitoring.alerting import AlertBook
from mloop.monitoring.alerts import Alert
from mloop.monitoring.notifiers import notifier_from
from mloop.monitoring.rules import AlertRule, RuleTracker, rule_alerts

log = logging.getLogger(__name__)

FAILED_RULE = "monitor_failed"
"""The alert a run that could not check its window fires."""


def settle(
    monitor: Monitor,
    state: dict[str, Any],
    metrics: Mapping[str, float],
    champion: Mapping[str, float],
    end: datetime,
    *,
    failure: str | None = None,
) -> tuple[list[Alert], list[Alert]]:
    """What to send after this run, and what holds now; ``state`` is updated in place."""
    rules = [AlertRule.parse(text) for text in monitor.rules]
    tracker = RuleTracker.from_state(state["rules"]) if state.get("rules") else RuleTracker()
    book = AlertBook.from_state(state["alerts"]) if state.get("alerts") else AlertBook()
    labels = {"monitor": monitor.name, "target": monitor.target}
    if failure is not None:
        kept = [alert for alert in book.firing if alert.name != FAILED_RULE]
        failed = Alert(
            FAILED_RULE,
            severity="critical",
            labels=labels,
            summary=f"monitor {monitor.name} could not check its window: {failure}",
            started_at=end,
        )
        holding = [*kept, failed]
    else:
        holding = rule_alerts(rules, tracker, metrics, champion, labels, at=end)
        holding += _quiet(rules, book, holding, metrics, champion)
        state["rules"] = tracker.to_state()
    by_name = {rule.name: rule for rule in rules}
    to_send = [
        alert if alert.firing else _resolved(alert, by_name, metrics, champion)
        for alert in book.observe(holding, at=end)
    ]
    state["alerts"] = book.state()
    return to_send, holding


def _quiet(
    rules: Sequence[AlertRule],
    book: AlertBook,
    holding: Sequence[Alert],
    metrics: Mapping[str, float],
    champion: Mapping[str, float],
) -> list[Alert]:
    """The alerts firing before whose rules have no data now: they go on firing."""
    now = {alert.fingerprint for alert in holding}
    quiet = {r.name for r in rules if r.evaluate(metrics, champion=champion).holds is None}
    return [a for a in book.firing if a.name in quiet and a.fingerprint not in now]


def _resolved(
    alert: Alert,
    rules: Mapping[str, AlertRule],
    metrics: Mapping[str, float],
    champion: Mapping[str, float],
) -> Alert:
    """A resolved alert says what the window shows now, with the values it shows."""
    if alert.name == FAILED_RULE:
        return dataclasses.replace(alert, summary="the monitor checks its windows again")
    rule = rules.get(alert.name)
    if rule is None:
        return dataclasses.replace(alert, summary=f"rule {alert.name} was taken out")
    result = rule.evaluate(metrics, champion=champion)
    values = {
        name: float(metrics[name])
        for name in rule.metrics()
        if not name.startswith("champion.") and name in metrics
    }
    return dataclasses.replace(alert, summary=f"now {result.message}", values=values)


def deliver(
    monitor: Monitor, state: dict[str, Any], alerts: Sequence[Alert]
) -> list[dict[str, Any]]:
    """Send ``alerts``, and what each notifier missed before; keep what it misses now."""
    pending: dict[str, list[Any]] = dict(state.get("pending") or {})
    notes = []
    for index, spec in enumerate(monitor.notifiers):
        key = str(index)
        batch = _latest([*map(Alert.from_dict, pending.get(key, [])), *alerts])
        if not batch:
            continue
        note: dict[str, Any] = {"kind": spec.get("kind"), "alerts": len(batch), "delivered": True}
        try:
            notifier_from(spec).send(batch)
            pending.pop(key, None)
        except (NotificationFailed, InvalidInput) as err:
            pending[key] = [alert.to_dict() for alert in batch]
            note.update(delivered=False, error=mask_text(str(err)))
            log.warning("monitor %s: notifier %s failed: %s", monitor.name, spec.get("kind"), err)
        notes.append(note)
    state["pending"] = pending
    return notes


def _latest(alerts: Sequence[Alert]) -> list[Alert]:
    """One alert per fingerprint, the latest, in the order they first came."""
    found: dict[str, Alert] = {}
    for alert in alerts:
        found[alert.fingerprint] = alert
    return list(found.values())
