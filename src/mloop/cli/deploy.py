"""``mloop deploy``: deployments — what an endpoint serves, canaries, shadows, promotion, rollback.

Example:
    $ mloop deploy create credit-api --model credit@champion --canary credit@challenger:10
    $ mloop deploy promote credit-api --reason "challenger won the canary"
    $ mloop deploy rollback credit-api --reason "error rate went up"
"""

from __future__ import annotations

from typing import Any

import typer

from mloop.cli.context import creates_store, use_store
from mloop.cli.output import handle_errors, millis_text, print_json, say, table
from mloop.entities import Deployment, DeploymentChange

# The domain package (mloop.serving.deployments) is imported inside each command:
# it loads the registry (SQLAlchemy, fsspec, numpy), which `mloop deploy --help` need not.

app = typer.Typer(
    help="Deployments: what an endpoint serves, canaries, shadows, rollback.",
    no_args_is_help=True,
)

_NAME = typer.Argument(..., help="The deployment's name.")
_REASON = typer.Option("", "--reason", "-r", help="Why (kept in the history).")
_REVISION = typer.Option(
    None, "--revision", help="Change only if the deployment is still at this revision."
)
_CANARY_HELP = "MODEL_REF:PERCENT, e.g. credit@challenger:10 (the canary's share of traffic)."
_MODE_HELP = "canary (a share of traffic) or blue-green (all at once, on promote)."


def _split_canary(text: str | None) -> tuple[str | None, int | None]:
    from mloop.serving.deployment_checks import parse_canary

    if text is None:
        return None, None
    if ":" not in text.rpartition("@")[2].rpartition("/")[2]:
        return text, None  # a blue-green twin, or a canary whose share --percent gives
    return parse_canary(text)


def _canary_text(d: Deployment) -> str:
    if d.canary is None:
        return "-"
    return f"{d.canary} ({d.canary_percent}%)" if d.mode == "canary" else f"{d.canary} (idle)"


def _routing_rows(d: Deployment) -> list[list[Any]]:
    return [
        ["primary", d.primary],
        ["canary" if d.mode == "canary" else "idle twin", _canary_text(d)],
        ["shadow", d.shadow or "-"],
        ["sticky header", d.sticky_header or "-"],
        ["mode", d.mode],
        ["canary analysis", _policy_text(d.policy)],
    ]


def _policy_text(policy: Any) -> str:
    if not policy:
        return "-"
    steps = "/".join(f"{s}%" for s in policy["steps"])
    metric = f", {policy['metric']}" if policy.get("metric") else ""
    then = "promote" if policy.get("promote", True) else "hold"
    return f"steps {steps} then {then}; {policy['min_requests']} requests a step{metric}"


def _show(d: Deployment, as_json: bool) -> None:
    if as_json:
        print_json(d)
        return
    rows = [
        *_routing_rows(d),
        ["revision", d.revision],
        ["created", f"{millis_text(d.created_time)} by {d.created_by}"],
        ["updated", f"{millis_text(d.updated_time)} by {d.updated_by}"],
    ]
    table(f"Deployment {d.name}", ["field", "value"], rows)


def _said(d: Deployment, verb: str) -> None:
    parts = [f"primary {d.primary}"]
    if d.canary is not None:
        share = f" at {d.canary_percent}%" if d.mode == "canary" else " (idle twin)"
        parts.append(f"canary {d.canary}{share}")
    if d.shadow is not None:
        parts.append(f"shadow {d.shadow}")
    say(f"{verb} deployment {d.name} (revision {d.revision}): " + ", ".join(parts))


@app.command("create")
@handle_errors
@creates_store
def create(
    ctx: typer.Context,
    name: str = _NAME,
    model: str = typer.Option(..., "--model", "-m", help="The primary: NAME@ALIAS or NAME/N."),
    canary: str | None = typer.Option(None, "--canary", help=_CANARY_HELP),
    shadow: str | None = typer.Option(
        None, "--shadow", help="Gets a copy of every request; its answers are logged only."
    ),
    sticky: str | None = typer.Option(
        None, "--sticky-header", help="A header whose value keeps a caller on one version."
    ),
    mode: str = typer.Option("canary", "--mode", help=_MODE_HELP),
    reason: str = _REASON,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a deployment serving a model version, with an optional canary and shadow."""
    from mloop import serving

    use_store(ctx)
    canary_ref, percent = _split_canary(canary)
    made = serving.create_deployment(
        name,
        model,
        canary=canary_ref,
        canary_percent=percent or 0,
        shadow=shadow,
        sticky_header=sticky,
        mode=mode,
        reason=reason,
    )
    if as_json:
        print_json(made)
    else:
        _said(made, "created")


@app.command("ls")
@handle_errors
def list_deployments(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List deployments by name."""
    from mloop import serving

    use_store(ctx)
    found = serving.list_deployments()
    if as_json:
        print_json(found)
        return
    table(
        "Deployments",
        ["name", "primary", "canary", "shadow", "mode", "revision", "updated"],
        [
            [
                d.name,
                d.primary,
                _canary_text(d),
                d.shadow or "-",
                d.mode,
                d.revision,
                f"{millis_text(d.updated_time)} by {d.updated_by}",
            ]
            for d in found
        ],
    )


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    name: str = _NAME,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show what a deployment serves and how traffic splits."""
    from mloop import serving

    use_store(ctx)
    _show(serving.get_deployment(name), as_json)


@app.command("set")
@handle_errors
def set_(
    ctx: typer.Context,
    name: str = _NAME,
    model: str | None = typer.Option(None, "--model", "-m", help="A new primary."),
    canary: str | None = typer.Option(None, "--canary", help=_CANARY_HELP),
    percent: int | None = typer.Option(None, "--percent", help="The canary's new share."),
    no_canary: bool = typer.Option(False, "--no-canary", help="Remove the canary."),
    shadow: str | None = typer.Option(None, "--shadow", help="A new shadow."),
    no_shadow: bool = typer.Option(False, "--no-shadow", help="Remove the shadow."),
    sticky: str | None = typer.Option(None, "--sticky-header", help="A new sticky header."),
    no_sticky: bool = typer.Option(False, "--no-sticky-header", help="Route without one."),
    mode: str | None = typer.Option(None, "--mode", help=_MODE_HELP),
    revision: int | None = _REVISION,
    reason: str = _REASON,
) -> None:
    """Change what a deployment serves; what is not given stays as it is."""
    from mloop import serving

    use_store(ctx)
    for flag, given, removed in (
        ("canary", canary, no_canary),
        ("shadow", shadow, no_shadow),
        ("sticky-header", sticky, no_sticky),
    ):
        if given is not None and removed:
            raise typer.BadParameter(f"give --{flag} or --no-{flag}, not both")
    canary_ref, share = _split_canary(canary)
    if share is not None and percent is not None:
        raise typer.BadParameter("give the share in --canary REF:PERCENT or --percent, not both")
    changed = serving.update_deployment(
        name,
        model=model,
        canary="" if no_canary else canary_ref,
        canary_percent=share if share is not None else percent,
        shadow="" if no_shadow else shadow,
        sticky_header="" if no_sticky else sticky,
        mode=mode,
        revision=revision,
        reason=reason,
    )
    _said(changed, "changed")


@app.command("promote")
@handle_errors
def promote(
    ctx: typer.Context, name: str = _NAME, revision: int | None = _REVISION, reason: str = _REASON
) -> None:
    """Make the canary the primary (moving the primary's alias, held to its protection)."""
    from mloop import serving

    use_store(ctx)
    _said(serving.promote(name, revision=revision, reason=reason), "promoted")


@app.command("rollback")
@handle_errors
def rollback(ctx: typer.Context, name: str = _NAME, reason: str = _REASON) -> None:
    """Put back the routing the deployment had before its latest change."""
    from mloop import serving

    use_store(ctx)
    _said(serving.rollback(name, reason=reason), "rolled back")


def _routing_text(routing: Any) -> str:
    if routing is None:
        return "-"
    text = str(routing["primary"])
    if routing.get("canary"):
        share = f" {routing['canary_percent']}%" if routing.get("mode") == "canary" else " idle"
        text += f" + {routing['canary']}{share}"
    if routing.get("shadow"):
        text += f" (shadow {routing['shadow']})"
    if routing.get("policy"):
        text += " [analysis " + "/".join(f"{s}%" for s in routing["policy"]["steps"]) + "]"
    return text


def _moved(change: DeploymentChange) -> str:
    move = change.alias_move
    if not move:
        return ""
    return f"; {move['model']}@{move['alias']}: {move['from']} -> {move['to']}"


@app.command("history")
@handle_errors
def history(
    ctx: typer.Context,
    name: str = _NAME,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every change of a deployment: who, when, from what, to what, why."""
    from mloop import serving

    use_store(ctx)
    changes = serving.deployment_history(name)
    if as_json:
        print_json(changes)
        return
    table(
        f"History of deployment {name}",
        ["revision", "when", "action", "from", "to", "who", "reason"],
        [
            [
                c.revision,
                millis_text(c.time),
                c.action,
                _routing_text(c.before),
                _routing_text(c.after) + _moved(c),
                c.actor,
                c.reason or "-",
            ]
            for c in changes
        ],
    )


@app.command("rm")
@handle_errors
def remove(
    ctx: typer.Context, name: str = _NAME, revision: int | None = _REVISION, reason: str = _REASON
) -> None:
    """Remove a deployment (its history stays)."""
    from mloop import serving

    use_store(ctx)
    change = serving.delete_deployment(name, revision=revision, reason=reason)
    say(f"removed deployment {change.name} (its history stays: mloop deploy history {name})")


@app.command("policy")
@handle_errors
def policy(
    ctx: typer.Context,
    name: str = _NAME,
    steps: str = typer.Option(
        "10,25,50", "--steps", help="The canary's shares, rising, e.g. 10,25,50 (percent)."
    ),
    min_requests: int = typer.Option(
        100, "--min-requests", help="Canary requests a step needs before it is judged.", min=1
    ),
    min_seconds: float = typer.Option(
        30.0, "--min-seconds", help="Seconds a step lasts at least.", min=0.0
    ),
    max_error_rate: float = typer.Option(
        0.01,
        "--max-error-rate-increase",
        help="How much more often the canary may fail than the primary (0.01: one point).",
    ),
    max_latency_ratio: float = typer.Option(
        1.5, "--max-latency-ratio", help="The canary's p99 over the primary's, at most."
    ),
    max_shift: float = typer.Option(
        0.1, "--max-shift", help="Distance of the two versions' prediction distributions (0-1)."
    ),
    metric: str | None = typer.Option(
        None,
        "--metric",
        help="accuracy, mae or rmse on POST /feedback labels; none: not judged on labels.",
    ),
    min_labels: int = typer.Option(
        50, "--min-labels", help="Labelled requests of each version the metric needs.", min=1
    ),
    max_regression: float = typer.Option(
        0.02, "--max-metric-regression", help="How much worse the metric may be (0.02: 2%)."
    ),
    hold: bool = typer.Option(
        False, "--hold", help="After the last step, hold for a person instead of promoting."
    ),
    interval: float = typer.Option(
        10.0, "--interval", help="Seconds between analyses in a server.", min=0.05
    ),
    off: bool = typer.Option(False, "--off", help="Remove the policy."),
    revision: int | None = _REVISION,
    reason: str = _REASON,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Set how a server judges the canary on live traffic: steps up, promotes, or takes it out."""
    from mloop import serving
    from mloop.errors import InvalidInput

    use_store(ctx)
    chosen = None
    if not off:
        try:
            shares = tuple(int(part) for part in steps.split(","))
        except ValueError:
            raise InvalidInput(
                f"--steps {steps!r}: write rising whole percentages, e.g. 10,25,50"
            ) from None
        chosen = _policy_of(
            steps=shares,
            min_requests=min_requests,
            min_seconds=min_seconds,
            max_error_rate_increase=max_error_rate,
            max_latency_ratio=max_latency_ratio,
            max_shift=max_shift,
            metric=None if metric in (None, "none") else metric,
            min_labels=min_labels,
            max_metric_regression=max_regression,
            promote=not hold,
            interval_seconds=interval,
        )
    changed = serving.set_canary_policy(name, chosen, revision=revision, reason=reason)
    if as_json:
        print_json(changed)
    elif chosen is None:
        say(f"deployment {name}: no canary analysis (revision {changed.revision})")
    else:
        say(
            f"deployment {name} (revision {changed.revision}): canary analysis "
            f"{_policy_text(changed.policy)}; servers of it judge every {interval:g} s"
        )


# The policy's settings as the command's options name them, for its error messages.
_FLAGS = {
    "min_requests": "--min-requests",
    "min_seconds": "--min-seconds",
    "max_error_rate_increase": "--max-error-rate-increase",
    "max_latency_ratio": "--max-latency-ratio",
    "max_shift": "--max-shift",
    "metric": "--metric",
    "min_labels": "--min-labels",
    "max_metric_regression": "--max-metric-regression",
    "interval_seconds": "--interval",
    "steps": "--steps",
}


def _policy_of(**settings: Any) -> Any:
    """The policy the options give; an error names the option, not the setting."""
    from mloop.errors import InvalidInput
    from mloop.serving.canary_policy import CanaryPolicy

    try:
        return CanaryPolicy(**settings)
    except InvalidInput as err:
        text = str(err)
        for name, flag in _FLAGS.items():
            if text.startswith(f"{name} "):
                text = flag + text[len(name) :]
        raise InvalidInput(text) from None


@app.command("analyze")
@handle_errors
def analyze(
    ctx: typer.Context,
    name: str = _NAME,
    apply: bool = typer.Option(
        False, "--apply", help="Act on the verdict (step, promote or abort), as a server does."
    ),
    log_uri: str | None = typer.Option(
        None, "--prediction-log-uri", help="Where the servers write the prediction log."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Judge a deployment's canary on its logged traffic now: what the analysis sees and decides."""
    from mloop import serving

    use_store(ctx)
    verdict = serving.analyze_canary(name, apply=apply, log_uri=log_uri)
    evidence = verdict.evidence()
    if as_json:
        print_json(evidence)
        return
    rows = []
    for side in ("primary", "canary"):
        seen = evidence[side]
        if seen is not None:
            rows.append(
                [
                    side,
                    f"{seen['model']}/{seen['version']}",
                    seen["requests"],
                    f"{seen['error_rate']:.2%}",
                    "-" if seen["p99_ms"] is None else f"{seen['p99_ms']:.1f}",
                    "-" if seen["metric"] is None else f"{seen['metric']:.4g}",
                ]
            )
    if rows:
        table(
            f"Canary of {name} at {verdict.percent}%, last {verdict.seconds:.0f} s",
            ["", "version", "requests", "errors", "p99 ms", "metric"],
            rows,
        )
    for check in verdict.checks:
        say(f"  {'pass' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    done = "" if apply else " (not applied: --apply acts on it)"
    step = f" to {verdict.to_percent}%" if verdict.decision == "step" else ""
    say(f"{verdict.decision}{step}: {verdict.reason}{done}")
