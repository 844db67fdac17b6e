"""Notifiers against a real HTTP receiver and a real SMTP server, both on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from mloop.errors import InvalidInput, NotificationFailed
from mloop.monitoring.alerts import Alert
from mloop.monitoring.notifiers import Notifier, notifier_from, registry
from mloop.monitoring.notifiers.alertmanager import AlertmanagerNotifier
from mloop.monitoring.notifiers.log import LogNotifier
from mloop.monitoring.notifiers.slack import SlackNotifier
from mloop.monitoring.notifiers.smtp import SmtpNotifier
from mloop.monitoring.notifiers.webhook import WebhookNotifier
from tests.http_receiver import Receiver, receiving
from tests.smtp_receiver import Inbox, receiving_mail

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "T0K3N-SECRET-9f8e7d"
PASSWORD = "sm7p-PASSW0RD-x1"
FIRING = Alert(
    "feature_drift",
    severity="critical",
    labels={"model": "fraud", "column": "amount"},
    summary="amount drifted",
    description="PSI above 0.2 for 3 windows",
    values={"psi": 0.31},
    started_at=START,
    url="http://mloop.local/monitors/1",
)
RESOLVED = Alert("latency", labels={"model": "fraud"}, started_at=START).resolved(
    at=START + timedelta(minutes=30)
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def test_webhook_payload_exactly(receiver: Receiver) -> None:
    notifier = WebhookNotifier(f"{receiver.url}/hooks/{TOKEN}", headers={"X-Token": TOKEN})
    notifier.send([FIRING, RESOLVED])
    [(path, headers, body)] = receiver.requests
    assert path == f"/hooks/{TOKEN}"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Token"] == TOKEN
    assert body == {
        "version": "1",
        "source": "mloop",
        "status": "firing",
        "alerts": [FIRING.to_dict(), RESOLVED.to_dict()],
    }
    assert body["alerts"][1]["ended_at"] == "2027-03-01T12:30:00Z"


def test_slack_payload_exactly(receiver: Receiver) -> None:
    SlackNotifier(f"{receiver.url}/services/T0/B0/{TOKEN}").send([FIRING])
    [(_, _, body)] = receiver.requests
    assert body == {
        "text": ":rotating_light: [FIRING] feature_drift (critical): amount drifted",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*:rotating_light: [FIRING] feature_drift (critical): amount drifted*\n"
                    "PSI above 0.2 for 3 windows\n"
                    "`column=amount` `model=fraud`\n"
                    "psi = 0.31\n"
                    "<http://mloop.local/monitors/1|details>",
                },
            }
        ],
    }


def test_slack_text_of_several_alerts(receiver: Receiver) -> None:
    SlackNotifier(receiver.url).send([FIRING, RESOLVED])
    [(_, _, body)] = receiver.requests
    assert body["text"] == "1 firing, 1 resolved mloop alerts"
    assert body["blocks"][1]["text"]["text"].startswith(
        "*:white_check_mark: [RESOLVED] latency (warning)*"
    )


def test_alertmanager_payload_exactly(receiver: Receiver) -> None:
    notifier = AlertmanagerNotifier(
        f"{receiver.url}/alerts", receiver="oncall", external_url="http://mloop.local"
    )
    notifier.send([FIRING, RESOLVED])
    [(path, _, body)] = receiver.requests
    assert path == "/alerts"
    assert body == {
        "version": "4",
        "groupKey": '{}:{model="fraud"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "oncall",
        "groupLabels": {},
        "commonLabels": {"model": "fraud"},
        "commonAnnotations": {},
        "externalURL": "http://mloop.local",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "feature_drift",
                    "column": "amount",
                    "model": "fraud",
                    "severity": "critical",
                },
                "annotations": {
                    "description": "PSI above 0.2 for 3 windows",
                    "psi": "0.31",
                    "summary": "amount drifted",
                },
                "startsAt": "2027-03-01T12:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://mloop.local/monitors/1",
                "fingerprint": FIRING.fingerprint,
            },
            {
                "status": "resolved",
                "labels": {"alertname": "latency", "model": "fraud", "severity": "warning"},
                "annotations": {},
                "startsAt": "2027-03-01T12:00:00Z",
                "endsAt": "2027-03-01T12:30:00Z",
                "generatorURL": "",
                "fingerprint": RESOLVED.fingerprint,
            },
        ],
    }


def test_alertmanager_group_of_one_rule(receiver: Receiver) -> None:
    AlertmanagerNotifier(receiver.url).send([FIRING])
    [(_, _, body)] = receiver.requests
    assert body["groupLabels"] == {"alertname": "feature_drift"}
    assert body["groupKey"] == (
        '{}:{alertname="feature_drift", column="amount", model="fraud", severity="critical"}'
    )
    assert body["receiver"] == "mloop"


def test_nothing_is_sent_for_no_alerts(receiver: Receiver) -> None:
    WebhookNotifier(receiver.url).send([])
    assert receiver.requests == []


def test_a_5xx_is_retried(receiver: Receiver) -> None:
    receiver.plan = [500, 503]
    WebhookNotifier(receiver.url, attempts=3, backoff=0.01).send([FIRING])
    assert len(receiver.requests) == 3


def test_retries_are_bounded_and_the_error_has_no_secret(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.plan = [500, 500, 500]
    notifier = SlackNotifier(f"{receiver.url}/services/{TOKEN}/x", attempts=2, backoff=0.01)
    with caplog.at_level(logging.DEBUG), pytest.raises(NotificationFailed) as caught:
        notifier.send([FIRING])
    assert len(receiver.requests) == 2
    message = str(caught.value)
    assert message == (
        f"slack: POST to {receiver.url}/services/*** failed after 2 attempts: "
        "the receiver answered HTTP 500"
    )
    shown = "".join(traceback.format_exception(caught.value))  # with any chained exception
    assert TOKEN not in shown
    assert TOKEN not in caplog.text


def test_a_4xx_is_not_retried(receiver: Receiver) -> None:
    receiver.plan = [404]
    with pytest.raises(NotificationFailed, match="after 1 attempt: the receiver answered HTTP 404"):
        WebhookNotifier(receiver.url, attempts=3, backoff=0.01).send([FIRING])
    assert len(receiver.requests) == 1


def test_a_receiver_that_does_not_answer_times_out(receiver: Receiver) -> None:
    receiver.plan = [1.0, 1.0]
    notifier = WebhookNotifier(f"{receiver.url}/{TOKEN}/x", timeout=0.2, attempts=2, backoff=0)
    with pytest.raises(NotificationFailed, match=r"after 2 attempts: no answer within 0.2 s"):
        notifier.send([FIRING])


def test_chained_errors_hold_no_secret(receiver: Receiver) -> None:
    receiver.plan = [0.5]
    notifier = WebhookNotifier(f"{receiver.url}/{TOKEN}/x", timeout=0.1, attempts=1)
    with pytest.raises(NotificationFailed) as caught:
        notifier.send([FIRING])
    assert TOKEN not in "".join(traceback.format_exception(caught.value))


def test_a_receiver_that_is_not_there() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notifier = WebhookNotifier(f"http://127.0.0.1:{port}/h/{TOKEN}", attempts=2, backoff=0.01)
    with pytest.raises(NotificationFailed, match="could not connect") as caught:
        notifier.send([FIRING])
    assert TOKEN not in str(caught.value)


def test_reprs_mask_secrets() -> None:
    slack = SlackNotifier(f"https://hooks.slack.com/services/T0/B0/{TOKEN}")
    assert repr(slack) == "SlackNotifier(url='https://hooks.slack.com/services/***')"
    hook = WebhookNotifier(f"https://u:{TOKEN}@example.org/h?token={TOKEN}", headers={"A": TOKEN})
    assert TOKEN not in repr(hook)
    smtp = SmtpNotifier("h", sender="a@b", to=["c@d"], username="u", password=PASSWORD)
    assert PASSWORD not in repr(smtp) and PASSWORD not in str(vars(smtp).keys())


def test_log_notifier(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mloop.alerts"):
        LogNotifier().send([FIRING, RESOLVED])
    first, second = caplog.records
    assert first.levelno == logging.WARNING
    assert first.getMessage() == (
        "alert FIRING feature_drift (critical) {column=amount, model=fraud} amount drifted "
        "[psi=0.31]"
    )
    assert first.alert == FIRING.to_dict()  # type: ignore[attr-defined]
    assert second.levelno == logging.INFO
    assert second.getMessage() == "alert RESOLVED latency (warning) {model=fraud} "


# -- specs, references and the registry ---------------------------------------------


def test_spec_with_references(receiver: Receiver) -> None:
    env = {"SLACK_WEBHOOK_URL": f"{receiver.url}/services/{TOKEN}"}
    notifier = notifier_from({"kind": "slack", "url": "${SLACK_WEBHOOK_URL}"}, environ=env)
    assert isinstance(notifier, SlackNotifier) and isinstance(notifier, Notifier)
    assert TOKEN not in repr(notifier)
    notifier.send([FIRING])
    assert receiver.requests[0][0] == f"/services/{TOKEN}"


def test_references_are_read_from_the_environment(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"{receiver.url}/h/{TOKEN}")
    notifier_from({"kind": "webhook", "url": "${ALERT_WEBHOOK_URL}"}).send([FIRING])
    assert receiver.requests[0][0] == f"/h/{TOKEN}"
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "")
    with pytest.raises(InvalidInput, match=r"refers to \$\{ALERT_WEBHOOK_URL\}, which is not set"):
        notifier_from({"kind": "webhook", "url": "${ALERT_WEBHOOK_URL}"})


def test_spec_headers_are_references(receiver: Receiver) -> None:
    spec = {"kind": "webhook", "url": receiver.url, "headers": {"Authorization": "${AUTH}"}}
    notifier_from(spec, environ={"AUTH": f"Bearer {TOKEN}"}).send([FIRING])
    assert receiver.requests[0][1]["Authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(InvalidInput, match=r"option 'headers\.Authorization' is a secret") as err:
        notifier_from({**spec, "headers": {"Authorization": f"Bearer {TOKEN}"}}, environ={})
    assert TOKEN not in str(err.value)


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "slack", "url": f"https://hooks.slack.com/services/T/B/{TOKEN}"},
        {"kind": "webhook", "url": f"https://example.org/h?token={TOKEN}"},
        {"kind": "alertmanager", "url": f"https://am:{TOKEN}@example.org/x"},
        {
            "kind": "smtp",
            "host": "h",
            "sender": "a@b",
            "to": ["c@d"],
            "username": "u",
            "password": TOKEN,
        },
    ],
)
def test_a_secret_written_out_is_refused(spec: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match=r"is a secret and holds its value") as caught:
        notifier_from(spec, environ={})
    assert TOKEN not in str(caught.value)


def test_a_missing_reference_names_the_variable_not_a_value() -> None:
    with pytest.raises(InvalidInput) as caught:
        notifier_from({"kind": "slack", "url": "${SLACK_WEBHOOK_URL}"}, environ={"X": TOKEN})
    assert str(caught.value) == (
        "slack: option 'url' refers to ${SLACK_WEBHOOK_URL}, which is not set; "
        "set SLACK_WEBHOOK_URL in the environment"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"url": "x"}, 'a mapping with a "kind"'),
        ({"kind": "pager"}, "unknown mloop.notifiers plugin 'pager'; known: alertmanager"),
        ({"kind": "log", "colour": "red"}, "log: no option 'colour'; it takes logger"),
        ({"kind": "webhook", "url": "ftp://x/y"}, "is not http:// or https://"),
        ({"kind": "smtp", "host": "h", "sender": "a", "to": "b"}, "non-empty list"),
        ({"kind": "smtp", "host": "h", "sender": "a", "to": ["b"], "security": "tls"}, "one of"),
        ({"kind": "smtp", "host": "h", "sender": "a", "to": ["b"], "username": "u"}, "both"),
    ],
)
def test_invalid_specs(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        notifier_from(spec, environ={})


def test_registry_takes_third_party_kinds() -> None:
    assert {"webhook", "slack", "alertmanager", "smtp", "log"} <= set(registry.names())
    assert registry.group == "mloop.notifiers"
    registry.register("test-log", "mloop.monitoring.notifiers.log:LogNotifier")
    try:
        assert isinstance(notifier_from({"kind": "test-log", "logger": "x"}), LogNotifier)
    finally:
        registry._targets.pop("test-log")


# -- SMTP ---------------------------------------------------------------------------------


def _authenticate(
    server: object, session: object, envelope: object, mechanism: str, data: object
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"mloop",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with receiving_mail(_authenticate) as (inbox, port):
        yield inbox, port


def test_smtp_sends_one_mail_with_login(
    smtp_server: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port = smtp_server
    notifier = notifier_from(
        {
            "kind": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "mloop@example.org",
            "to": ["ops@example.org", "ml@example.org"],
            "username": "mloop",
            "password": "${SMTP_PASSWORD}",
            "timeout": 5,
        },
        environ={"SMTP_PASSWORD": PASSWORD},
    )
    with caplog.at_level(logging.DEBUG):
        notifier.send([FIRING])
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "mloop@example.org"
    assert envelope.rcpt_tos == ["ops@example.org", "ml@example.org"]
    assert isinstance(envelope.content, bytes)
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == "[mloop FIRING] feature_drift: amount drifted"
    body = mail.get_payload()
    assert isinstance(body, str)
    assert "PSI above 0.2 for 3 windows" in body and "psi = 0.31" in body
    assert PASSWORD not in caplog.text and PASSWORD not in repr(notifier)


def test_smtp_wrong_password(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    notifier = SmtpNotifier(
        "127.0.0.1",
        port=port,
        security="none",
        sender="a@example.org",
        to=["b@example.org"],
        username="mloop",
        password="wrong-" + PASSWORD,
        timeout=5,
    )
    with pytest.raises(NotificationFailed, match="refused the login of 'mloop'") as caught:
        notifier.send([FIRING])
    assert PASSWORD not in str(caught.value) and inbox.envelopes == []


def test_smtp_starttls_not_offered(smtp_server: tuple[Inbox, int]) -> None:
    _, port = smtp_server
    notifier = SmtpNotifier(
        "127.0.0.1", port=port, sender="a@example.org", to=["b@example.org"], timeout=5
    )
    with pytest.raises(NotificationFailed, match="does not offer STARTTLS"):
        notifier.send([FIRING])


def test_smtp_server_not_there() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notifier = SmtpNotifier(
        "127.0.0.1", port=port, security="none", sender="a@b", to=["c@d"], timeout=2
    )
    with pytest.raises(NotificationFailed, match=f"smtp: 127.0.0.1:{port} could not be reached"):
        notifier.send([FIRING])
