"""Telling a policy's notifiers that a run waits for approval, succeeded, failed or was rolled back.

Each notice is an :class:`~mloop.monitoring.alerts.Alert` named
``policy-run-<event>``, labelled with the policy, the run and the model, so
any notifier (webhook, Slack, Alertmanager, e-mail, log) can carry it. A
notifier that cannot deliver does not stop the run: what each did is
returned, to be kept in the run's chain.

Example:
    >>> notice("retrain", "ab" * 16, "succeeded", "credit/4 promoted", {"model": "credit"}).severity
    'info'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.errors import MloopError
from mloop.monitoring.alerts import Alert
from mloop.monitoring.notifiers import notifier_from

log = logging.getLogger(__name__)

_SEVERITY = {
    "waiting-approval": "warning",
    "succeeded": "info",
    "failed": "critical",
    "rolled-back": "critical",
}


def notice(policy: str, run_id: str, event: str, summary: str, labels: Mapping[str, str]) -> Alert:
    """The alert that tells of ``event`` in run ``run_id`` of ``policy``."""
    return Alert(
        f"policy-run-{event}",
        severity=_SEVERITY.get(event, "info"),
        labels={"policy": policy, "run": run_id, "event": event, **labels},
        summary=f"policy {policy}: {summary}",
        description=f"mloop policy show {run_id}",
    )


def send_notices(specs: Sequence[Mapping[str, Any]], alert: Alert) -> list[str]:
    """Send ``alert`` through each notifier spec; one line per notifier saying how it went."""
    outcomes = []
    for spec in specs:
        kind = str(spec.get("kind"))
        try:
            notifier_from(spec).send([alert])
        except MloopError as err:
            log.warning("policy notifier %s failed: %s", kind, err)
            outcomes.append(f"{kind}: failed ({err})")
        else:
            outcomes.append(f"{kind}: sent")
    return outcomes
