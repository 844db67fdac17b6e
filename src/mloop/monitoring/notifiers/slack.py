"""Slack's incoming webhooks: a ``text`` for notifications and ``blocks`` for the message.

The webhook's URL is the secret (anyone holding it may post), so in a spec
it must be a reference: ``{"kind": "slack", "url": "${SLACK_WEBHOOK_URL}"}``.

Example:
    >>> from mloop.monitoring.alerts import Alert
    >>> slack_payload([Alert("drift", summary="amount drifted")])["text"]
    ':rotating_light: [FIRING] drift (warning): amount drifted'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mloop.monitoring.alerts import Alert
from mloop.monitoring.notifiers.webhook import WebhookNotifier

MAX_BLOCKS = 50
"""Slack takes at most 50 blocks in one message."""

_ICONS = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}


def _line(alert: Alert) -> str:
    head = f"{_ICONS[alert.state]} [{alert.state.upper()}] {alert.name} ({alert.severity})"
    return f"{head}: {alert.summary}" if alert.summary else head


def _block(alert: Alert) -> dict[str, Any]:
    lines = [f"*{_line(alert)}*"]
    if alert.description:
        lines.append(alert.description)
    if alert.labels:
        lines.append(" ".join(f"`{k}={v}`" for k, v in sorted(alert.labels.items())))
    if alert.values:
        lines.append(", ".join(f"{k} = {v:g}" for k, v in sorted(alert.values.items())))
    if alert.url:
        lines.append(f"<{alert.url}|details>")
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}


def slack_payload(alerts: Sequence[Alert]) -> dict[str, Any]:
    """Slack's ``{"text", "blocks"}`` for ``alerts``: one section each, at most 50 blocks.

    Example:
        >>> from mloop.monitoring.alerts import Alert
        >>> len(slack_payload([Alert(f"rule{i}") for i in range(60)])["blocks"])
        50
    """
    if len(alerts) == 1:
        text = _line(alerts[0])
    else:
        firing = sum(alert.firing for alert in alerts)
        text = f"{firing} firing, {len(alerts) - firing} resolved mloop alerts"
    blocks = [_block(alert) for alert in alerts]
    if len(blocks) > MAX_BLOCKS:
        more = len(blocks) - (MAX_BLOCKS - 1)
        note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {more} more"}]}
        blocks = [*blocks[: MAX_BLOCKS - 1], note]
    return {"text": text, "blocks": blocks}


class SlackNotifier(WebhookNotifier):
    """Posts alerts to a Slack channel through an incoming webhook.

    Example:
        >>> SlackNotifier("https://hooks.slack.com/services/T0/B0/S3CRET")
        SlackNotifier(url='https://hooks.slack.com/services/***')
    """

    kind = "slack"
    secret_options = ("url",)

    def payload(self, alerts: Sequence[Alert]) -> Any:
        """Slack's payload for ``alerts``."""
        return slack_payload(alerts)
