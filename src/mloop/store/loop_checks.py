"""Checks on monitors, reports, policies and policy runs, made before a store writes them.

Every store of these entities (SQL now, REST later) calls them first, so a
bad value is refused with a clear message and nothing is written. Specs are
stored in plain text, so a secret written out in one is refused: a value
that looks like one (a URL with a password or a token in its query, or the
value of a key named like ``password``, ``token`` or ``secret``) must be a
``${NAME}`` reference to an environment variable, as notifiers read them
(:mod:`mloop.monitoring.notifiers.references`).

Example:
    >>> check_no_secrets({"kind": "smtp", "password": "${SMTP_PASSWORD}"}, "notifier 1")
    >>> check_no_secrets({"kind": "smtp", "password": "hunter2"}, "notifier 1")
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: notifier 1: 'password' holds a secret written out; ...
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.entities import (
    MONITOR_REPORT_STATUSES,
    POLICY_RUN_STATUSES,
    POLICY_TRIGGERS,
    Monitor,
    MonitorReport,
    Policy,
)
from mloop.errors import InvalidInput
from mloop.masking import has_credentials
from mloop.store.names import check_endpoint_name, check_storable

_TARGET = re.compile(r"^[a-z][a-z0-9_-]*:\S.*$")
# The same form as the notifiers' references: ${NAME}.
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_WORD = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")  # accessToken -> access_Token
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "token", "secret", "apikey", "authorization", "credential",
     "credentials", "passphrase"}
)  # fmt: skip
MAX_TEXT = 600


def dump_json(value: Any, what: str) -> str:
    """``value`` as JSON text (keys sorted), or InvalidInput naming ``what``.

    Example:
        >>> dump_json({"b": 1, "a": [1.5]}, "state")
        '{"a": [1.5], "b": 1}'
    """
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise InvalidInput(
            f"{what} is not JSON data ({err}); use dicts, lists, text and numbers"
        ) from None
    return check_storable(what, text)


def check_no_secrets(value: Any, what: str, key: str = "") -> None:
    """Refuse a secret written out anywhere inside ``value`` (mappings and lists are walked).

    Raises:
        InvalidInput: naming where the secret is, never the secret itself.

    Example:
        >>> check_no_secrets({"url": "https://hooks.example.com/x?a=1"}, "notifier 1")
    """
    if isinstance(value, str):
        if _REFERENCE.search(value) is None and (_is_secret_key(key) or has_credentials(value)):
            raise InvalidInput(
                f"{what}: {key or 'a value'!r} holds a secret written out; put it in an "
                'environment variable and write "${NAME}" instead'
            )
    elif isinstance(value, Mapping):
        for name, item in value.items():
            check_no_secrets(item, what, str(name))
    elif isinstance(value, list | tuple):
        for item in value:
            check_no_secrets(item, what, key)


def _is_secret_key(key: str) -> bool:
    words = [w for w in _WORD.split(_CAMEL.sub(r"\1_\2", key).lower()) if w]
    pairs = {a + b for a, b in itertools.pairwise(words)}
    return bool(_SECRET_WORDS.intersection(words) or "apikey" in pairs)


def _text(value: object, what: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise InvalidInput(
            f"{what} must be {'a' if empty else 'a non-empty'} string, got {value!r}"
        )
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} is {len(value)} characters; the limit is {MAX_TEXT}")
    return check_storable(what, value)


def _list(value: object, what: str) -> list[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidInput(f"{what} must be a list, got {type(value).__name__}")
    return list(value)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a mapping, got {type(value).__name__}")
    return value


def monitor_columns(monitor: Monitor) -> dict[str, Any]:
    """The checked, JSON-encoded settings of a monitor, as a store writes them.

    Raises:
        InvalidInput: a bad name, target, text, list, or a notifier spec holding a secret.

    Example:
        >>> monitor_columns(Monitor("m", "dataset:credit", "credit@train", "1h", "1d"))["rules"]
        '[]'
    """
    check_endpoint_name(monitor.name, "monitor")
    if not isinstance(monitor.target, str) or not _TARGET.match(monitor.target):
        raise InvalidInput(
            f"monitor target {monitor.target!r} must read KIND:NAME, "
            "e.g. deployment:credit-api or dataset:credit"
        )
    _text(monitor.target, "monitor target")
    _text(monitor.reference, "monitor reference", empty=True)
    _text(monitor.schedule, "monitor schedule")
    _text(monitor.window, "monitor window")
    for rule in _list(monitor.rules, "monitor rules"):
        _text(rule, "monitor rule")
    notifiers = _list(monitor.notifiers, "monitor notifiers")
    for i, spec in enumerate(notifiers, 1):
        if not isinstance(spec, Mapping) or not isinstance(spec.get("kind"), str):
            raise InvalidInput(
                f'monitor notifier {i} must be a mapping with a "kind", e.g. {{"kind": "log"}}'
            )
        check_no_secrets(spec, f"monitor notifier {i} ({spec['kind']})")
    if not isinstance(monitor.paused, bool):
        raise InvalidInput(f"monitor paused must be True or False, got {monitor.paused!r}")
    return {
        "target": monitor.target,
        "reference": monitor.reference,
        "schedule": monitor.schedule,
        "run_window": monitor.window,
        "checks": dump_json(_list(monitor.checks, "monitor checks"), "monitor checks"),
        "rules": dump_json(list(monitor.rules), "monitor rules"),
        "notifiers": dump_json(notifiers, "monitor notifiers"),
        "state": dump_json(_mapping(monitor.state, "monitor state"), "monitor state"),
        "paused": monitor.paused,
    }


def report_columns(report: MonitorReport) -> dict[str, Any]:
    """The checked, JSON-encoded values of a report, as a store writes them.

    Raises:
        InvalidInput: an unknown status, a window that ends before it starts, or non-JSON data.

    Example:
        >>> report_columns(MonitorReport("m", 0, 10, "no-data"))["status"]
        'no-data'
    """
    if report.status not in MONITOR_REPORT_STATUSES:
        raise InvalidInput(
            f"report status {report.status!r} is not one of {', '.join(MONITOR_REPORT_STATUSES)}"
        )
    start, end = report.window_start, report.window_end
    if not isinstance(start, int) or not isinstance(end, int) or end < start:
        raise InvalidInput(
            f"report window {start!r}..{end!r} must be two times in milliseconds, start <= end"
        )
    for version in _list(report.model_versions, "report model versions"):
        _text(version, "report model version")
    if report.error is not None and not isinstance(report.error, str):
        raise InvalidInput(f"report error must be text or None, got {report.error!r}")
    if report.error is not None:
        check_storable("report error", report.error)
    return {
        "window_start": start,
        "window_end": end,
        "status": report.status,
        "reference": _text(report.reference, "report reference", empty=True),
        "model_versions": dump_json(list(report.model_versions), "report model versions"),
        "results": dump_json(_mapping(report.results, "report results"), "report results"),
        "alerts": dump_json(_list(report.alerts, "report alerts"), "report alerts"),
        "error": report.error,
    }


_TRIGGER_KEYS = {"alert": ("monitor",), "dataset": ("name",), "schedule": ("cron",)}


def policy_columns(policy: Policy) -> dict[str, Any]:
    """The checked, JSON-encoded settings of a policy, as a store writes them.

    Raises:
        InvalidInput: a bad name or trigger, non-JSON data, or a secret written out in the spec.

    Example:
        >>> policy_columns(Policy("p", {"on": "schedule", "cron": "0 3 * * 1"}, {}))["trigger_spec"]
        '{"cron": "0 3 * * 1", "on": "schedule"}'
    """
    check_endpoint_name(policy.name, "policy")
    trigger = _mapping(policy.trigger, "policy trigger")
    on = trigger.get("on")
    if on not in POLICY_TRIGGERS:
        raise InvalidInput(
            f'policy trigger "on" is {on!r}; use one of {", ".join(POLICY_TRIGGERS)}, e.g. '
            '{"on": "alert", "monitor": "credit-drift", "rule": "drift"}'
        )
    for key in _TRIGGER_KEYS[on]:
        _text(trigger.get(key), f'policy trigger "{key}" (on {on})')
    spec = _mapping(policy.spec, "policy spec")
    check_no_secrets(spec, "policy spec")
    check_no_secrets(trigger, "policy trigger")
    if not isinstance(policy.paused, bool):
        raise InvalidInput(f"policy paused must be True or False, got {policy.paused!r}")
    return {
        "trigger_spec": dump_json(trigger, "policy trigger"),
        "spec": dump_json(spec, "policy spec"),
        "paused": policy.paused,
        "state": dump_json(_mapping(policy.state, "policy state"), "policy state"),
    }


_FROM: dict[str, frozenset[str]] = {
    "running": frozenset({"waiting-approval"}),
    "waiting-approval": frozenset({"running"}),
    "succeeded": frozenset({"running", "waiting-approval"}),
    "failed": frozenset({"running", "waiting-approval"}),
    "cancelled": frozenset({"running", "waiting-approval"}),
    "rolled-back": frozenset({"running", "waiting-approval", "succeeded"}),
}


def run_status_sources(status: str) -> frozenset[str]:
    """The statuses a policy run may move to ``status`` from.

    A finished run stays finished, except that a rollback may end a
    succeeded one.

    Raises:
        InvalidInput: not one of :data:`~mloop.entities.POLICY_RUN_STATUSES`.

    Example:
        >>> sorted(run_status_sources("running"))
        ['waiting-approval']
    """
    if status not in POLICY_RUN_STATUSES:
        raise InvalidInput(
            f"policy run status {status!r} is not one of {', '.join(POLICY_RUN_STATUSES)}"
        )
    return _FROM[status]


def step_json(step: Mapping[str, Any]) -> dict[str, Any]:
    """A policy run step checked: a mapping with a ``"step"`` name, JSON data, no secret.

    Example:
        >>> step_json({"step": "pipeline-run", "id": "r1"})
        {'step': 'pipeline-run', 'id': 'r1'}
    """
    _mapping(step, "policy run step")
    _text(step.get("step"), 'policy run step "step"')
    check_no_secrets(step, "policy run step")
    dump_json(step, "policy run step")
    return dict(step)
