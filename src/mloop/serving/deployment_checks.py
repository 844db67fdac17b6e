"""What a deployment may name: checked before anything is written.

A model reference names one version, by alias (``credit@champion``, which the
deployment follows as the alias moves) or by number (``credit/3``); the model
and the alias or version must exist. A canary of a version that may not take
the primary's protected alias yet is refused, unless the protection allows
canaries (``mloop models protect NAME ALIAS --allow-canary``).

Example:
    >>> parse_canary("credit@challenger:10")
    ('credit@challenger', 10)
    >>> check_sticky_header("X-Customer-Id")
    'x-customer-id'
"""

from __future__ import annotations

import re

from mloop.entities import DEPLOYMENT_MODES, Deployment, ModelVersion
from mloop.errors import InvalidInput, PermissionDenied
from mloop.models.backend import ModelBackend
from mloop.models.fetch import resolve_version
from mloop.models.governance import missing_requirements
from mloop.models.uris import ModelUri, parse_version_ref
from mloop.store.names import check_endpoint_name

# An HTTP header name is a token (RFC 9110, section 5.6.2).
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")


def check_deployment_name(name: object) -> str:
    """A deployment name: up to 128 letters, digits, ``_ - .``, starting with a letter or digit."""
    return check_endpoint_name(name, "deployment")


def model_ref(ref: object, role: str) -> str:
    """``NAME@ALIAS`` or ``NAME/VERSION`` as a deployment stores it (no ``models:/``).

    Example:
        >>> model_ref("models:/credit/3", "primary")
        'credit/3'
    """
    parsed = parse_version_ref(ref)
    if parsed.alias is not None:
        return f"{parsed.name}@{parsed.alias}"
    if parsed.version is not None:
        return f"{parsed.name}/{parsed.version}"
    raise InvalidInput(
        f"the {role} {ref!r} names no version: name one by alias or number, "
        f"e.g. {parsed.name}@champion or {parsed.name}/3"
    )


def parse_canary(text: str) -> tuple[str, int]:
    """``MODEL_REF:PERCENT`` (``credit@challenger:10``) as a reference and a percentage."""
    ref, sep, percent = text.rpartition(":")
    if not sep or not ref or not percent.strip().isdigit():
        raise InvalidInput(
            f"--canary {text!r}: write MODEL_REF:PERCENT, e.g. credit@challenger:10 "
            "(a whole percentage from 0 to 100)"
        )
    return ref, check_percent(int(percent))


def check_percent(percent: object) -> int:
    """A canary's share of traffic: a whole number from 0 to 100."""
    if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
        raise InvalidInput(
            f"a canary's traffic share is a whole percentage from 0 to 100, got {percent!r}"
        )
    return percent


def check_sticky_header(header: object) -> str:
    """An HTTP header name (lower-cased) whose value keeps a caller on one version."""
    if not isinstance(header, str) or not _HEADER.match(header):
        raise InvalidInput(
            f"invalid sticky header {header!r}: an HTTP header name such as x-customer-id"
        )
    return header.lower()


def check_mode(mode: object) -> str:
    """``canary`` (a share of traffic) or ``blue-green`` (all at once, on promotion)."""
    if mode not in DEPLOYMENT_MODES:
        raise InvalidInput(f"deployment mode is one of {list(DEPLOYMENT_MODES)}, got {mode!r}")
    return str(mode)


def check_routing(
    be: ModelBackend, deployment: Deployment, changed: frozenset[str] | None = None
) -> None:
    """Refuse a routing that names a missing version, repeats one, or skips governance.

    With ``changed`` (the fields a change sets), a canary or shadow that is
    not changed, beside a primary that is not either, is not checked again:
    an alias that moved since may make it serve the primary's version, which
    routes the same traffic twice but must not block an unrelated change.

    Raises:
        InvalidInput: a share without a canary, a blue-green twin with a share,
            a canary or shadow that serves what the primary serves.
        NotFound: a model, alias or version that does not exist.
        PermissionDenied: a canary the primary's protected alias does not admit.
    """
    d = deployment
    if d.canary is None and d.canary_percent:
        raise InvalidInput(f"a canary share of {d.canary_percent}% needs a canary to send it to")
    if d.mode == "blue-green" and d.canary_percent:
        raise InvalidInput(
            "in blue-green mode the second version takes no share: it takes all traffic "
            "at once when promoted; drop the percentage"
        )
    if d.mode == "blue-green" and d.policy is not None:
        raise InvalidInput(
            "a canary analysis steps a canary's share up; in blue-green mode the twin takes "
            "no share: remove the policy, or use canary mode"
        )
    primary = _resolve(be, d.primary, "primary")
    for role, ref in (("canary", d.canary), ("shadow", d.shadow)):
        if ref is None:
            continue
        found = _resolve(be, ref, role)  # it must still exist, changed or not
        if changed is not None and not changed & {role, "primary", "mode"}:
            continue
        if ref == d.primary or found.ref == primary.ref:
            raise InvalidInput(
                f"the {role} {ref!r} serves {found.ref}, as the primary {d.primary!r} does: "
                f"name another version"
            )
        if role == "canary":
            check_canary_governance(be, d.primary, ref, found)


def _resolve(be: ModelBackend, ref: str, role: str) -> ModelVersion:
    return resolve_version(be, parse_version_ref(model_ref(ref, role)))


def check_canary_governance(
    be: ModelBackend, primary: str, canary: str, version: ModelVersion
) -> None:
    """Refuse a canary that the primary's protected alias does not admit.

    Raises:
        PermissionDenied: the primary follows a protected alias that does not
            allow canaries, and the canary lacks what the alias requires (or is
            a version of another model).
    """
    parsed: ModelUri = parse_version_ref(primary)
    if parsed.alias is None:
        return
    found = [
        p for p in be.stores.governance.list_protections(parsed.name) if p.alias == parsed.alias
    ]
    if not found or found[0].allow_canary:
        return
    if version.name != parsed.name:
        raise PermissionDenied(
            f"the primary follows protected alias {primary}; a canary must be a version of "
            f"{parsed.name!r}, not {version.ref}"
        )
    missing = missing_requirements(parsed.name, parsed.alias, version.version, context=be.context)
    if missing:
        raise PermissionDenied(
            f"canary {canary} ({version.ref}) may not serve traffic of protected alias "
            f"{primary}: it still needs " + "; ".join(missing) + ". Meet them, or let the "
            f"alias take canaries: mloop models protect {parsed.name} {parsed.alias} "
            "--allow-canary"
        )
