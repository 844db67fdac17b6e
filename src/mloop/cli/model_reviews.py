"""``mloop models protect|approve|reject|gate|card``: governance and evaluation commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mloop.cli.context import use_store
from mloop.cli.output import handle_errors, print_json, say, table, value_text
from mloop.errors import EXIT_CHECK_FAILED, InvalidInput

# The domain package (mloop.models) is imported inside each command, not here: it
# loads SQLAlchemy, fsspec and numpy, which `mloop models --help` need not.


def protect(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    alias: str = typer.Argument(..., help="The alias to protect, e.g. champion."),
    approvals: int = typer.Option(1, "--approvals", "-a", help="Approvals a version needs."),
    gate: list[str] | None = typer.Option(
        None, "--gate", "-g", help="A rule a passed gate must hold (repeatable)."
    ),
    remove: bool = typer.Option(False, "--remove", help="Lift the protection instead."),
    allow_canary: bool = typer.Option(
        False, "--allow-canary", help="Deployments may send a canary share to any version."
    ),
) -> None:
    """Protect ALIAS: versions need approvals and a passed gate before they may take it."""
    from mloop import models

    use_store(ctx)
    if remove:
        models.unprotect_alias(name, alias)
        say(f"{name}@{alias} is no longer protected")
        return
    found = models.protect_alias(
        name, alias, approvals=approvals, gates=gate or [], allow_canary=allow_canary
    )
    rules = f" and a passed gate with {list(found.gates)}" if found.gates else ""
    canaries = " (canaries of any version allowed)" if found.allow_canary else ""
    say(f"{name}@{alias} now needs {found.approvals} approval(s){rules}{canaries}")


_NAME = typer.Argument(..., help="The registered model.")
_VERSION = typer.Argument(..., help="The version.")
_COMMENT = typer.Option("", "--comment", "-m", help="Why.")


def approve(
    ctx: typer.Context, name: str = _NAME, version: int = _VERSION, comment: str = _COMMENT
) -> None:
    """Approve a version (as MLOOP_USER, or the OS user)."""
    from mloop import models

    use_store(ctx)
    decision = models.approve(name, version, comment=comment)
    say(f"{name}/{version} approved by {decision.actor}")


def reject(
    ctx: typer.Context, name: str = _NAME, version: int = _VERSION, comment: str = _COMMENT
) -> None:
    """Reject a version; while the rejection stands it takes no protected alias."""
    from mloop import models

    use_store(ctx)
    decision = models.reject(name, version, comment=comment)
    say(f"{name}/{version} rejected by {decision.actor}")


def gate(
    ctx: typer.Context,
    candidate: str = typer.Argument(..., help="The version to judge: NAME/3 or NAME@challenger."),
    against: str | None = typer.Option(None, "--against", help="Baseline, e.g. NAME@champion."),
    data: str = typer.Option(..., "--data", help="A dataset reference or a table file."),
    target: str = typer.Option(..., "--target", help="The label column."),
    rule: list[str] = typer.Option(..., "--rule", help="A rule (repeatable)."),
    task: str | None = typer.Option(None, "--task", help="classification or regression."),
    slices: list[str] | None = typer.Option(None, "--slice", help="A column to slice by."),
    sensitive: list[str] | None = typer.Option(None, "--sensitive", help="A fairness column."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Evaluate a version against a baseline on the same data; exit 1 if a rule fails (CI gate)."""
    from mloop import models

    use_store(ctx)
    result = models.gate(
        candidate,
        against=against,
        data=data,
        targets=target,
        rules=rule,
        task=task,
        slices=slices or [],
        sensitive=sensitive or [],
    )
    if as_json:
        print_json(
            {
                "candidate": result.candidate.ref,
                "baseline": result.baseline.ref if result.baseline else None,
                "passed": result.passed,
                "rules": result.rules,
                "data": result.data,
            }
        )
    else:
        baseline = result.baseline.ref if result.baseline else "none yet"
        table(
            f"Gate: {result.candidate.ref} against {baseline} on {result.data}",
            ["rule", "candidate", "threshold", "result", "note"],
            [
                [
                    r["rule"],
                    value_text(r["value"]),
                    value_text(r["threshold"]),
                    "pass" if r["passed"] else "FAIL",
                    r["note"] or "-",
                ]
                for r in result.rules
            ],
        )
        verdict = "PASSED" if result.passed else "FAILED"
        say(f"gate {verdict}", style="bold green" if result.passed else "bold red")
    if not result.passed:
        raise typer.Exit(EXIT_CHECK_FAILED)


def card(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME/VERSION or NAME@ALIAS."),
    as_json: bool = typer.Option(False, "--json", help="Print the card as JSON."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write it to a file instead."),
) -> None:
    """The model card: overview, data, parameters, evaluation, fairness, lineage, approvals."""
    from mloop import models

    use_store(ctx)
    found = models.model_card(ref)
    text = json.dumps(found, indent=2, default=str) if as_json else models.render_markdown(found)
    if out is None:
        typer.echo(text)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text + "\n")
        except OSError as err:
            raise InvalidInput(
                f"cannot write the model card to {str(out)!r}: {err.strerror}"
            ) from None
        say(f"model card of {found['model']['ref']} written to {out}")


def register_commands(app: typer.Typer) -> None:
    """Add these commands to the ``mloop models`` group."""
    for name, command in (
        ("protect", protect),
        ("approve", approve),
        ("reject", reject),
        ("gate", gate),
        ("card", card),
    ):
        app.command(name)(handle_errors(command))
