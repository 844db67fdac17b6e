"""``mloop fsck``: check every stored object against the metadata; ``--repair`` mends."""

from __future__ import annotations

import dataclasses

import typer

from mloop.artifacts.check import StoreCheck
from mloop.cli.context import client_from
from mloop.cli.output import console, handle_errors, print_json, table
from mloop.errors import IntegrityError
from mloop.tracking.connection import connect
from mloop.tracking.fsck import fsck

_AFFECTS_SHOWN = 3


@handle_errors
def fsck_command(
    ctx: typer.Context,
    repair: bool = typer.Option(
        False, "--repair", help="Mend what can be mended (rebuild indexes, drop bad copies)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Re-read every artifact object; report missing or damaged ones and what they affect.

    Exits 6 when something referenced is missing or damaged (and was not repaired).
    """
    client = client_from(ctx)
    backend = connect(client.settings)
    report = fsck(backend.stores, backend.content, repair=repair)
    if as_json:
        print_json({"ok": report.ok, **dataclasses.asdict(report)})
    else:
        _render(report)
    if not report.ok:
        raise typer.Exit(IntegrityError.exit_code)


def _render(report: StoreCheck) -> None:
    if report.problems:
        table(
            "problems",
            ["problem", "where", "affects", "detail", "repaired"],
            [
                (p.kind, p.where, _affects(p.affects), p.detail, "yes" if p.repaired else "no")
                for p in report.problems
            ],
        )
    verdict = "all objects intact" if report.ok else "[red]objects missing or damaged[/red]"
    console.print(
        f"checked {report.objects:,} object(s) ({report.bytes:,} bytes, {report.packs} pack(s)): "
        f"{verdict}; {len(report.orphans)} unreferenced and {report.duplicates} duplicate "
        "copies (mloop gc removes them)"
    )


def _affects(affects: list[str]) -> str:
    shown = "\n".join(affects[:_AFFECTS_SHOWN])
    more = len(affects) - _AFFECTS_SHOWN
    return shown + (f"\n… and {more} more" if more > 0 else "") if affects else "-"
