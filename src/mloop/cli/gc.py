"""``mloop gc``: remove deleted runs and unreferenced artifact objects."""

from __future__ import annotations

import typer

from mloop.cli.context import client_from
from mloop.cli.output import handle_errors, print_json, print_labelled, say
from mloop.errors import IntegrityError


@handle_errors
def gc_command(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would go; remove nothing."),
    grace_period: float | None = typer.Option(
        None,
        "--grace-period",
        help="Seconds: newer deletions and objects survive (default MLOOP_GC_GRACE_SECONDS, 3600).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a summary."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Collect even when the metadata store references no object at all, or the artifact "
        "store records no owner (the pairing is then recorded, even with --dry-run).",
    ),
) -> None:
    """Purge runs in the bin, then artifact objects nothing references."""
    # Here, not at the top: the stores load SQLAlchemy and fsspec, which `--help` need not.
    from mloop.tracking.connection import connect
    from mloop.tracking.gc import collect_garbage

    client = client_from(ctx)
    backend = connect(client.settings)
    grace = client.settings.gc_grace_seconds if grace_period is None else grace_period
    report = collect_garbage(
        backend.stores,
        backend.content,
        grace_seconds=grace,
        dry_run=dry_run,
        force=force,
        scratch_fallback=client.settings.scratch_fallback(),
    )
    if as_json:
        print_json(report)
        raise typer.Exit(IntegrityError.exit_code if report.problems else 0)
    verb = "would remove" if dry_run else "removed"
    say(
        f"gc {verb} {len(report.purged_runs)} run(s), {len(report.deleted_objects)} object(s) "
        f"({report.freed_bytes:,} bytes) and {report.temp_files} temporary file(s)"
    )
    for problem in report.problems:  # damaged packs are left alone; the rest was collected
        print_labelled("skipped:", problem, style="yellow")
    if report.problems:
        raise typer.Exit(IntegrityError.exit_code)
