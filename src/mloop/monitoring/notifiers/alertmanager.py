r"""Prometheus Alertmanager's webhook payload (version 4), for receivers that read it.

Many tools (PagerDuty bridges, Opsgenie, in-house receivers) accept what
Alertmanager's ``webhook_config`` sends; this notifier sends mloop's alerts
in that form::

    {"version": "4", "groupKey": "{}:{alertname=\"drift\"}", "truncatedAlerts": 0,
     "status": "firing", "receiver": "mloop",
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "",
     "alerts": [{"status": "firing", "labels": {"alertname": "drift", "severity": ...},
                 "annotations": {"summary": ..., "description": ..., "psi": "0.31"},
                 "startsAt": "...Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "", "fingerprint": "..."}]}

An alert's labels gain ``alertname`` (the rule) and ``severity``; its
summary, description and values become annotations (strings). A firing
alert ends at Alertmanager's zero time, ``0001-01-01T00:00:00Z``.

Example:
    >>> from mloop.monitoring.alerts import Alert
    >>> alertmanager_payload([Alert("drift", labels={"model": "m"})])["groupKey"]
    '{}:{alertname="drift", model="m", severity="warning"}'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mloop.monitoring.alerts import Alert, rfc3339
from mloop.monitoring.notifiers.webhook import WebhookNotifier, group_status

ZERO_TIME = "0001-01-01T00:00:00Z"
"""Alertmanager's ``endsAt`` of an alert that has not ended."""


def _labels(alert: Alert) -> dict[str, str]:
    return {**alert.labels, "alertname": alert.name, "severity": alert.severity}


def _annotations(alert: Alert) -> dict[str, str]:
    notes = {name: f"{value:g}" for name, value in alert.values.items()}
    if alert.summary:
        notes["summary"] = alert.summary
    if alert.description:
        notes["description"] = alert.description
    return notes


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


def alertmanager_payload(
    alerts: Sequence[Alert], *, receiver: str = "mloop", external_url: str = ""
) -> dict[str, Any]:
    """Alertmanager's webhook payload (version 4) for ``alerts``, sent as one group."""
    labels = [_labels(alert) for alert in alerts]
    common_labels = _common(labels)
    group_labels = {k: v for k, v in common_labels.items() if k == "alertname"}
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(common_labels.items()))
    return {
        "version": "4",
        "groupKey": f"{{}}:{{{inner}}}",
        "truncatedAlerts": 0,
        "status": group_status(alerts),
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": _common([_annotations(alert) for alert in alerts]),
        "externalURL": external_url,
        "alerts": [
            {
                "status": alert.state,
                "labels": dict(sorted(label.items())),
                "annotations": dict(sorted(_annotations(alert).items())),
                "startsAt": rfc3339(alert.started_at),
                "endsAt": rfc3339(alert.ended_at) if alert.ended_at else ZERO_TIME,
                "generatorURL": alert.url,
                "fingerprint": alert.fingerprint,
            }
            for alert, label in zip(alerts, labels, strict=True)
        ],
    }


class AlertmanagerNotifier(WebhookNotifier):
    """POSTs alerts in Alertmanager's webhook format.

    Args:
        receiver: the ``receiver`` field (default ``mloop``).
        external_url: the ``externalURL`` field: where the alerts can be seen.
        (the rest as :class:`~mloop.monitoring.notifiers.webhook.WebhookNotifier`)

    Example:
        >>> AlertmanagerNotifier("http://127.0.0.1:9095/alerts", receiver="oncall")
        AlertmanagerNotifier(url='http://127.0.0.1:9095/alerts')
    """

    kind = "alertmanager"

    def __init__(
        self,
        url: str,
        *,
        receiver: str = "mloop",
        external_url: str = "",
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        super().__init__(url, headers=headers, timeout=timeout, attempts=attempts, backoff=backoff)
        self.receiver = receiver
        self.external_url = external_url

    def payload(self, alerts: Sequence[Alert]) -> Any:
        """Alertmanager's payload for ``alerts``."""
        return alertmanager_payload(alerts, receiver=self.receiver, external_url=self.external_url)
