"""A monitor on a live deployment fires and resolves an alert through each built-in notifier."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest

from mloop.automation import monitors
from tests.automation.conftest import Credit, applicants
from tests.http_receiver import receiving
from tests.smtp_receiver import Inbox, receiving_mail


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with receiving_mail() as (found, port):
        yield found, port


def _fire_then_resolve(credit: Credit, spec: dict[str, Any]) -> None:
    monitors.create_monitor(
        "watch", "deployment:credit-api", "credit@train", schedule="2s",
        rules=["drift_share > 0.3"], notifiers=[spec],
    )  # fmt: skip
    credit.send(applicants(500, shift=25, seed=11))
    credit.flushed()
    fired = monitors.run_monitor("watch")
    assert fired.status == "alerting" and [a["state"] for a in fired.alerts] == ["firing"]
    time.sleep(2.2)
    credit.send(applicants(500, seed=12))
    credit.flushed()
    resolved = monitors.run_monitor("watch")
    assert resolved.status == "ok" and [a["state"] for a in resolved.alerts] == ["resolved"]
    assert all(n["delivered"] for r in (fired, resolved) for n in r.results["notifications"])


@pytest.mark.parametrize("kind", ["webhook", "slack", "alertmanager"])
def test_http_notifiers(credit: Credit, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with receiving() as hook:
        monkeypatch.setenv("HOOK_URL", f"{hook.url}/{kind}")
        _fire_then_resolve(credit, {"kind": kind, "url": "${HOOK_URL}"})
        bodies = [body for _, _, body in hook.requests]
    assert len(bodies) == 2
    if kind == "slack":
        assert "FIRING" in str(bodies[0]).upper() and "RESOLVED" in str(bodies[1]).upper()
    else:  # mloop's JSON and Alertmanager's format both carry a list of alerts with a status
        first = bodies[0]["alerts"][0]
        last = bodies[1]["alerts"][0]
        assert (first.get("state") or first.get("status")) == "firing"
        assert (last.get("state") or last.get("status")) == "resolved"


def test_smtp(credit: Credit, inbox: tuple[Inbox, int]) -> None:
    found, port = inbox
    _fire_then_resolve(
        credit,
        {
            "kind": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
            "sender": "mloop@example.org", "to": ["ops@example.org"], "timeout": 5,
        },
    )  # fmt: skip
    subjects = [message_from_bytes(e.content)["Subject"] for e in found.envelopes]  # type: ignore[arg-type]
    assert len(subjects) == 2
    assert "FIRING" in subjects[0] and "RESOLVED" in subjects[1]


def test_log(credit: Credit, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mloop.tests.alerts"):
        _fire_then_resolve(credit, {"kind": "log", "logger": "mloop.tests.alerts"})
    lines = [r.getMessage() for r in caplog.records if r.name == "mloop.tests.alerts"]
    assert any("FIRING" in line for line in lines) and any("RESOLVED" in line for line in lines)
