"""A policy run's chain told in words, one line a step: why a model is serving.

Example:
    >>> describe_step({"step": "model-version", "version": 4, "ref": "credit/4", "run_id": "ab12"})
    'model version credit/4 (registered by run ab12)'
    >>> describe_step({"step": "canary", "deployment": "credit-api", "canary": "credit/4",
    ...                "percent": 10, "revision": 7})
    'deployed credit/4 as the canary of credit-api at 10% (revision 7)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def describe_step(record: Mapping[str, Any]) -> str:
    """One line saying what a step of a run's chain did."""
    step = str(record.get("step"))
    if "error" in record and step not in ("waiting-approval",):
        return f"{step}: failed: {record['error']}"
    describe = _WORDS.get(step)
    return describe(record) if describe is not None else f"{step}: {_rest(record)}"


def _rest(record: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in record.items() if k not in ("step", "time", "notified")}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))


def _trigger(r: Mapping[str, Any]) -> str:
    on = r.get("on")
    if r.get("manual"):
        what = "a run started by hand"
    elif on == "alert":
        what = f"alert of monitor {r.get('monitor', '?')}"
        if r.get("rule"):
            what += f" (rule {r['rule']})"
        if r.get("fingerprint"):
            what += f", fingerprint {r['fingerprint']}"
        if r.get("values"):
            what += f", values {dict(r['values'])}"
    elif on == "schedule":
        what = f"schedule {r.get('cron', '')}".strip()
    else:
        what = f"new dataset version {r.get('dataset')}"
    shown = r.get("manual") or on != "dataset"
    bound = f"; ${{dataset}} = {r['dataset']}" if r.get("dataset") and shown else ""
    return f"triggered by {what}{bound}"


def _pipeline(r: Mapping[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in sorted(dict(r.get("params", {})).items()))
    return f"pipeline {r.get('pipeline')}({params}) ran as run {r.get('run_id')}: {r.get('status')}"


def _version(r: Mapping[str, Any]) -> str:
    if r.get("version") is None:
        return f"no version of model {r.get('model')} was registered"
    return f"model version {r.get('ref')} (registered by run {r.get('run_id')})"


def _gate(r: Mapping[str, Any]) -> str:
    verdict = "passed" if r.get("passed") else "FAILED"
    baseline = r.get("baseline") or "no champion yet"
    rules = "; ".join(
        f"{x.get('rule')}: {'ok' if x.get('passed') else 'no'} ({x.get('value')})"
        for x in r.get("rules", [])
    )
    return (
        f"gate {verdict}: {r.get('candidate')} against {r.get('against')} ({baseline}) "
        f"on {r.get('data')}: {rules}"
    )


def _approval(r: Mapping[str, Any]) -> str:
    if not r.get("needed"):
        return f"no approval needed ({r.get('alias') or 'no alias'} is not protected)"
    if r.get("rejected_by"):
        return f"rejected by {', '.join(r['rejected_by'])}"
    by = ", ".join(r.get("approved_by", [])) or "nobody"
    return f"{r.get('alias')} protection met; approved by {by}"


def _waiting(r: Mapping[str, Any]) -> str:
    return f"waiting for approval to take {r.get('alias')}: needs {'; '.join(r.get('missing', []))}"


def _canary(r: Mapping[str, Any]) -> str:
    return (
        f"deployed {r.get('canary')} as the canary of {r.get('deployment')} at "
        f"{r.get('percent')}% (revision {r.get('revision')})"
    )


def _change(r: Mapping[str, Any]) -> str:
    by = f" by {r.get('actor')}" if r.get("actor") else ""
    canary = f", canary {r.get('canary')} at {r.get('percent')}%" if r.get("canary") else ""
    return f"deployment {r.get('action')} (revision {r.get('revision')}){by}{canary}"


def _promoted(r: Mapping[str, Any]) -> str:
    move = r.get("alias_move")
    moved = ""
    if move:
        moved = f": {move['model']}@{move['alias']} moved {move['from']} -> {move['to']}"
    return f"PROMOTED (revision {r.get('revision')}, by {r.get('actor')}){moved}"


def _rolled_back(r: Mapping[str, Any]) -> str:
    why = f": {r['reason']}" if r.get("reason") else ""
    return (
        f"ROLLED BACK ({r.get('action')}, revision {r.get('revision')}, by {r.get('actor')}){why}"
    )


def _replaced(r: Mapping[str, Any]) -> str:
    return f"cancelled: the canary was changed ({r.get('action')}, revision {r.get('revision')})"


def _overdue(r: Mapping[str, Any]) -> str:
    return f"overdue: {r.get('note')}"


_WORDS = {
    "trigger": _trigger,
    "pipeline-run": _pipeline,
    "model-version": _version,
    "gate": _gate,
    "approval": _approval,
    "waiting-approval": _waiting,
    "canary": _canary,
    "deployment-change": _change,
    "promoted": _promoted,
    "rolled-back": _rolled_back,
    "replaced": _replaced,
    "overdue": _overdue,
}
