"""Deployments: what a named endpoint serves, and every change of it, for rollback.

A deployment names a primary model version (``credit@champion`` follows the
alias; ``credit/3`` pins a number), optionally a canary with a share of
traffic (or, in ``blue-green`` mode, an idle twin that takes everything at
once when promoted), a shadow that gets copies of requests whose answers are
logged and never returned, and a header whose value keeps one caller on one
version. Every change records who made it, when, why, and the routing before
and after; a change applies only to the revision its caller read (Conflict
otherwise). A deployment serving a protected alias is held to the alias's
governance: see :mod:`mloop.serving.deployment_checks`.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = tempfile.mkdtemp() + "/m"
    >>> _ = mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    >>> _ = [mloop.models.register(path, "scorer") for _ in range(2)]
    >>> _ = mloop.models.set_alias("scorer", "champion", 1)
    >>> d = create_deployment("scorer-api", "scorer@champion", canary="scorer/2", canary_percent=10)
    >>> promote("scorer-api").primary, mloop.models.get_version("scorer@champion").version
    ('scorer@champion', 2)
    >>> rollback("scorer-api").canary, mloop.models.get_version("scorer@champion").version
    ('scorer/2', 1)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mloop.context.context import Context
from mloop.entities import Deployment, DeploymentChange
from mloop.errors import Conflict, InvalidInput, PermissionDenied
from mloop.models.backend import ModelBackend, backend
from mloop.models.fetch import resolve_version
from mloop.models.registry import alias_history, rollback_target, set_alias
from mloop.models.registry import rollback as rollback_alias
from mloop.models.uris import parse_version_ref
from mloop.serving.canary_policy import CanaryPolicy
from mloop.serving.deployment_checks import (
    check_deployment_name,
    check_mode,
    check_percent,
    check_routing,
    check_sticky_header,
    model_ref,
)


def create_deployment(
    name: str,
    model: str,
    *,
    canary: str | None = None,
    canary_percent: int = 0,
    shadow: str | None = None,
    sticky_header: str | None = None,
    mode: str = "canary",
    policy: CanaryPolicy | Mapping[str, Any] | None = None,
    reason: str = "",
    context: Context | None = None,
) -> Deployment:
    """Create a deployment serving ``model``, optionally with a canary and a shadow.

    Args:
        name: the endpoint's name, unique in the project.
        model: the primary version, ``NAME@ALIAS`` or ``NAME/VERSION``.
        canary: a second version; in ``canary`` mode it takes ``canary_percent``
            percent of traffic, in ``blue-green`` mode none until promoted.
        canary_percent: the canary's share, a whole number from 0 to 100.
        shadow: a version that gets a copy of every request; its answers are
            logged, never returned.
        sticky_header: a request header (e.g. ``x-customer-id``) whose value
            keeps a caller on one version.
        mode: ``canary`` or ``blue-green``.
        policy: a canary analysis (:class:`~mloop.serving.canary_policy.CanaryPolicy`)
            that a server of this deployment runs on live traffic.
        reason: why (kept in the history).
        context: the stores, project and actor (default: the fluent API's).

    Raises:
        InvalidInput: a malformed name, reference, percentage or header; a
            canary or shadow that serves what the primary serves.
        NotFound: a model, alias or version that does not exist.
        PermissionDenied: a canary the primary's protected alias does not admit.
        AlreadyExists: the project has a deployment of that name.

    Example:
        >>> create_deployment("scorer-shadow", "scorer/1", shadow="scorer/2").shadow
        'scorer/2'
    """
    deployment = _checked(
        Deployment(
            name=check_deployment_name(name),
            primary=model_ref(model, "primary"),
            canary=_optional_ref(canary, "canary"),
            canary_percent=check_percent(canary_percent),
            shadow=_optional_ref(shadow, "shadow"),
            sticky_header=None if sticky_header is None else check_sticky_header(sticky_header),
            mode=check_mode(mode),
            policy=policy_values(policy),
        ),
        context,
    )
    be = backend(context)
    return be.stores.deployments.create_deployment(deployment, actor=be.actor, reason=reason)


def get_deployment(name: str, *, context: Context | None = None) -> Deployment:
    """The deployment called ``name``; NotFound otherwise.

    Example:
        >>> get_deployment("scorer-shadow").primary
        'scorer/1'
    """
    return backend(context).stores.deployments.get_deployment(check_deployment_name(name))


def list_deployments(*, context: Context | None = None) -> list[Deployment]:
    """Every deployment of the project, by name.

    Example:
        >>> [d.name for d in list_deployments()]
        ['scorer-api', 'scorer-shadow']
    """
    return backend(context).stores.deployments.list_deployments()


def update_deployment(
    name: str,
    *,
    model: str | None = None,
    canary: str | None = None,
    canary_percent: int | None = None,
    shadow: str | None = None,
    sticky_header: str | None = None,
    mode: str | None = None,
    revision: int | None = None,
    reason: str = "",
    context: Context | None = None,
) -> Deployment:
    """Change what a deployment serves; what is not given stays as it is.

    An empty string removes the canary (and its share), the shadow or the
    sticky header. With ``revision`` the change applies only if the deployment
    is still at that revision; either way it applies only to the revision read.

    Raises:
        Conflict: the deployment changed since ``revision`` (or since it was read).
        InvalidInput, NotFound, PermissionDenied: as :func:`create_deployment`.

    Example:
        >>> update_deployment("scorer-shadow", shadow="", reason="enough data").shadow is None
        True
    """
    be = backend(context)
    current = _read(be, name, revision)
    changes: dict[str, Any] = {}
    if model is not None:
        changes["primary"] = model_ref(model, "primary")
    if canary is not None:
        changes["canary"] = _optional_ref(canary or None, "canary")
        if not canary and canary_percent is None:
            changes["canary_percent"] = 0
    if canary_percent is not None:
        changes["canary_percent"] = check_percent(canary_percent)
    if shadow is not None:
        changes["shadow"] = _optional_ref(shadow or None, "shadow")
    if sticky_header is not None:
        changes["sticky_header"] = check_sticky_header(sticky_header) if sticky_header else None
    if mode is not None:
        changes["mode"] = check_mode(mode)
    if not changes:
        raise InvalidInput(f"nothing to change in deployment {name!r}: say what should change")
    wanted = dataclasses.replace(current, **changes)
    check_routing(be, wanted, frozenset(changes))
    return be.stores.deployments.update_deployment(
        wanted, expected_revision=current.revision, actor=be.actor, reason=reason
    )


def set_canary_policy(
    name: str,
    policy: CanaryPolicy | Mapping[str, Any] | None,
    *,
    revision: int | None = None,
    reason: str = "",
    context: Context | None = None,
) -> Deployment:
    """Give a deployment a canary analysis policy (None removes it); a recorded change.

    A server of the deployment then judges its canary on live traffic every
    ``policy.interval_seconds``, and steps it up, promotes it or takes it out
    (:func:`mloop.serving.canary_decisions.analyze_canary`).

    Raises:
        InvalidInput: a bad policy, or a blue-green deployment (its twin takes no share).
        Conflict: the deployment changed since ``revision``.

    Example:
        >>> set_canary_policy("scorer-shadow", CanaryPolicy(steps=(20, 50))).policy["steps"]
        [20, 50]
    """
    be = backend(context)
    current = _read(be, name, revision)
    wanted = dataclasses.replace(current, policy=policy_values(policy))
    check_routing(be, wanted, frozenset({"policy"}))
    return be.stores.deployments.update_deployment(
        wanted, expected_revision=current.revision, actor=be.actor, reason=reason
    )


def policy_values(policy: CanaryPolicy | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A policy as the deployment stores it (checked), or None.

    Raises:
        InvalidInput: an unknown setting or a bad value.
    """
    if policy is None:
        return None
    if isinstance(policy, Mapping):
        policy = CanaryPolicy.from_mapping(policy)
    if not isinstance(policy, CanaryPolicy):
        raise InvalidInput(f"a canary policy is a CanaryPolicy or a mapping, got {policy!r}")
    return policy.to_mapping()


def promote(
    name: str,
    *,
    revision: int | None = None,
    reason: str = "",
    evidence: Mapping[str, Any] | None = None,
    context: Context | None = None,
) -> Deployment:
    """Make the canary (or the blue-green twin) the primary, all at once.

    If the primary follows an alias and the canary is a version of the same
    model, promoting moves the alias to the canary's version through
    :func:`mloop.models.set_alias`, held to the alias's protection; otherwise
    the canary's reference becomes the primary (refused when the primary
    follows a protected alias: the deployment would stop following it
    without the alias's checks). In ``canary`` mode the canary
    is then cleared; in ``blue-green`` mode the old primary becomes the idle
    twin, ready to switch back.

    ``evidence`` is what a canary analysis measured, kept with the change.

    Raises:
        Conflict: there is no canary, or the deployment changed since ``revision``.
        PermissionDenied: the canary may not take the primary's protected alias,
            or is a version of another model than the protected alias's.

    Example:
        >>> promote("scorer-api", reason="canary looked good").canary is None
        True
    """
    be = backend(context)
    current = _read(be, name, revision)
    if current.canary is None:
        raise Conflict(f"deployment {name!r} has no canary to promote; set one first")
    primary, canary = parse_version_ref(current.primary), parse_version_ref(current.canary)
    twin: str | None = None
    move: dict[str, Any] | None = None
    if primary.alias is not None and canary.name == primary.name:
        before = _version_of(be, current.primary)
        target = _version_of(be, current.canary)
        set_alias(primary.name, primary.alias, target, reason=reason, context=context)
        if before != target:  # moved by this promotion, or by one made at the same moment
            move = {"model": primary.name, "alias": primary.alias, "from": before, "to": target}
        promoted = dataclasses.replace(current, canary=None, canary_percent=0)
        twin = f"{primary.name}/{before}"
    else:
        if primary.alias is not None and _protected(be, primary.name, primary.alias):
            raise PermissionDenied(
                f"the primary follows protected alias {current.primary}; promoting "
                f"{current.canary}, of another model, would leave it without the alias's "
                f"checks. Change the primary yourself (mloop deploy set {name} --model "
                f"{current.canary}) if that is meant"
            )
        promoted = dataclasses.replace(
            current, primary=current.canary, canary=None, canary_percent=0
        )
        twin = current.primary
    if current.mode == "blue-green":
        promoted = dataclasses.replace(promoted, canary=twin)
    if promoted.shadow is not None and _same_version(be, promoted.shadow, current.canary):
        # The shadow would copy every request to the version now answering them: dropped.
        promoted = dataclasses.replace(promoted, shadow=None)
        reason = f"{reason} (the shadow {current.shadow} serves the promoted version: removed)"
        reason = reason.strip()
    try:
        return be.stores.deployments.update_deployment(
            promoted,
            expected_revision=current.revision,
            actor=be.actor,
            reason=reason,
            action="promote",
            alias_move=move,
            evidence=evidence,
        )
    except Conflict as err:
        if move is None:
            raise
        raise Conflict(
            f"{move['model']}@{move['alias']} moved from version {move['from']} to "
            f"{move['to']}, but deployment {name!r} changed meanwhile and was not updated "
            f"({err}). Check it with `mloop deploy show {name}`; move the alias back with "
            f"`mloop models rollback {move['model']} {move['alias']}` if that was not meant"
        ) from err


def rollback(name: str, *, reason: str = "", context: Context | None = None) -> Deployment:
    """Put back the routing the deployment had before its latest change.

    Rolling back twice goes back two changes. A rollback of a promotion that
    moved an alias moves the alias back too (as :func:`mloop.models.rollback`),
    provided nothing else moved it since.

    Raises:
        Conflict: there is no earlier routing, or the alias moved since the promotion.

    Example:
        >>> rollback("scorer-api").canary
        'scorer/2'
    """
    be = backend(context)
    current = get_deployment(name, context=context)
    target, undo = rollback_plan(be.stores.deployments.deployment_history(current.name))
    if target is None:
        raise Conflict(f"deployment {name!r} has no earlier routing to roll back to")
    wanted = dataclasses.replace(current, **target)
    back = None
    if undo is not None:
        back = _undo_alias_move(undo, reason, context)
    else:
        _checked(wanted, context)
    return be.stores.deployments.update_deployment(
        wanted,
        expected_revision=current.revision,
        actor=be.actor,
        reason=reason or "rollback",
        action="rollback",
        alias_move=back,
    )


def rollback_plan(
    history: list[DeploymentChange],
) -> tuple[dict[str, Any] | None, Mapping[str, Any] | None]:
    """The routing a rollback goes back to, and the alias move it must undo (if any).

    Changes form a stack: a create starts it, a set or promote pushes, a
    rollback pops, a delete empties it; the target is the entry below the top.

    Example:
        >>> made = [DeploymentChange("d", n, "set", None, {"primary": f"m/{n}"}, "a", "", 0)
        ...         for n in (1, 2, 3)]
        >>> rollback_plan(made)[0]
        {'primary': 'm/2'}
    """
    stack: list[tuple[dict[str, Any], Mapping[str, Any] | None]] = []
    for change in history:
        if change.action in ("create", "delete"):
            stack.clear()
        if change.after is None:
            continue
        if change.action == "rollback":
            if stack:
                stack.pop()
            if not stack or stack[-1][0] != dict(change.after):
                stack.append((dict(change.after), None))
        else:
            stack.append((dict(change.after), change.alias_move))
    if len(stack) < 2:
        return None, None
    return stack[-2][0], stack[-1][1]


def _undo_alias_move(
    move: Mapping[str, Any], reason: str, context: Context | None
) -> dict[str, Any]:
    model, alias = str(move["model"]), str(move["alias"])
    history = alias_history(model, alias, context=context)
    now = history[-1].to_version if history else None
    if now != move["to"] or rollback_target(history) != move["from"]:
        raise Conflict(
            f"{model}@{alias} moved since the promotion (it points at {now}, the promotion "
            f"moved it from {move['from']} to {move['to']}): move it back yourself "
            f"(mloop models alias), then roll the deployment back"
        )
    rollback_alias(model, alias, reason=reason or "deployment rollback", context=context)
    return {"model": model, "alias": alias, "from": move["to"], "to": move["from"]}


def deployment_history(name: str, *, context: Context | None = None) -> list[DeploymentChange]:
    """Every change of a deployment, oldest first (also after it was deleted).

    Example:
        >>> [c.action for c in deployment_history("scorer-old")]
        ['create', 'delete']
    """
    return backend(context).stores.deployments.deployment_history(check_deployment_name(name))


def delete_deployment(
    name: str, *, revision: int | None = None, reason: str = "", context: Context | None = None
) -> DeploymentChange:
    """Remove a deployment (its history stays).

    Raises:
        Conflict: the deployment changed since ``revision`` (or since it was read),
            or monitors watch it or policies deploy to it (remove those first).

    Example:
        >>> _ = create_deployment("scorer-old", "scorer/1")
        >>> delete_deployment("scorer-old", reason="experiment over").action
        'delete'
    """
    be = backend(context)
    current = _read(be, name, revision)
    _unwatched(be, current.name)
    return be.stores.deployments.delete_deployment(
        current.name, expected_revision=current.revision, actor=be.actor, reason=reason
    )


def _unwatched(be: ModelBackend, name: str) -> None:
    """Refuse to remove a deployment that monitors watch or policies deploy to."""
    monitors = [
        m.name for m in be.stores.monitors.list_monitors() if m.target == f"deployment:{name}"
    ]
    policies = [
        p.name
        for p in be.stores.policies.list_policies()
        if (p.spec.get("deploy") or {}).get("deployment") == name
    ]
    if monitors or policies:
        users = [f"monitor {m} (mloop monitor rm {m})" for m in monitors] + [
            f"policy {p} (mloop policy rm {p})" for p in policies
        ]
        raise Conflict(
            f"deployment {name} is in use by {', '.join(users)}: remove them first, "
            "or they would go on watching (or deploying to) a deployment that is gone"
        )


def _protected(be: ModelBackend, model: str, alias: str) -> bool:
    return any(p.alias == alias for p in be.stores.governance.list_protections(model))


def _version_of(be: ModelBackend, ref: str) -> int:
    return resolve_version(be, parse_version_ref(ref)).version


def _same_version(be: ModelBackend, a: str, b: str) -> bool:
    return (
        resolve_version(be, parse_version_ref(a)).ref
        == resolve_version(be, parse_version_ref(b)).ref
    )


def _optional_ref(ref: str | None, role: str) -> str | None:
    return None if ref is None else model_ref(ref, role)


def _checked(deployment: Deployment, context: Context | None) -> Deployment:
    check_routing(backend(context), deployment)
    return deployment


def _read(be: ModelBackend, name: str, revision: int | None) -> Deployment:
    current = be.stores.deployments.get_deployment(check_deployment_name(name))
    if revision is not None and revision != current.revision:
        raise Conflict(
            f"deployment {name!r} is at revision {current.revision}, not {revision}: it changed "
            "since you read it; nothing was changed. Read it again and retry"
        )
    return current
