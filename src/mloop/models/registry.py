"""The registry's face: models, versions, aliases with history, rollback, archive and delete.

Every alias move goes through :func:`set_alias` (the CLI's too), which holds
it to the alias's protection (:mod:`mloop.models.governance`) before the
store records it, so no route skips the rules. The store moves the alias
only if it still points where the rules saw it (compare-and-set); a move that
lost that race raises Conflict.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = tempfile.mkdtemp() + "/m"
    >>> _ = mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    >>> v1 = mloop.models.register(path, "line")
    >>> v2 = mloop.models.register(path, "line")
    >>> _ = mloop.models.set_alias("line", "champion", 1)
    >>> _ = mloop.models.set_alias("line", "champion", 2, reason="retrained")
    >>> mloop.models.rollback("line", "champion").to_version
    1
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from mloop.context.context import Context
from mloop.entities import AliasChange, ModelVersion, ModelVersionStatus, RegisteredModel
from mloop.errors import Conflict, InvalidInput, NotFound
from mloop.models.backend import ModelBackend, backend
from mloop.models.fetch import resolve_version
from mloop.models.governance import check_promotion
from mloop.models.uris import check_alias, check_model_name, parse_version_ref


def get_model(name: str, *, context: Context | None = None) -> RegisteredModel:
    """A registered model with its tags, aliases, latest version number and latest version."""
    be = backend(context)
    return with_latest(be, be.stores.models.get_model(check_model_name(name)))


def list_models(*, context: Context | None = None) -> list[RegisteredModel]:
    """Every registered model, by name."""
    return backend(context).stores.models.list_models()


def with_latest(be: ModelBackend, model: RegisteredModel) -> RegisteredModel:
    """The model with ``latest_versions`` filled: its latest version in a list, or empty."""
    if model.latest_version is None:
        return model
    try:
        latest = be.stores.models.get_version(model.name, model.latest_version)
    except NotFound:  # deleted since the model was read
        return model
    return dataclasses.replace(model, latest_versions=[latest])


def update_model(
    name: str,
    *,
    description: str | None = None,
    intended_use: str | None = None,
    limitations: str | None = None,
    tags: Mapping[str, str | None] | None = None,
    context: Context | None = None,
) -> RegisteredModel:
    """Describe a model: its description, the model card's intended use and limitations, tags.

    A tag set to None is removed. Intended use and limitations are stored as
    the tags ``mloop.card.intended_use`` and ``mloop.card.limitations``.
    """
    changes: dict[str, str | None] = dict(tags or {})
    for key in changes:
        if not isinstance(key, str) or not key or len(key) > 250:
            raise InvalidInput(f"tag keys are 1 to 250 characters, got {key!r}")
    if intended_use is not None:
        changes["mloop.card.intended_use"] = intended_use
    if limitations is not None:
        changes["mloop.card.limitations"] = limitations
    return backend(context).stores.models.update_model(
        check_model_name(name), description=description, tags=changes
    )


def get_version(
    ref: str, version: int | None = None, *, context: Context | None = None
) -> ModelVersion:
    """A version by ``"NAME/3"``, ``"NAME@alias"``, ``"NAME"`` (latest), or ``(NAME, 3)``."""
    parsed = parse_version_ref(f"{ref}/{version}" if version is not None else ref)
    return resolve_version(backend(context), parsed)


def list_versions(name: str, *, context: Context | None = None) -> list[ModelVersion]:
    """Every version of a model, oldest first."""
    return backend(context).stores.models.list_versions(check_model_name(name))


def set_alias(
    name: str, alias: str, version: int, *, reason: str = "", context: Context | None = None
) -> AliasChange:
    """Point ``alias`` at ``version`` (creating or moving it), recording who, when and why.

    Raises:
        PermissionDenied: the alias is protected and the version lacks a passed
            gate or approvals; the message says which.
        Conflict: the version is archived, or another move changed the alias
            while this one was checked (read it again and retry).
        NotFound: no such model or version.
    """
    return _move(name, alias, version, reason=reason, action="set", context=context)


def _move(
    name: str,
    alias: str,
    version: int,
    *,
    reason: str,
    action: str,
    context: Context | None,
    seen: int | None = None,
) -> AliasChange:
    check_model_name(name)
    check_alias(alias)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidInput(f"a version number is an int from 1, got {version!r}")
    be = backend(context)
    target = be.stores.models.get_version(name, version)
    actor = be.actor
    if alias in target.aliases:  # already there: nothing moves, nothing is recorded
        return AliasChange(name, alias, "unchanged", version, version, actor, reason, 0)
    _check_target(target.status, target.ref, alias)
    # The rules are checked against the version the alias points at now (or where the
    # caller saw it: a rollback computed from the history); the store then moves it
    # only if it still points there (another move in between: Conflict).
    before = seen if seen is not None else _current(be, name, alias)
    check_promotion(
        name, alias, version, baseline=before, rollback=action == "rollback", context=context
    )
    return be.stores.aliases.set_alias(
        name, alias, version, expected=before, actor=actor, reason=reason, action=action
    )


def _check_target(status: ModelVersionStatus, ref: str, alias: str) -> None:
    if status != ModelVersionStatus.READY:
        raise Conflict(f"{ref} is archived; restore it before it takes alias {alias!r}")


def _current(be: ModelBackend, name: str, alias: str) -> int | None:
    try:
        return be.stores.aliases.get_alias(name, alias).version
    except NotFound:
        return None


def delete_alias(
    name: str, alias: str, *, reason: str = "", context: Context | None = None
) -> AliasChange:
    """Remove an alias (recorded in its history); NotFound if it is not set.

    Raises:
        NotFound: no such model, or the alias is not set.
        Conflict: another move changed the alias meanwhile; nothing was removed.
    """
    check_model_name(name)
    check_alias(alias)
    actor = backend(context).actor
    be = backend(context)
    current = _current(be, name, alias)
    if current is None:
        be.stores.models.get_model(name)  # an unknown model says so
        raise NotFound(f"model {name!r} has no alias {alias!r}")
    return be.stores.aliases.delete_alias(name, alias, expected=current, actor=actor, reason=reason)


def alias_history(
    name: str, alias: str | None = None, *, context: Context | None = None
) -> list[AliasChange]:
    """Every move of an alias (or of all the model's aliases), oldest first."""
    if alias is not None:
        check_alias(alias)
    return backend(context).stores.aliases.alias_history(check_model_name(name), alias)


def rollback_target(history: list[AliasChange]) -> int | None:
    """The version an alias goes back to: the one before its current one, undoing rollbacks.

    Moves form a stack: a ``set`` pushes, a ``rollback`` pops, a ``delete``
    empties it; the target is the entry below the top.

    Example:
        >>> moves = [AliasChange("m", "a", a, f, t, "x", "", 0)
        ...          for a, f, t in [("set", None, 1), ("set", 1, 2), ("set", 2, 3)]]
        >>> rollback_target(moves)
        2
    """
    stack: list[int] = []
    for change in history:
        if change.action == "delete":
            stack.clear()
        elif change.action == "rollback":
            if stack:
                stack.pop()
            if change.to_version is not None and (not stack or stack[-1] != change.to_version):
                stack.append(change.to_version)
        elif change.to_version is not None:
            stack.append(change.to_version)
    return stack[-2] if len(stack) >= 2 else None


def rollback(
    name: str, alias: str, *, reason: str = "", context: Context | None = None
) -> AliasChange:
    """Move ``alias`` back to the version it pointed at before its current one.

    Rolling back twice goes back two versions (each rollback undoes one move).
    The target must still meet the alias's protection, except that the gate
    it passed to take the alias before counts again.

    Raises:
        Conflict: the alias has no earlier version to go back to.
    """
    history = alias_history(name, alias, context=context)
    target = rollback_target(history)
    seen = history[-1].to_version if history else None
    if target is None:
        raise Conflict(f"alias {alias!r} of model {name!r} has no earlier version to roll back to")
    return _move(
        name,
        alias,
        target,
        reason=reason or "rollback",
        action="rollback",
        context=context,
        seen=seen,
    )


def archive(name: str, version: int, *, context: Context | None = None) -> ModelVersion:
    """Archive a version: it stays loadable but may not take aliases.

    Raises:
        Conflict: an alias points at it; move the alias first.
    """
    _without_aliases(name, version, "archiving", context)
    return backend(context).stores.models.set_status(name, version, ModelVersionStatus.ARCHIVED)


def restore(name: str, version: int, *, context: Context | None = None) -> ModelVersion:
    """Bring an archived version back to READY."""
    return backend(context).stores.models.set_status(
        check_model_name(name), version, ModelVersionStatus.READY
    )


def delete_version(name: str, version: int, *, context: Context | None = None) -> ModelVersion:
    """Delete a version (its number is never reused; `mloop gc` reclaims its files).

    Raises:
        Conflict: an alias points at it, or a deployment names it; move or change them first.
    """
    _without_aliases(name, version, "deleting", context)
    _undeployed(name, f"{name}/{version}", context)
    return backend(context).stores.models.delete_version(name, version)


def _without_aliases(name: str, version: int, doing: str, context: Context | None) -> None:
    found = backend(context).stores.models.get_version(check_model_name(name), version)
    if found.aliases:
        raise Conflict(
            f"{found.ref} holds alias(es) {list(found.aliases)}; move them before {doing} it"
        )


def _undeployed(name: str, ref: str | None, context: Context | None) -> None:
    """Refuse to delete what a deployment serves: ``ref`` (NAME/N), or with None any of ``name``.

    A server of the deployment would go on with the copy it holds, and the next
    one to start would refuse the whole deployment.
    """
    users = [
        f"{d.name} ({role} {given})"
        for d in backend(context).stores.deployments.list_deployments()
        for role, given in (("primary", d.primary), ("canary", d.canary), ("shadow", d.shadow))
        if given is not None
        and (given == ref if ref is not None else given.split("@")[0].split("/")[0] == name)
    ]
    if users:
        what = ref or f"model {name!r}"
        raise Conflict(
            f"{what} is served by deployment(s) {', '.join(users)}; change or remove them "
            "first (mloop deploy set / mloop deploy rm)"
        )


def delete_model(name: str, *, context: Context | None = None) -> None:
    """Delete a model and all its versions.

    Raises:
        Conflict: the model still has aliases, or a deployment serves it.
    """
    model = get_model(name, context=context)
    if model.aliases:
        raise Conflict(
            f"model {name!r} still has alias(es) {sorted(model.aliases)}; delete them first "
            "(mloop.models.delete_alias)"
        )
    _undeployed(name, None, context)
    backend(context).stores.models.delete_model(name)
