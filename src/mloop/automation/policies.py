"""Policies: continuous-training rules stored by name, and which of them fire now.

A policy says: on a trigger (a monitor's alert, a new version of a dataset,
a cron schedule), run a pipeline, gate the model version it registers
against the champion, and deploy it as the canary of a deployment (see
:mod:`mloop.automation.policy_specs` for the spec and
:mod:`mloop.automation.policy_runs` for what a run does). Alerts are matched
with :func:`policies_for_alert`; schedules and new dataset versions are
found with :func:`due_policies`, which remembers in the policy's state what
it has seen (the next cron time, the last dataset version), so each fires
once.

Example:
    >>> import mloop, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "train.py").write_text("")
    >>> policy = create_policy({"name": "weekly", "trigger": {"on": "schedule",
    ...     "cron": "0 3 * * 1"}, "pipeline": {"file": str(folder / "train.py"),
    ...     "pipeline": "train"}, "model": "credit", "gate": {"rules": ["accuracy >= 0.8"],
    ...     "data": "credit@holdout", "targets": "label"}, "deploy": {"deployment": "api"}})
    >>> [p.name for p in list_policies()], pause_policy("weekly").paused
    (['weekly'], True)
    >>> delete_policy("weekly")
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from croniter import croniter

from mloop.automation.policy_specs import load_spec
from mloop.context.context import Context
from mloop.entities import POLICY_RUN_FINISHED, Policy
from mloop.errors import InvalidInput, NotFound
from mloop.models.backend import backend
from mloop.store.database import now_millis


@dataclasses.dataclass(frozen=True)
class Firing:
    """A policy that fires now, and the trigger event to start its run with."""

    policy: Policy
    event: dict[str, Any]


def create_policy(
    spec: Mapping[str, Any] | str | os.PathLike[str], *, context: Context | None = None
) -> Policy:
    """Check a spec (a mapping or a YAML file) whole, then store the policy.

    A schedule's first time and a dataset's latest version are noted in the
    policy's state, so the policy fires at the next cron time or on the next
    new version, not for what is there already.

    Raises:
        InvalidInput: a bad spec (nothing is stored).
        AlreadyExists: a policy of that name exists.
    """
    checked = load_spec(spec)
    policy = Policy(checked.name, checked.trigger, checked.spec)
    stores = backend(context).stores
    created = stores.policies.create_policy(policy)
    return stores.policies.set_policy_state(created.name, _first_state(created, context))


def get_policy(name: str, *, context: Context | None = None) -> Policy:
    """The policy called ``name``.

    Raises:
        NotFound: no such policy.
    """
    return backend(context).stores.policies.get_policy(name)


def list_policies(*, context: Context | None = None) -> list[Policy]:
    """Every policy of the project, by name."""
    return backend(context).stores.policies.list_policies()


def pause_policy(name: str, *, context: Context | None = None) -> Policy:
    """Stop a policy from firing (its open runs may still be advanced)."""
    return _paused(name, True, context)


def resume_policy(name: str, *, context: Context | None = None) -> Policy:
    """Let a paused policy fire again; a schedule restarts from now."""
    resumed = _paused(name, False, context)
    if resumed.trigger["on"] != "schedule":
        return resumed
    state = {**resumed.state, **_schedule_state(resumed, now_millis())}
    return backend(context).stores.policies.set_policy_state(name, state)


def delete_policy(name: str, *, context: Context | None = None) -> None:
    """Remove a policy and its runs' records (what they deployed stays deployed).

    Raises:
        NotFound: no such policy.
    """
    backend(context).stores.policies.delete_policy(name)


def policies_for_alert(
    monitor: str, rule: str | None = None, *, context: Context | None = None
) -> list[Policy]:
    """The unpaused policies an alert of ``monitor`` (fired by ``rule``) triggers.

    A policy naming no rule takes every alert of its monitor.

    Example:
        >>> policies_for_alert("credit-drift", "drift")
        []
    """
    return [
        p
        for p in list_policies(context=context)
        if not p.paused
        and p.trigger["on"] == "alert"
        and p.trigger.get("monitor") == monitor
        and p.trigger.get("rule") in (None, rule)
    ]


def due_policies(now: int | None = None, *, context: Context | None = None) -> list[Firing]:
    """The unpaused schedule and dataset policies that fire at ``now`` (ms), with their events.

    A schedule fires once its noted next time has come; a dataset policy
    when the dataset has a version newer than the last one it saw. Each
    policy returned has its state moved on (the next cron time after
    ``now``, the version seen), so a second call does not return it again.
    A policy with a run still open is left for later (its state unmoved), so
    what it would fire for is not lost while it cannot start another run.

    Example:
        >>> due_policies(0)
        []
    """
    at = now_millis() if now is None else now
    stores = backend(context).stores
    fired = []
    for policy in list_policies(context=context):
        if policy.paused or _has_open_run(policy.name, context):
            continue
        found = _due(policy, at, context)
        if found is not None:
            event, state = found
            moved = stores.policies.set_policy_state(policy.name, {**policy.state, **state})
            fired.append(Firing(moved, event))
    return fired


def latest_dataset_version(name: str, context: Context | None) -> int:
    """The newest version number of dataset ``name`` (0 when it has none yet)."""
    try:
        found = backend(context).stores.datasets.list_versions(name)
    except NotFound:
        return 0
    return max((v.version for v in found), default=0)


def _has_open_run(name: str, context: Context | None) -> bool:
    latest = backend(context).stores.policies.list_runs(name, limit=1)
    return bool(latest) and latest[0].status not in POLICY_RUN_FINISHED


def _due(
    policy: Policy, at: int, context: Context | None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    on = policy.trigger["on"]
    if on == "schedule":
        due = policy.state.get("next_time")
        if not isinstance(due, int) or at < due:
            return None
        event = {"on": "schedule", "cron": policy.trigger["cron"], "time": due}
        return event, _schedule_state(policy, at)
    if on == "dataset":
        name = policy.trigger["name"]
        latest = latest_dataset_version(name, context)
        if latest <= int(policy.state.get("last_version", 0)):
            return None
        return {"on": "dataset", "dataset": f"{name}@{latest}"}, {"last_version": latest}
    return None


def _first_state(policy: Policy, context: Context | None) -> dict[str, Any]:
    on = policy.trigger["on"]
    if on == "schedule":
        return _schedule_state(policy, policy.created_time)
    if on == "dataset":
        return {"last_version": latest_dataset_version(policy.trigger["name"], context)}
    return {}


def _schedule_state(policy: Policy, after: int) -> dict[str, Any]:
    start = datetime.fromtimestamp(after / 1000, UTC)
    following = croniter(policy.trigger["cron"], start).get_next(datetime)
    return {"next_time": int(following.timestamp() * 1000)}


def _paused(name: str, paused: bool, context: Context | None) -> Policy:
    stores = backend(context).stores
    policy = stores.policies.get_policy(name)
    if not isinstance(paused, bool):
        raise InvalidInput(f"paused must be True or False, got {paused!r}")
    return stores.policies.update_policy(dataclasses.replace(policy, paused=paused))
