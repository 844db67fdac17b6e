"""The steps of a policy run, each reading the run so far and saying what it made.

A step returns an :class:`Outcome`: the record to append to the run's chain,
and, when the run cannot go on, the status it moves to (``failed``, or
``waiting-approval``) and why. :mod:`mloop.automation.policy_runs` carries
outcomes out; nothing here changes the run itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mloop.automation.policies import latest_dataset_version
from mloop.automation.policy_pipeline import registered_version, run_ids, run_policy_pipeline
from mloop.automation.policy_specs import bind_dataset
from mloop.context.context import Context
from mloop.data.refs import parse_ref
from mloop.entities import Policy, PolicyRun
from mloop.errors import InvalidInput, PipelineFailed
from mloop.models.backend import backend
from mloop.models.gates import gate
from mloop.models.governance import decisions, missing_requirements, protections, standing
from mloop.models.uris import parse_version_ref
from mloop.serving.deployments import get_deployment, set_canary_policy, update_deployment


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a step made (``record``) and, if the run stops here, its new status and why."""

    record: dict[str, Any]
    status: str | None = None
    error: str | None = None


def step_record(chain: list[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    """The last record of step ``name`` in a chain.

    Raises:
        InvalidInput: the chain has no such step (a run recorded out of order).

    Example:
        >>> step_record([{"step": "gate", "passed": True}], "gate")["passed"]
        True
    """
    for record in reversed(chain):
        if record.get("step") == name:
            found: Mapping[str, Any] = record
            return found
    raise InvalidInput(f"the run's chain has no {name!r} step; it was recorded out of order")


def trigger(policy: Policy, event: Mapping[str, Any], at: int, context: Context | None) -> Outcome:
    """Record the event, with the dataset version ``${dataset}`` binds (if the spec has one).

    Raises:
        InvalidInput: the spec names a dataset that has no version yet, or a bad reference.
        NotFound: the event names a dataset version that does not exist.
    """
    record: dict[str, Any] = {"on": policy.trigger["on"], **event, "step": "trigger", "time": at}
    if not event:
        record["manual"] = True
    name = policy.spec.get("dataset")
    if "dataset" in record:
        # A moving reference (credit@latest) is pinned: the chain says which version it was.
        stores = backend(context).stores
        found = stores.datasets.get_version(parse_ref(record["dataset"]), with_files=False)
        record["dataset"] = found.ref
    elif name is not None:
        latest = latest_dataset_version(name, context)
        if latest == 0:
            raise InvalidInput(
                f"policy {policy.name!r} binds dataset {name!r}, which has no version yet"
            )
        record["dataset"] = f"{name}@{latest}"
    return Outcome(record)


def pipeline_run(run: PolicyRun, policy: Policy, at: int) -> Outcome:
    """Run the pipeline with the dataset version bound into its params."""
    dataset = step_record(list(run.chain), "trigger").get("dataset")
    spec = bind_dataset(dict(policy.spec["pipeline"]), dataset)
    record: dict[str, Any] = {
        "step": "pipeline-run",
        "pipeline": f"{spec['file']}:{spec['pipeline']}",
        "params": spec.get("params", {}),
        "time": at,
    }
    try:
        result = run_policy_pipeline(spec)
    except PipelineFailed as err:
        record.update(run_id=err.run_id, status="FAILED")
        return Outcome(record, "failed", str(err))
    record.update(run_id=result.run_id, status=result.status, run_ids=run_ids(result.run_id))
    return Outcome(record)


def model_version(run: PolicyRun, policy: Policy, at: int, context: Context | None) -> Outcome:
    """Find the version of the policy's model that the pipeline run registered."""
    ran = step_record(list(run.chain), "pipeline-run")
    model = policy.spec["model"]
    found = registered_version(model, list(ran.get("run_ids", [ran["run_id"]])), context=context)
    if found is None:
        record = {"step": "model-version", "model": model, "version": None, "time": at}
        return Outcome(
            record,
            "failed",
            f"pipeline run {ran['run_id']} registered no version of model {model!r}: a step must "
            f"log the model with registered_model_name={model!r}",
        )
    return Outcome(
        {
            "step": "model-version",
            "model": model,
            "version": found.version,
            "ref": found.ref,
            "run_id": found.run_id,
            "time": at,
        }
    )


def champion_alias(policy: Policy, context: Context | None) -> tuple[str, str | None]:
    """The deployment's primary reference, and the alias of the policy's model it follows."""
    primary = get_deployment(policy.spec["deploy"]["deployment"], context=context).primary
    parsed = parse_version_ref(primary)
    alias = parsed.alias if parsed.name == policy.spec["model"] else None
    return primary, alias


def gate_step(run: PolicyRun, policy: Policy, at: int, context: Context | None) -> Outcome:
    """Gate the candidate against the champion on the gate's data, by its rules."""
    found = step_record(list(run.chain), "model-version")
    dataset = step_record(list(run.chain), "trigger").get("dataset")
    spec = policy.spec["gate"]
    against = spec.get("against")
    if against is None:
        against = champion_alias(policy, context)[0]
    elif "@" not in against and "/" not in against:
        against = f"{policy.spec['model']}@{against}"
    result = gate(
        found["ref"],
        data=bind_dataset(spec["data"], dataset),
        targets=spec["targets"],
        rules=spec["rules"],
        against=against,
        task=spec.get("task"),
        sensitive=spec.get("sensitive", ()),
        context=context,
    )
    record = {
        "step": "gate",
        "passed": result.passed,
        "candidate": found["ref"],
        "against": against,
        "baseline": result.baseline.ref if result.baseline else None,
        "data": result.data,
        "rules": result.rules,
        "time": at,
    }
    if result.passed:
        return Outcome(record)
    failed = [
        f"{r['rule']} ({r.get('note') or r.get('value')})" for r in result.rules if not r["passed"]
    ]
    return Outcome(record, "failed", "the gate failed: " + "; ".join(failed))


def approval(run: PolicyRun, policy: Policy, at: int, context: Context | None) -> Outcome:
    """Whether promoting the candidate to the champion alias may go on, must wait, or is refused."""
    found = step_record(list(run.chain), "model-version")
    model, version = found["model"], found["version"]
    _, alias = champion_alias(policy, context)
    record: dict[str, Any] = {"step": "approval", "alias": alias, "time": at}
    guard = [p for p in protections(model, context=context) if p.alias == alias]
    if alias is None or not guard:
        return Outcome({**record, "needed": False})
    current = standing(decisions(model, version, context=context))
    rejected = sorted(a for a, d in current.items() if d.decision == "rejected")
    approved = sorted(a for a, d in current.items() if d.decision == "approved")
    record.update(needed=True, approved_by=approved)
    if rejected:
        return Outcome(
            {**record, "rejected_by": rejected},
            "failed",
            f"{model}/{version} was rejected by {', '.join(rejected)}",
        )
    missing = missing_requirements(model, alias, version, context=context)
    if not missing:
        return Outcome(record)
    if guard[0].approvals > 0:
        wait = {"step": "waiting-approval", "alias": alias, "missing": missing, "time": at}
        return Outcome(wait, "waiting-approval", "; ".join(missing))
    return Outcome(
        {**record, "missing": missing},
        "failed",
        f"{model}/{version} may not become {model}@{alias}: it needs " + "; ".join(missing),
    )


def canary(run: PolicyRun, policy: Policy, at: int, context: Context | None) -> Outcome:
    """Deploy the candidate as the deployment's canary at the spec's share."""
    found = step_record(list(run.chain), "model-version")
    spec = policy.spec["deploy"]
    name, ref = spec["deployment"], found["ref"]
    record: dict[str, Any] = {"step": "canary", "deployment": name, "canary": ref, "time": at}
    current = get_deployment(name, context=context)
    if current.canary == ref:  # set by this run before it could record it
        return Outcome({**record, "percent": current.canary_percent, "revision": current.revision})
    if current.canary is not None:
        return Outcome(
            record,
            "failed",
            f"deployment {name!r} already has a canary ({current.canary}); promote it or "
            f"take it out (mloop deploy set {name} --no-canary), then run the policy again",
        )
    reason = f"policy {policy.name} run {run.run_id}"
    if "analysis" in spec:
        set_canary_policy(
            name, spec["analysis"], revision=current.revision, reason=reason, context=context
        )
    deployed = update_deployment(
        name, canary=ref, canary_percent=spec["canary_percent"], reason=reason, context=context
    )
    return Outcome(
        {
            **record,
            "percent": deployed.canary_percent,
            "revision": deployed.revision,
            "analysis": deployed.policy is not None,
        }
    )
