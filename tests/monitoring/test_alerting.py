"""Alerts between checks: fired once, de-duplicated, reminded, resolved, kept across restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from mloop.errors import InvalidInput
from mloop.monitoring.alerting import AlertBook
from mloop.monitoring.alerts import Alert

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def drift(column: str, psi: float) -> Alert:
    return Alert("drift", labels={"column": column}, values={"psi": psi}, started_at=T0)


def test_fire_stay_quiet_remind_and_resolve_each_alert_on_its_own() -> None:
    book = AlertBook(repeat_interval=timedelta(minutes=30))
    sent = book.observe([drift("amount", 0.3)], at=T0)
    assert [(a.state, a.labels["column"]) for a in sent] == [("firing", "amount")]
    sent = book.observe([drift("amount", 0.4), drift("age", 0.5)], at=T0 + timedelta(minutes=5))
    assert [a.labels["column"] for a in sent] == ["age"]  # amount is de-duplicated
    assert book.firing[0].values == {"psi": 0.4}  # the latest evidence is kept
    sent = book.observe([drift("amount", 0.4), drift("age", 0.5)], at=T0 + timedelta(minutes=30))
    assert [a.labels["column"] for a in sent] == ["amount"]  # its reminder is due, age's not
    assert sent[0].started_at == T0
    sent = book.observe([drift("age", 0.5)], at=T0 + timedelta(minutes=34))
    assert [(a.state, a.labels["column"]) for a in sent] == [("resolved", "amount")]
    assert sent[0].ended_at == T0 + timedelta(minutes=34)
    assert [a.labels["column"] for a in book.firing] == ["age"]


def test_the_book_survives_a_restart_through_its_state() -> None:
    book = AlertBook(repeat_interval=timedelta(hours=1))
    book.observe([drift("amount", 0.3)], at=T0)
    again = AlertBook.from_state(json.loads(json.dumps(book.state())))
    assert again.observe([drift("amount", 0.3)], at=T0 + timedelta(minutes=59)) == []
    assert [a.state for a in again.observe([], at=T0 + timedelta(hours=2))] == ["resolved"]


def test_bad_input() -> None:
    with pytest.raises(InvalidInput, match="repeat_interval must be a positive timedelta"):
        AlertBook(repeat_interval=timedelta(0))
    book = AlertBook()
    with pytest.raises(InvalidInput, match="pass only the alerts that hold now"):
        book.observe([drift("amount", 0.3).resolved(at=T0)], at=T0)
    with pytest.raises(InvalidInput, match="naive"):
        book.observe([], at=datetime(2027, 3, 1))
    with pytest.raises(InvalidInput, match="not the state of an alert book"):
        AlertBook.from_state({"firing": []})
