from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mloop.errors import InvalidInput
from mloop.monitoring.alerts import Alert, rfc3339

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def test_fingerprint_is_the_rule_and_labels_only() -> None:
    one = Alert("drift", labels={"model": "m", "column": "x"}, values={"psi": 0.3})
    two = Alert("drift", labels={"column": "x", "model": "m"}, severity="critical", summary="s")
    assert one.fingerprint == two.fingerprint
    assert one.fingerprint != Alert("drift", labels={"model": "m", "column": "y"}).fingerprint
    assert one.fingerprint != Alert("latency", labels={"model": "m", "column": "x"}).fingerprint
    assert len(one.fingerprint) == 16


def test_resolved_keeps_the_fingerprint_and_sets_the_end() -> None:
    alert = Alert("drift", labels={"model": "m"}, started_at=START)
    end = START + timedelta(hours=1)
    done = alert.resolved(at=end)
    assert (done.state, done.ended_at, done.firing) == ("resolved", end, False)
    assert done.fingerprint == alert.fingerprint
    assert alert.firing  # the original is unchanged


def test_to_dict() -> None:
    alert = Alert(
        "drift",
        severity="critical",
        labels={"model": "m"},
        summary="s",
        description="d",
        values={"psi": 1},
        started_at=START,
        url="http://x/y",
    ).resolved(at=START + timedelta(minutes=5))
    assert alert.to_dict() == {
        "name": "drift",
        "state": "resolved",
        "severity": "critical",
        "labels": {"model": "m"},
        "summary": "s",
        "description": "d",
        "values": {"psi": 1.0},
        "started_at": "2027-03-01T12:00:00Z",
        "ended_at": "2027-03-01T12:05:00Z",
        "url": "http://x/y",
        "fingerprint": alert.fingerprint,
    }


def test_labels_are_copied() -> None:
    labels = {"model": "m"}
    alert = Alert("drift", labels=labels)
    labels["model"] = "other"
    assert alert.labels == {"model": "m"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "needs a name"),
        ({"name": "a", "state": "pending"}, "state 'pending'"),
        ({"name": "a", "severity": "page"}, "severity 'page'"),
        ({"name": "a", "started_at": datetime(2027, 1, 1)}, "no time zone"),
        ({"name": "a", "state": "resolved"}, "has no ended_at"),
        ({"name": "a", "ended_at": START}, "has an ended_at"),
    ],
)
def test_invalid_alerts(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Alert(**kwargs)  # type: ignore[arg-type]


def test_rfc3339_converts_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2027, 3, 1, 13, 0, tzinfo=paris)) == "2027-03-01T12:00:00Z"
