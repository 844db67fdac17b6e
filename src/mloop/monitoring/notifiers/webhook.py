"""mloop's own JSON webhook: one POST per batch of alerts.

The payload, version 1::

    {
      "version": "1",
      "source": "mloop",
      "status": "firing",          # "firing" if any alert fires, else "resolved"
      "alerts": [                  # Alert.to_dict() of each alert
        {"name": "feature_drift", "state": "firing", "severity": "warning",
         "labels": {"model": "fraud"}, "summary": "...", "description": "...",
         "values": {"psi": 0.31}, "started_at": "2027-03-01T12:00:00Z",
         "ended_at": null, "url": "", "fingerprint": "a23f40ace532bd0b"}
      ]
    }

Example:
    >>> from mloop.monitoring.alerts import Alert
    >>> webhook_payload([Alert("drift")])["status"]
    'firing'
    >>> WebhookNotifier("https://example.org/hooks/T0K3N")
    WebhookNotifier(url='https://example.org/hooks/***')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mloop.monitoring.alerts import Alert
from mloop.monitoring.notifiers.base import shown_url
from mloop.monitoring.notifiers.http import check_http_url, post_json

PAYLOAD_VERSION = "1"
"""The version of mloop's webhook payload; a change to its fields gets a new one."""


def group_status(alerts: Sequence[Alert]) -> str:
    """``firing`` when any alert fires, else ``resolved``.

    Example:
        >>> group_status([Alert("a").resolved(), Alert("b")])
        'firing'
    """
    return "firing" if any(alert.firing for alert in alerts) else "resolved"


def webhook_payload(alerts: Sequence[Alert]) -> dict[str, Any]:
    """The mloop webhook payload of ``alerts`` (see the module's documentation)."""
    return {
        "version": PAYLOAD_VERSION,
        "source": "mloop",
        "status": group_status(alerts),
        "alerts": [alert.to_dict() for alert in alerts],
    }


class WebhookNotifier:
    """POSTs mloop's JSON payload to a URL.

    Args:
        url: the receiver; in a spec, a reference such as ``${ALERT_WEBHOOK_URL}``
            when it holds a token.
        headers: extra headers (``Authorization``); in a spec, their values are references.
        timeout: seconds to wait for each answer.
        attempts: tries in all before giving up.
        backoff: seconds before the second try, doubled after.
    """

    kind = "webhook"
    secret_options: tuple[str, ...] = ("headers",)

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._url = check_http_url(url, self.kind)
        self._headers = dict(headers or {})
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={shown_url(self._url)!r})"

    def payload(self, alerts: Sequence[Alert]) -> Any:
        """The JSON document sent for ``alerts``."""
        return webhook_payload(alerts)

    def send(self, alerts: Sequence[Alert]) -> None:
        """POST the payload of ``alerts``; nothing is sent for an empty list.

        Raises:
            NotificationFailed: the receiver failed every try.
        """
        if not alerts:
            return
        post_json(
            self._url,
            self.payload(alerts),
            who=self.kind,
            timeout=self.timeout,
            attempts=self.attempts,
            backoff=self.backoff,
            headers=self._headers,
        )
