"""Alerts: what a monitoring rule says about a model, as plain data.

An :class:`Alert` is one rule's finding, firing or resolved. Its
:attr:`~Alert.fingerprint` depends only on the rule's name and the labels,
so the same problem seen twice has the same fingerprint: that is how alerts
are de-duplicated, re-notified while firing and matched when they resolve.
Nothing here sends anything; :mod:`mloop.monitoring.notifiers` does.

Example:
    >>> from datetime import UTC, datetime
    >>> start = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    >>> alert = Alert("feature_drift", labels={"model": "fraud", "column": "amount"},
    ...               summary="amount drifted", values={"psi": 0.31}, started_at=start)
    >>> alert.state, alert.fingerprint
    ('firing', 'a23f40ace532bd0b')
    >>> done = alert.resolved(at=datetime(2027, 3, 1, 13, 0, tzinfo=UTC))
    >>> done.state, done.fingerprint == alert.fingerprint
    ('resolved', True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from mloop.errors import InvalidInput

AlertState = Literal["firing", "resolved"]
"""An alert fires while its rule holds and is resolved once it no longer does."""

SEVERITIES = ("info", "warning", "critical")
"""The severities an alert may have, least urgent first."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(frozen=True)
class Alert:
    """One finding of a monitoring rule: which rule, about what, how bad, since when.

    Attributes:
        name: the rule that fired (``feature_drift``, ``accuracy_drop``).
        state: ``firing`` or ``resolved``.
        severity: ``info``, ``warning`` or ``critical``.
        labels: what the alert is about (``model``, ``deployment``, ``column``);
            with ``name`` they make the fingerprint.
        summary: one line for a title or a subject.
        description: more text, for the body of a message.
        values: the evidence: the numbers the rule looked at (``{"psi": 0.31}``).
        started_at: when the rule began to hold (timezone-aware).
        ended_at: when it stopped holding; None while firing.
        url: where to look (a dashboard, a run); empty when there is none.

    Example:
        >>> Alert("latency", severity="page")
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: alert 'latency': severity 'page' is not one of info, ...
    """

    name: str
    state: AlertState = "firing"
    severity: str = "warning"
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    summary: str = ""
    description: str = ""
    values: Mapping[str, float] = dataclasses.field(default_factory=dict)
    started_at: datetime = dataclasses.field(default_factory=_now)
    ended_at: datetime | None = None
    url: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("an alert needs a name: the rule that fired")
        if self.state not in ("firing", "resolved"):
            raise InvalidInput(
                f"alert {self.name!r}: state {self.state!r} is not 'firing' or 'resolved'"
            )
        if self.severity not in SEVERITIES:
            raise InvalidInput(
                f"alert {self.name!r}: severity {self.severity!r} is not one of "
                f"{', '.join(SEVERITIES)}"
            )
        for moment in (self.started_at, self.ended_at):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput(
                    f"alert {self.name!r}: {moment.isoformat()} has no time zone; "
                    "give aware datetimes (datetime.now(UTC))"
                )
        if self.state == "resolved" and self.ended_at is None:
            raise InvalidInput(f"alert {self.name!r} is resolved but has no ended_at")
        if self.state == "firing" and self.ended_at is not None:
            raise InvalidInput(f"alert {self.name!r} is firing but has an ended_at")
        # Copies, so that the caller's dictionaries changing later cannot change the alert.
        object.__setattr__(self, "labels", {str(k): str(v) for k, v in self.labels.items()})
        object.__setattr__(self, "values", {str(k): float(v) for k, v in self.values.items()})

    @property
    def fingerprint(self) -> str:
        """16 hex digits naming the rule and the labels: equal for the same problem.

        Example:
            >>> Alert("drift", labels={"a": "1", "b": "2"}).fingerprint == Alert(
            ...     "drift", labels={"b": "2", "a": "1"}, severity="critical").fingerprint
            True
        """
        key = json.dumps([self.name, sorted(self.labels.items())], separators=(",", ":"))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def firing(self) -> bool:
        """Whether the alert is firing."""
        return self.state == "firing"

    def resolved(self, at: datetime | None = None) -> Alert:
        """This alert, resolved at ``at`` (default now).

        Example:
            >>> Alert("drift").resolved().state
            'resolved'
        """
        return dataclasses.replace(self, state="resolved", ended_at=at or _now())

    def to_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data: mloop's webhook payload carries a list of these.

        Example:
            >>> from datetime import UTC, datetime
            >>> at = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
            >>> Alert("drift", started_at=at).to_dict()["started_at"]
            '2027-03-01T12:00:00Z'
        """
        return {
            "name": self.name,
            "state": self.state,
            "severity": self.severity,
            "labels": dict(self.labels),
            "summary": self.summary,
            "description": self.description,
            "values": dict(self.values),
            "started_at": rfc3339(self.started_at),
            "ended_at": rfc3339(self.ended_at) if self.ended_at else None,
            "url": self.url,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        """The alert :meth:`to_dict` gave (its fingerprint is computed again).

        Example:
            >>> alert = Alert("drift", labels={"column": "age"})
            >>> Alert.from_dict(alert.to_dict()) == alert
            True

        Raises:
            InvalidInput: data that is not an alert's.
        """
        try:
            return cls(
                name=data["name"],
                state=data["state"],
                severity=data["severity"],
                labels=dict(data["labels"]),
                summary=data.get("summary", ""),
                description=data.get("description", ""),
                values=dict(data.get("values", {})),
                started_at=_moment(data["started_at"]),
                ended_at=None if data.get("ended_at") is None else _moment(data["ended_at"]),
                url=data.get("url", ""),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"not an alert: {err}") from None


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rfc3339(moment: datetime) -> str:
    """``moment`` in UTC as RFC 3339 text, ``Z`` for UTC, microseconds only when there are any.

    Example:
        >>> rfc3339(datetime(2027, 3, 1, 12, 0, 5, 250000, tzinfo=UTC))
        '2027-03-01T12:00:05.250000Z'
    """
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
