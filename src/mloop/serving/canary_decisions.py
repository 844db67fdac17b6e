"""Running a deployment's canary analysis and acting on its verdict, with the evidence recorded.

:func:`analyze_canary` reads the prediction log since the deployment's latest
change, judges the canary (:func:`mloop.serving.canary_analysis.judge`) and,
with ``apply``, carries the verdict out as a change of the deployment made
from the revision it read: ``step`` raises the canary's share, ``promote``
promotes it (moving the primary's alias, held to its protection), ``abort``
takes it out. Each keeps the verdict's evidence in the deployment's history.
Servers of the deployment run it every ``policy.interval_seconds``; two that
decide at once cannot both change it (the second gets Conflict and reads
again next time).

Example:
    >>> import mloop.serving
    >>> mloop.serving.analyze_canary("credit-api", apply=False).decision  # doctest: +SKIP
    'wait'
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from typing import TYPE_CHECKING

from mloop.errors import Conflict, PermissionDenied
from mloop.models.backend import backend
from mloop.models.fetch import resolve_version
from mloop.models.uris import parse_version_ref
from mloop.serving.canary_analysis import Verdict, judge
from mloop.serving.canary_policy import CanaryPolicy
from mloop.serving.deployment_checks import check_routing
from mloop.serving.deployments import get_deployment, promote

if TYPE_CHECKING:
    from mloop.context import Context
    from mloop.entities import Deployment

log = logging.getLogger("mloop.serving")

ACTOR = "canary-analysis"


def analyze_canary(
    name: str,
    *,
    apply: bool = True,
    log_uri: str | None = None,
    now: float | None = None,
    context: Context | None = None,
) -> Verdict:
    """Judge the canary of deployment ``name`` on its logged traffic; act on it with ``apply``.

    Args:
        name: the deployment.
        apply: carry the verdict out (``step``, ``promote``, ``abort``); else only report it.
        log_uri: where the servers write the prediction log, if not the artifact store.
        now: the time to judge at (default: now).
        context: the stores, project and actor.

    Returns:
        The verdict; after ``apply``, ``decision`` says what was done (``hold`` when
        a promotion was refused by the alias's protection). After a person rolls the
        deployment back, the analysis holds until the deployment changes again: it
        does not undo a person's rollback.

    Raises:
        NotFound: no such deployment.
        Conflict: the deployment has no canary analysis policy, or no canary to judge.
    """
    deployment = get_deployment(name, context=context)
    if deployment.policy is None:
        raise Conflict(
            f"deployment {name!r} has no canary analysis policy; give it one with "
            f"`mloop deploy policy {name} --steps 10,25,50`"
        )
    if deployment.canary is None or deployment.mode != "canary":
        raise Conflict(f"deployment {name!r} has no canary to judge")
    latest = backend(context).stores.deployments.deployment_history(name)[-1]
    if latest.action == "rollback":
        return Verdict(
            "hold",
            f"{latest.actor} rolled the deployment back (revision {latest.revision}): the "
            "analysis holds until the deployment is changed again (mloop deploy set, or "
            "mloop deploy policy to resume)",
            deployment.canary_percent,
        )
    verdict = judge_now(deployment, log_uri=log_uri, now=now, context=context)
    if apply:
        verdict = carry_out(deployment, verdict, context=context)
    return verdict


def judge_now(
    deployment: Deployment,
    *,
    log_uri: str | None = None,
    now: float | None = None,
    context: Context | None = None,
) -> Verdict:
    """The verdict on ``deployment``'s canary from its predictions since its latest change."""
    from mloop.serving.log_reading import predictions

    assert deployment.policy is not None
    assert deployment.canary is not None
    policy = CanaryPolicy.from_mapping(deployment.policy)
    be = backend(context)
    primary = resolve_version(be, parse_version_ref(deployment.primary))
    canary = resolve_version(be, parse_version_ref(deployment.canary))
    since = deployment.updated_time / 1000
    moved = _canary_moved_at(deployment.canary, context)
    if moved is not None and moved > since:
        # Another version behind the canary's alias: judged from when it came, from the start.
        first = policy.steps[0]
        if deployment.canary_percent > first:
            return Verdict(
                "step",
                f"the canary {deployment.canary} moved to version {canary.version} since the "
                f"deployment's latest change: its share starts again at {first}%",
                deployment.canary_percent,
                first,
            )
        since = moved
    frame = predictions(
        deployment.name,
        since=datetime.datetime.fromtimestamp(since, datetime.UTC),
        with_feedback=policy.metric is not None,
        versions=sorted({str(primary.version), str(canary.version)}),
        context=context,
        uri=log_uri,
    )
    return judge(
        policy,
        deployment.canary_percent,
        frame,
        (primary.name, str(primary.version)),
        (canary.name, str(canary.version)),
        since=since,
        now=time.time() if now is None else now,
    )


def _canary_moved_at(ref: str, context: Context | None) -> float | None:
    """When the alias a canary follows last moved (epoch seconds); None for a pinned version."""
    from mloop.models.registry import alias_history

    parsed = parse_version_ref(ref)
    if parsed.alias is None:
        return None
    history = alias_history(parsed.name, parsed.alias, context=context)
    return history[-1].time / 1000 if history else None


def carry_out(
    deployment: Deployment, verdict: Verdict, *, context: Context | None = None
) -> Verdict:
    """Make ``verdict``'s change to ``deployment`` from the revision it was judged at.

    Raises:
        Conflict: the deployment changed since it was read (someone decided first).
    """
    if verdict.decision not in ("step", "promote", "abort"):
        return verdict
    # Every change the analysis makes (the alias it moves too) is recorded as its own.
    acting = backend(context).context.acting_as(f"{backend(context).actor} ({ACTOR})")
    be = backend(acting)
    reason = f"canary analysis: {verdict.reason}"
    evidence = verdict.evidence()
    if verdict.decision == "promote":
        try:
            promote(
                deployment.name,
                revision=deployment.revision,
                reason=reason,
                evidence=evidence,
                context=acting,
            )
        except PermissionDenied as err:
            return dataclasses.replace(
                verdict, decision="hold", reason=f"{verdict.reason}; promotion refused: {err}"
            )
        log.info("deployment %s: canary promoted (%s)", deployment.name, verdict.reason)
        return verdict
    if verdict.decision == "step":
        wanted = dataclasses.replace(deployment, canary_percent=verdict.to_percent or 0)
    else:
        wanted = dataclasses.replace(deployment, canary=None, canary_percent=0)
    check_routing(be, wanted, frozenset({"canary_percent"}))
    be.stores.deployments.update_deployment(
        wanted,
        expected_revision=deployment.revision,
        actor=be.actor,
        reason=reason,
        action=verdict.decision,
        evidence=evidence,
    )
    log.info(
        "deployment %s: canary analysis: %s (%s)",
        deployment.name,
        verdict.decision if verdict.decision == "abort" else f"step to {verdict.to_percent}%",
        verdict.reason,
    )
    return verdict
