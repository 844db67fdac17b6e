"""Protected aliases, approvals and the check every alias move passes.

A protected alias (say ``champion``) may point only at a version that (a)
passed a gate holding every rule the protection names, against the version
the alias points at now when a rule compares with the baseline, and (b) has
``approvals`` distinct approvals standing, at least one from someone other
than the version's author, and no standing rejection. A person's latest
decision is the one that stands. A rollback returns the alias to a version
that held it before: the gate that let it in then still counts, whichever
version it was measured against. The acting identity is ``MLOOP_USER`` if
set, else the operating system's user.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = tempfile.mkdtemp() + "/m"
    >>> _ = mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    >>> _ = mloop.models.register(path, "guarded")
    >>> _ = mloop.models.protect_alias("guarded", "champion", approvals=1)
    >>> missing_requirements("guarded", "champion", 1)
    ['1 approval(s) (has 0)']
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mloop.context.context import Context
from mloop.entities import AliasProtection, Decision, GateRecord, ModelVersion
from mloop.errors import InvalidInput, NotFound, PermissionDenied
from mloop.models.backend import ModelBackend, backend
from mloop.models.rules import parse_rule
from mloop.models.uris import check_alias, check_model_name


def _now() -> int:
    return time.time_ns() // 1_000_000


def protect_alias(
    name: str,
    alias: str,
    *,
    approvals: int = 1,
    gates: Sequence[str] = (),
    allow_canary: bool = False,
    context: Context | None = None,
) -> AliasProtection:
    """Protect ``alias``: versions need ``approvals`` approvals and a passed gate with ``gates``.

    Replaces an existing protection of the alias. Rules are checked now. With
    ``allow_canary``, a deployment serving the alias may send a canary share to
    a version that does not meet the requirements yet (promoting it still needs them).

    Raises:
        InvalidInput: a negative number of approvals, a malformed rule.
        NotFound: no such model.
    """
    check_model_name(name)
    check_alias(alias)
    if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 0:
        raise InvalidInput(f"approvals must be a whole number >= 0, got {approvals!r}")
    if isinstance(gates, str):
        gates = [gates]
    rules = tuple(dict.fromkeys(parse_rule(g).text for g in gates))
    if approvals == 0 and not rules:
        raise InvalidInput("a protection needs approvals >= 1 or at least one gate rule")
    be = backend(context)
    be.stores.models.get_model(name)
    if not isinstance(allow_canary, bool):
        raise InvalidInput(f"allow_canary must be True or False, got {allow_canary!r}")
    protection = AliasProtection(
        name, alias, approvals, rules, be.actor, _now(), allow_canary=allow_canary
    )
    be.stores.governance.set_protection(protection)
    return protection


def unprotect_alias(name: str, alias: str, *, context: Context | None = None) -> None:
    """Lift an alias's protection; NotFound if it has none."""
    backend(context).stores.governance.remove_protection(check_model_name(name), check_alias(alias))


def protections(name: str, *, context: Context | None = None) -> list[AliasProtection]:
    """A model's protected aliases."""
    return backend(context).stores.governance.list_protections(check_model_name(name))


def _decide(
    name: str, version: int, decision: str, comment: str, context: Context | None
) -> Decision:
    if not isinstance(comment, str):
        raise InvalidInput(f"comment must be a string, got {type(comment).__name__}")
    be = backend(context)
    be.stores.models.get_version(check_model_name(name), version)
    record = Decision(name, version, be.actor, decision, comment, _now())
    be.stores.governance.record_decision(record)
    return record


def approve(
    name: str, version: int, *, comment: str = "", context: Context | None = None
) -> Decision:
    """Approve a version as the context's actor (``MLOOP_USER`` or the OS user by default).

    It replaces the actor's earlier decision.

    Example:
        >>> import mloop
        >>> mloop.models.approve("guarded", 1, comment="reviewed the card").decision
        'approved'
    """
    return _decide(name, version, "approved", comment, context)


def reject(
    name: str, version: int, *, comment: str = "", context: Context | None = None
) -> Decision:
    """Reject a version; while your rejection stands it may not take a protected alias."""
    return _decide(name, version, "rejected", comment, context)


def decisions(name: str, version: int, *, context: Context | None = None) -> list[Decision]:
    """Every approval and rejection of a version, oldest first."""
    return backend(context).stores.governance.list_decisions(check_model_name(name), version)


def gate_results(name: str, version: int, *, context: Context | None = None) -> list[GateRecord]:
    """A version's gate results, newest first."""
    return backend(context).stores.governance.list_gates(check_model_name(name), version)


def standing(records: Sequence[Decision]) -> dict[str, Decision]:
    """Each person's latest decision."""
    latest: dict[str, Decision] = {}
    for record in records:
        latest[record.actor] = record
    return latest


def _approval_gaps(version: ModelVersion, needed: int, records: Sequence[Decision]) -> list[str]:
    current = standing(records)
    rejected = [d for d in current.values() if d.decision == "rejected"]
    approvers = sorted(a for a, d in current.items() if d.decision == "approved")
    missing = [
        f"no standing rejection (rejected by {d.actor}" + (f": {d.comment})" if d.comment else ")")
        for d in rejected
    ]
    if len(approvers) < needed:
        missing.append(f"{needed} approval(s) (has {len(approvers)})")
    elif needed and all(a == version.created_by for a in approvers):
        missing.append(
            f"an approval by someone other than the version's author {version.created_by!r}"
        )
    return missing


def _gate_gaps(
    rules: Sequence[str], gates: Sequence[GateRecord], baseline: int | None, *, fresh: bool
) -> list[str]:
    if not rules:
        return []
    needs_baseline = fresh and any(parse_rule(r).uses_baseline for r in rules)
    for gate in gates:
        held = {r["rule"] for r in gate.rules}
        if not gate.passed or not set(rules) <= held:
            continue
        if needs_baseline and gate.details.get("against_version") != baseline:
            continue
        return []
    against = f" against version {baseline}" if needs_baseline and baseline is not None else ""
    return [f"a passed gate{against} with rule(s) {list(rules)}"]


def missing_requirements(
    name: str, alias: str, version: int, *, rollback: bool = False, context: Context | None = None
) -> list[str]:
    """What ``version`` still lacks to take ``alias`` ([] when nothing, or when unprotected).

    With ``rollback``, a passed gate counts whichever baseline it was measured against.
    """
    be = backend(context)
    try:
        baseline: int | None = be.stores.aliases.get_alias(name, alias).version
    except NotFound:
        baseline = None
    return _gaps(be, name, alias, version, baseline, rollback=rollback)


def _gaps(
    be: ModelBackend,
    name: str,
    alias: str,
    version: int,
    baseline: int | None,
    *,
    rollback: bool,
) -> list[str]:
    found = [p for p in be.stores.governance.list_protections(name) if p.alias == alias]
    if not found:
        return []
    protection = found[0]
    target = be.stores.models.get_version(name, version)
    missing = _approval_gaps(
        target, protection.approvals, be.stores.governance.list_decisions(name, version)
    )
    missing += _gate_gaps(
        protection.gates,
        be.stores.governance.list_gates(name, version),
        baseline,
        fresh=not rollback,
    )
    return missing


def check_promotion(
    name: str,
    alias: str,
    version: int,
    *,
    baseline: int | None,
    rollback: bool = False,
    context: Context | None = None,
) -> None:
    """Refuse to point a protected alias at a version that lacks what the protection requires.

    Args:
        name: the model.
        alias: the alias to move.
        version: the version it would point at.
        baseline: the version the alias points at as the caller read it (None:
            unset); gate rules that compare with the baseline are checked against
            it, and the caller then moves the alias only if it still points there.
        rollback: a passed gate counts whichever baseline it was measured against.
        context: the stores and project (default: the fluent API's).

    Raises:
        PermissionDenied: naming every requirement that is missing.

    Example:
        >>> check_promotion("guarded", "challenger", 1, baseline=None)  # not protected
    """
    missing = _gaps(backend(context), name, alias, version, baseline, rollback=rollback)
    if missing:
        raise PermissionDenied(
            f"{name}/{version} may not become {name}@{alias}: it still needs " + "; ".join(missing)
        )
