"""The life of alerts between checks: fire once, stay quiet, remind, resolve.

An :class:`AlertBook` is told, after each check, which alerts hold now
(:meth:`AlertBook.observe`). It answers with what to send:

- an alert that was not firing **fires** and is sent;
- one still firing is **de-duplicated** (not sent again) until
  ``repeat_interval`` has passed since it was last sent, then it is sent again
  as a reminder, with its first ``started_at``;
- one that no longer holds is **resolved** and sent once as resolved.

Alerts are matched by their :attr:`~mloop.monitoring.alerts.Alert.fingerprint`
(rule and labels). The book's state is plain data (:meth:`AlertBook.state`,
:meth:`AlertBook.from_state`), so a scheduler can keep it between runs and
after a restart.

Example:
    >>> from datetime import UTC, datetime, timedelta
    >>> from mloop.monitoring.alerts import Alert
    >>> t0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    >>> book = AlertBook(repeat_interval=timedelta(hours=1))
    >>> drift = Alert("drift", labels={"column": "amount"})
    >>> [a.state for a in book.observe([drift], at=t0)]
    ['firing']
    >>> book.observe([drift], at=t0 + timedelta(minutes=10))  # de-duplicated
    []
    >>> [a.state for a in book.observe([drift], at=t0 + timedelta(hours=1))]  # a reminder
    ['firing']
    >>> [a.state for a in book.observe([], at=t0 + timedelta(hours=2))]
    ['resolved']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mloop.errors import InvalidInput
from mloop.monitoring.alerts import Alert


@dataclasses.dataclass
class _Firing:
    alert: Alert  # as first fired (its started_at), with the latest values
    last_sent: datetime


class AlertBook:
    """Which alerts are firing, and when each was last sent."""

    def __init__(self, repeat_interval: timedelta = timedelta(hours=4)) -> None:
        if not isinstance(repeat_interval, timedelta) or repeat_interval <= timedelta(0):
            raise InvalidInput(
                f"repeat_interval must be a positive timedelta, got {repeat_interval!r}"
            )
        self.repeat_interval = repeat_interval
        self._firing: dict[str, _Firing] = {}

    @property
    def firing(self) -> list[Alert]:
        """The alerts firing now, oldest first."""
        found = [entry.alert for entry in self._firing.values()]
        return sorted(found, key=lambda alert: alert.started_at)

    def observe(self, holding: Iterable[Alert], *, at: datetime | None = None) -> list[Alert]:
        """Record the alerts that hold at ``at`` (default now); the ones to send now.

        Each of ``holding`` must be firing; two with one fingerprint are one alert.

        Raises:
            InvalidInput: a resolved alert among ``holding``, or a naive ``at``.
        """
        now = at or datetime.now(UTC)
        if now.tzinfo is None:
            raise InvalidInput("give an aware time (datetime.now(UTC)), not a naive one")
        current: dict[str, Alert] = {}
        for alert in holding:
            if not alert.firing:
                raise InvalidInput(
                    f"alert {alert.name!r} is resolved: pass only the alerts that hold now; "
                    "the book resolves the others"
                )
            current[alert.fingerprint] = alert
        to_send: list[Alert] = []
        for key, gone in list(self._firing.items()):
            if key not in current:
                del self._firing[key]
                to_send.append(gone.alert.resolved(at=now))
        for key, alert in current.items():
            entry = self._firing.get(key)
            if entry is None:
                fired = dataclasses.replace(alert, started_at=min(alert.started_at, now))
                self._firing[key] = _Firing(fired, now)
                to_send.append(fired)
                continue
            # The same problem: its first start stays, its evidence is the latest.
            entry.alert = dataclasses.replace(alert, started_at=entry.alert.started_at)
            if now - entry.last_sent >= self.repeat_interval:
                entry.last_sent = now
                to_send.append(entry.alert)
        return to_send

    def state(self) -> dict[str, Any]:
        """The book as JSON-ready data, to keep between runs."""
        return {
            "repeat_interval_seconds": self.repeat_interval.total_seconds(),
            "firing": [
                {"alert": entry.alert.to_dict(), "last_sent": _text(entry.last_sent)}
                for entry in self._firing.values()
            ],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> AlertBook:
        """The book :meth:`state` gave.

        Example:
            >>> book = AlertBook()
            >>> AlertBook.from_state(book.state()).repeat_interval == book.repeat_interval
            True

        Raises:
            InvalidInput: state that is not a book's.
        """
        try:
            book = cls(timedelta(seconds=float(state["repeat_interval_seconds"])))
            for kept in state["firing"]:
                alert = Alert.from_dict(kept["alert"])
                book._firing[alert.fingerprint] = _Firing(alert, _read_time(kept["last_sent"]))
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"not the state of an alert book: {err}") from None
        return book


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _read_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
