"""``mloop models``: the registry — list, show, register, aliases with history, archive, delete.

``mloop models build`` packages a version for Docker, Kubernetes or KServe.

Reviews (protect, approve, reject, gate, card) live in :mod:`mloop.cli.model_reviews`
and join this group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mloop.cli import model_reviews
from mloop.cli.context import creates_store, use_store
from mloop.cli.output import (
    console,
    handle_errors,
    millis_text,
    print_error,
    print_json,
    say,
    table,
)
from mloop.entities import AliasChange, ModelVersion
from mloop.errors import EXIT_INTERRUPTED

# The domain package (mloop.models) is imported inside each command, not here: it
# loads SQLAlchemy, fsspec and numpy, which `mloop models --help` need not.

app = typer.Typer(help="Models: the registry, aliases, governance, gates.", no_args_is_help=True)
model_reviews.register_commands(app)

_VERSION_HEADERS = ["version", "status", "aliases", "flavor", "run", "by", "created", "signed"]


def _version_row(v: ModelVersion) -> list[Any]:
    return [
        v.ref,
        v.status.value,
        ", ".join(v.aliases) or "-",
        v.flavor,
        v.run_id or "-",
        v.created_by,
        millis_text(v.created_time),
        v.signing_key_id or "no",
    ]


@app.command("ls")
@handle_errors
def list_models(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="List this model's versions."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List registered models, or every version of one."""
    from mloop import models

    use_store(ctx)
    if name is not None:
        versions = models.list_versions(name)
        if as_json:
            print_json(versions)
        else:
            table(f"Versions of {name}", _VERSION_HEADERS, [_version_row(v) for v in versions])
        return
    found = models.list_models()
    if as_json:
        print_json(found)
        return
    table(
        "Models",
        ["name", "latest", "aliases", "owner", "updated", "description"],
        [
            [
                m.name,
                m.latest_version or "-",
                ", ".join(f"{a}={v}" for a, v in m.aliases.items()) or "-",
                m.owner,
                millis_text(m.updated_time),
                m.description or "-",
            ]
            for m in found
        ],
    )


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME, NAME/VERSION or NAME@ALIAS."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a model (its versions, aliases, protections) or one version (decisions, gates)."""
    from mloop import models
    from mloop.models.uris import parse_version_ref

    use_store(ctx)
    parsed = parse_version_ref(ref)
    if parsed.version is None and parsed.alias is None and "/" not in ref.removeprefix("models:/"):
        _show_model(parsed.name, as_json)
        return
    version = models.get_version(ref)
    decisions = models.decisions(version.name, version.version)
    gates = models.gate_results(version.name, version.version)
    if as_json:
        print_json({"version": version, "decisions": decisions, "gates": gates})
        return
    table(f"Model version {version.ref}", _VERSION_HEADERS, [_version_row(version)])
    table(
        "Details",
        ["field", "value"],
        [
            ["digest", version.digest],
            ["source", version.source],
            ["description", version.description or "-"],
            *[[f"metric {k}", v] for k, v in sorted(version.metrics.items())],
        ],
    )
    if decisions:
        table(
            "Decisions",
            ["who", "decision", "comment", "when"],
            [[d.actor, d.decision, d.comment or "-", millis_text(d.time)] for d in decisions],
        )
    if gates:
        table(
            "Gates",
            ["when", "against", "result", "rules"],
            [
                [
                    millis_text(g.time),
                    g.against or "-",
                    "passed" if g.passed else "FAILED",
                    "; ".join(r["rule"] for r in g.rules),
                ]
                for g in gates
            ],
        )


def _show_model(name: str, as_json: bool) -> None:
    from mloop import models

    model = models.get_model(name)
    versions = models.list_versions(name)
    protections = models.protections(name)
    if as_json:
        print_json({"model": model, "versions": versions, "protections": protections})
        return
    table(
        f"Model {model.name}",
        ["field", "value"],
        [
            ["description", model.description or "-"],
            ["owner", model.owner],
            ["aliases", ", ".join(f"{a}={v}" for a, v in model.aliases.items()) or "-"],
            *[[f"tag {k}", v] for k, v in sorted(model.tags.items())],
        ],
    )
    table("Versions", _VERSION_HEADERS, [_version_row(v) for v in versions])
    if protections:
        table(
            "Protected aliases",
            ["alias", "approvals", "gate rules", "by"],
            [[p.alias, p.approvals, "; ".join(p.gates) or "-", p.created_by] for p in protections],
        )


@app.command("register")
@handle_errors
@creates_store
def register(
    ctx: typer.Context,
    uri: str = typer.Argument(..., help="runs:/RUN_ID/PATH, a package folder, or models:/…"),
    name: str = typer.Argument(..., help="The registered model's name."),
    description: str = typer.Option("", "--description", "-d", help="What this version is."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Register a model package as the next version of NAME."""
    from mloop import models

    use_store(ctx)
    version = models.register(uri, name, description=description)
    if as_json:
        print_json(version)
        return
    signed = f", signed by {version.signing_key_id}" if version.signing_key_id else ""
    say(f"registered {version.ref} ({version.flavor}, {version.digest[:12]}{signed})")


def _print_change(change: AliasChange) -> None:
    if change.action == "unchanged":
        say(f"{change.name}@{change.alias} already points at version {change.to_version}")
        return
    before = change.from_version if change.from_version is not None else "(none)"
    after = change.to_version if change.to_version is not None else "(deleted)"
    say(f"{change.name}@{change.alias}: {before} -> {after}  ({change.action})")


@app.command("alias")
@handle_errors
def alias(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="e.g. champion, challenger."),
    version: int | None = typer.Argument(None, help="The version it should point at."),
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the history)."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias instead."),
) -> None:
    """Point ALIAS at VERSION (protected aliases require their gates and approvals)."""
    from mloop import models

    use_store(ctx)
    if delete == (version is not None):
        raise typer.BadParameter("give a VERSION, or --delete to remove the alias")
    if delete:
        _print_change(models.delete_alias(name, alias_name, reason=reason))
    else:
        assert version is not None
        _print_change(models.set_alias(name, alias_name, version, reason=reason))


@app.command("rollback")
@handle_errors
def rollback(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="The alias to move back."),
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the history)."),
) -> None:
    """Move ALIAS back to the version it pointed at before its current one."""
    from mloop import models

    use_store(ctx)
    _print_change(models.rollback(name, alias_name, reason=reason))


@app.command("history")
@handle_errors
def history(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    alias_name: str | None = typer.Argument(None, metavar="[ALIAS]", help="One alias only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every move of the model's aliases: who moved which alias, from what to what, when, why."""
    from mloop import models

    use_store(ctx)
    changes = models.alias_history(name, alias_name)
    if as_json:
        print_json(changes)
        return
    table(
        f"Alias history of {name}",
        ["when", "alias", "action", "from", "to", "who", "reason"],
        [
            [
                millis_text(c.time),
                c.alias,
                c.action,
                c.from_version if c.from_version is not None else "-",
                c.to_version if c.to_version is not None else "-",
                c.actor,
                c.reason or "-",
            ]
            for c in changes
        ],
    )


@app.command("archive")
@handle_errors
def archive(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    version: int = typer.Argument(..., help="The version."),
    restore: bool = typer.Option(False, "--restore", help="Bring an archived version back."),
) -> None:
    """Archive a version (it stays loadable but takes no alias), or restore it."""
    from mloop import models

    use_store(ctx)
    found = models.restore(name, version) if restore else models.archive(name, version)
    say(f"{found.ref} is {found.status.value}")


@app.command("delete")
@handle_errors
def delete(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME/VERSION, or NAME for the whole model."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete a whole model without asking."),
) -> None:
    """Delete a version, or a whole model (refused while aliases point at it)."""
    from mloop import models
    from mloop.models.uris import parse_version_ref

    use_store(ctx)
    parsed = parse_version_ref(ref)
    if parsed.alias is not None or (parsed.version is None and "/" in ref.removeprefix("models:/")):
        raise typer.BadParameter("name the version to delete by number, e.g. credit/3")
    if parsed.version is not None:
        found = models.delete_version(parsed.name, parsed.version)
        say(f"deleted {found.ref}")
        return
    if not yes and not typer.confirm(f"delete model {parsed.name!r} and all its versions?"):
        print_error("nothing was deleted", label="stopped:")
        raise typer.Exit(EXIT_INTERRUPTED)
    models.delete_model(parsed.name)
    say(f"deleted model {parsed.name}")


@app.command("describe")
@handle_errors
def describe(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    description: str | None = typer.Option(None, "--description", "-d", help="What it is."),
    intended_use: str | None = typer.Option(None, "--intended-use", help="For the model card."),
    limitations: str | None = typer.Option(None, "--limitations", help="For the model card."),
) -> None:
    """Set a model's description, and its card's intended use and limitations."""
    from mloop import models

    use_store(ctx)
    models.update_model(
        name, description=description, intended_use=intended_use, limitations=limitations
    )
    say(f"updated model {name}")


@app.command("sign")
@handle_errors
def sign(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME/VERSION or NAME@ALIAS."),
) -> None:
    """Sign a version registered before the project had a key (its files are re-read first)."""
    from mloop import models

    use_store(ctx)
    version = models.sign(ref)
    say(f"{version.ref} signed by key {version.signing_key_id}")


@app.command("verify")
@handle_errors
def verify(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME/VERSION or NAME@ALIAS."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Re-read every file of a version, check digests and signature (exit 6 when they fail)."""
    from mloop import models

    use_store(ctx)
    report = models.verify(ref)
    if as_json:
        print_json(report)
        return
    signed = f"signature by key {report.key_id} valid" if report.signed else "not signed"
    console().print(
        f"{report.ref}: {report.files} file(s), {report.bytes:,} bytes match digest "
        f"{report.digest[:12]}; {signed}"
    )
    if report.repaired:
        console().print(
            f"[yellow]the local copy was damaged:[/yellow] {len(report.repaired)} file(s) fetched "
            f"again from the store: {', '.join(report.repaired)}"
        )


@app.command("build")
@handle_errors
def build(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME/VERSION, NAME@ALIAS, a model URI or a folder."),
    target: str = typer.Option(..., "--target", "-t", help="docker, k8s, kserve or ray-serve."),
    out: str = typer.Option(..., "--out", "-o", help="The folder to write (empty or new)."),
    force: bool = typer.Option(False, "--force", help="Replace what is in a non-empty --out."),
    name: str | None = typer.Option(None, "--name", help="Serve under this name."),
    image: str | None = typer.Option(
        None, "--image", help="The image the manifests run [default: mloop-model-NAME:VERSION]."
    ),
    base_image: str | None = typer.Option(
        None, "--base-image", help="[default: python:X.Y-slim of the package's Python]."
    ),
    mloop_spec: str | None = typer.Option(
        None, "--mloop-spec", help="How the image installs mloop [default: mloop[serve]==VERSION]."
    ),
    wheels: list[str] = typer.Option(
        [], "--wheel", help="A wheel to install from (repeatable), e.g. mloop's own."
    ),
    cpu: str = typer.Option("500m", "--cpu", help="CPU request."),
    memory: str = typer.Option("1Gi", "--memory", help="Memory request."),
    cpu_limit: str = typer.Option("2", "--cpu-limit", help="CPU limit; '' for none."),
    memory_limit: str = typer.Option("2Gi", "--memory-limit", help="Memory limit."),
    min_replicas: int = typer.Option(1, "--min-replicas", help="Fewest pods.", min=1),
    max_replicas: int = typer.Option(5, "--max-replicas", help="Most pods.", min=1),
    cpu_target: int = typer.Option(70, "--cpu-target", help="CPU % the autoscaler aims at."),
    working_dir: str | None = typer.Option(
        None,
        "--working-dir",
        help="ray-serve: where replicas find the folder, local:///PATH on every node or a .zip "
        "at s3://, gs://, https:// [default: local:///srv/mloop/models/NAME-VERSION].",
    ),
) -> None:
    """Build an image's context and deployment manifests for a model (no Docker needed)."""
    from mloop.serving.packaging import BuildOptions
    from mloop.serving.packaging import build as build_package
    from mloop.serving.packaging.builder import check_out, check_target

    options = BuildOptions(
        name=name,
        image=image,
        base_image=base_image,
        mloop_spec=mloop_spec,
        wheels=tuple(wheels),
        cpu=cpu,
        memory=memory,
        cpu_limit=cpu_limit or None,
        memory_limit=memory_limit,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        cpu_target=cpu_target,
        working_dir=working_dir,
        force=force,
    )
    # Bad input is refused before the store is opened.
    check_target(target)
    options.check()
    check_out(Path(out), force=force)
    use_store(ctx)
    report = build_package(ref, target, out, options)
    say(
        f"built {report.target} for {report.name} version {report.version} "
        f"({report.digest[:12]}) in {report.out}: {', '.join(report.files)}"
    )
    if report.target == "ray-serve":
        say(f"next: put {report.out} where serve.yaml's working_dir says (see its README.md),")
        say(f"then: serve deploy {report.out / 'serve.yaml'}")
        return
    say(f"next: docker build -t {report.image} {report.out}")
    if report.target != "docker":
        folder = "kubernetes" if report.target == "k8s" else "kserve"
        say(f"then push the image and: kubectl apply -f {report.out / folder}")
