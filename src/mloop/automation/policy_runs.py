"""Policy runs: a recorded state machine from a trigger to a promoted (or rolled back) model.

A run's chain answers "why is this model serving?", one step after another:

1. ``trigger``: the event (an alert's fingerprint and values, a dataset
   version, a schedule time) and the dataset version ``${dataset}`` binds;
2. ``pipeline-run``: the pipeline run (and its step runs) made with the params;
3. ``model-version``: the version of the policy's model that run registered;
4. ``gate``: the candidate against the champion, rule by rule (failed: the run fails);
5. ``approval``: the champion alias's protection met (``waiting-approval``
   while approvals are missing; a rejection fails the run);
6. ``canary``: the candidate deployed as the deployment's canary (its revision);
7. ``deployment-change`` for each later change of the deployment, and then
   ``promoted`` (the run succeeded), ``rolled-back``, or ``replaced`` (the
   canary was changed by hand: cancelled); ``overdue`` once the spec's
   timeout passes without a decision.

:func:`advance` resumes after the last recorded step and never repeats one
that is recorded, so it may be called any number of times (by ``mloop
policy advance``, by the agent); while a run waits for approvals or for the
canary analysis it records nothing new. One process at a time advances a
run (a lease on ``policy-run:<id>``).

Example:
    >>> open_runs()
    []
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from mloop.automation import policy_steps as steps
from mloop.automation.policy_notices import notice, send_notices
from mloop.context.context import Context
from mloop.entities import Policy, PolicyRun
from mloop.errors import Conflict, InvalidInput, MloopError
from mloop.masking import mask_text
from mloop.models.backend import backend
from mloop.monitoring.schedule import parse_interval
from mloop.serving.deployments import deployment_history
from mloop.store.database import now_millis
from mloop.store.loop_checks import step_json
from mloop.store.protocols.policies import PolicyStore

log = logging.getLogger(__name__)

LEASE_MILLIS = 6 * 3600 * 1000
"""How long one advance may hold a run before another process may take it over."""

OPEN = ("running", "waiting-approval")
_WORK: dict[str, Callable[[PolicyRun, Policy, int, Context | None], steps.Outcome]] = {
    "pipeline-run": lambda run, policy, at, _: steps.pipeline_run(run, policy, at),
    "model-version": steps.model_version,
    "gate": steps.gate_step,
    "approval": steps.approval,
    "canary": steps.canary,
}


def start_run(
    name: str, event: Mapping[str, Any] | None = None, *, context: Context | None = None
) -> PolicyRun:
    """Start a run of policy ``name`` for ``event`` and record its trigger (nothing else runs).

    ``event`` is what fired: ``{"monitor": ..., "rule": ..., "fingerprint": ...,
    "values": {...}}`` for an alert, ``{"dataset": "credit@5"}`` for a dataset
    (its version is what ``${dataset}`` binds), ``{"time": ...}`` for a
    schedule; ``{}`` for a run started by hand.

    Raises:
        NotFound: no such policy, or no such dataset version.
        Conflict: the policy is paused, or has a run still open.
        InvalidInput: an event that is not a JSON mapping or holds a secret, or
            a dataset the spec binds that has no version.
    """
    given = {} if event is None else event
    if not isinstance(given, Mapping):
        raise InvalidInput(f"a trigger event must be a mapping, got {type(given).__name__}")
    store = backend(context).stores.policies
    policy = store.get_policy(name)
    if policy.paused:
        raise Conflict(f"policy {name!r} is paused; resume it (mloop policy resume {name})")
    running = [r for r in store.list_runs(name, limit=20) if r.status in OPEN]
    if running:
        raise Conflict(
            f"policy {name!r} has a run still open ({running[0].run_id}, {running[0].status}); "
            f"advance it (mloop policy advance {running[0].run_id}) before starting another"
        )
    at = now_millis()
    first = steps.trigger(policy, given, at, context)
    step_json(first.record)  # a bad event is refused before the run is stored
    run = store.start_run(name, given, now=at)
    return store.append_step(run.run_id, first.record)


def open_runs(*, context: Context | None = None) -> list[PolicyRun]:
    """Every run still running or waiting for approval, of every policy, oldest first."""
    store = backend(context).stores.policies
    found = [
        r
        for p in store.list_policies()
        for r in store.list_runs(p.name, limit=100)
        if r.status in OPEN
    ]
    return sorted(found, key=lambda r: (r.started_time, r.run_id))


def list_runs(name: str, *, limit: int = 20, context: Context | None = None) -> list[PolicyRun]:
    """The runs of policy ``name``, newest first."""
    return backend(context).stores.policies.list_runs(name, limit=limit)


def get_run(run_id: str, *, context: Context | None = None) -> PolicyRun:
    """The policy run with this id.

    Raises:
        NotFound: no such run.
    """
    return backend(context).stores.policies.get_run(run_id)


def advance(run_id: str, *, now: int | None = None, context: Context | None = None) -> PolicyRun:
    """Carry a run on from its last recorded step as far as it can go now.

    ``now`` (milliseconds) is the time the timeout is judged at (default: now).
    A finished run is returned as it is.

    Raises:
        NotFound: no such run.
        Conflict: another process is advancing the run.
    """
    be = backend(context)
    store = be.stores.policies
    run = store.get_run(run_id)
    if run.finished:
        return run
    job, holder = f"policy-run:{run_id}", f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    if not be.stores.leases.acquire(job, holder, LEASE_MILLIS):
        raise Conflict(
            f"policy run {run_id} is being advanced by {be.stores.leases.holder(job)}; "
            "wait for it to finish"
        )
    try:
        return _advance(store, store.get_run(run_id), now, context)
    finally:
        be.stores.leases.release(job, holder)


def _advance(
    store: PolicyStore, run: PolicyRun, now: int | None, context: Context | None
) -> PolicyRun:
    policy = store.get_policy(run.policy)
    while not run.finished:
        at = now_millis() if now is None else now
        done = {str(s.get("step")) for s in run.chain}
        if "canary" in done:
            return _watch(store, run, policy, at, context)
        name = next(n for n in _WORK if n not in done)
        try:
            outcome = _WORK[name](run, policy, at, context)
        except Exception as err:  # any failure of a step ends the run, recorded and told
            if not isinstance(err, MloopError):
                log.exception("policy run %s: step %s failed", run.run_id, name)
            # Masked: an error may quote a URL with its credentials, which a chain never keeps.
            error = mask_text(f"{name}: {type(err).__name__}: {err}")
            outcome = steps.Outcome({"step": name, "error": error, "time": at}, "failed", error)
        if outcome.status is None:
            run = store.append_step(run.run_id, outcome.record)
            if run.status == "waiting-approval":
                run = store.set_run_status(run.run_id, "running")
            continue
        if outcome.status == "waiting-approval" and run.status == "waiting-approval":
            return run  # still waiting: told once already
        return _stop(store, run, policy, outcome)
    return run


def _stop(store: PolicyStore, run: PolicyRun, policy: Policy, outcome: steps.Outcome) -> PolicyRun:
    status = outcome.status
    assert status is not None
    summary = {
        "waiting-approval": f"run {run.run_id} waits for approval: {outcome.error}",
        "failed": f"run {run.run_id} failed: {outcome.error}",
        "succeeded": f"run {run.run_id} promoted its model",
        "rolled-back": f"run {run.run_id} was rolled back: {outcome.error}",
    }.get(status, f"run {run.run_id} is {status}: {outcome.error}")
    notified = [
        mask_text(line)
        for line in send_notices(
            policy.spec.get("notify", []),
            notice(policy.name, run.run_id, status, summary, _labels(run, policy)),
        )
    ]
    record = {**outcome.record, "notified": notified} if notified else outcome.record
    error = None
    if outcome.error is not None and status in ("failed", "rolled-back", "cancelled"):
        error = mask_text(outcome.error)
    return store.set_run_status(run.run_id, status, error=error, step=record)


def _labels(run: PolicyRun, policy: Policy) -> dict[str, str]:
    labels = {"model": str(policy.spec["model"]), "deployment": policy.spec["deploy"]["deployment"]}
    for record in run.chain:
        if record.get("step") == "model-version" and record.get("ref"):
            labels["version"] = str(record["ref"])
    return labels


def _watch(
    store: PolicyStore, run: PolicyRun, policy: Policy, at: int, context: Context | None
) -> PolicyRun:
    deployed = steps.step_record(list(run.chain), "canary")
    seen = max(
        [int(deployed["revision"])]
        + [int(s["revision"]) for s in run.chain if s.get("step") == "deployment-change"]
    )
    for change in deployment_history(deployed["deployment"], context=context):
        if change.revision <= seen:
            continue
        after = dict(change.after or {})
        record: dict[str, Any] = {
            "step": "deployment-change",
            "revision": change.revision,
            "action": change.action,
            "actor": change.actor,
            "reason": change.reason,
            "canary": after.get("canary"),
            "percent": after.get("canary_percent"),
            "time": at,
        }
        ended = _decided(change.action, dict(change.before or {}), after, deployed["canary"])
        if ended is None:
            run = store.append_step(run.run_id, record)
            continue
        status, step_name, why = ended
        if change.alias_move:
            record["alias_move"] = dict(change.alias_move)
        record["step"] = step_name
        return _stop(store, run, policy, steps.Outcome(record, status, why))
    return _overdue(store, run, policy, deployed, at)


def _decided(
    action: str, before: Mapping[str, Any], after: Mapping[str, Any], ref: str
) -> tuple[str, str, str] | None:
    if action == "promote" and before.get("canary") == ref:
        return "succeeded", "promoted", ""
    if action in ("abort", "rollback"):
        return "rolled-back", "rolled-back", f"the deployment's {action} took {ref} out"
    if action == "delete":
        return "cancelled", "replaced", "the deployment was removed"
    if after.get("canary") != ref:
        return "cancelled", "replaced", f"the canary {ref} was replaced ({action})"
    return None


def _overdue(
    store: PolicyStore, run: PolicyRun, policy: Policy, deployed: Mapping[str, Any], at: int
) -> PolicyRun:
    timeout = int(parse_interval(policy.spec.get("timeout", "24h")).total_seconds() * 1000)
    if any(s.get("step") == "overdue" for s in run.chain) or at - int(deployed["time"]) < timeout:
        return run
    waited = (at - int(deployed["time"])) // 1000
    return store.append_step(
        run.run_id,
        {
            "step": "overdue",
            "waited_seconds": waited,
            "note": f"no decision on canary {deployed['canary']} after {policy.spec['timeout']}",
            "time": at,
        },
    )
