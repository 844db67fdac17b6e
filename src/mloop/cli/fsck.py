"""``mloop fsck``: check every stored object against the metadata; ``--repair`` mends."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import typer

from mloop.cli.context import client_from, use_store
from mloop.cli.output import console, handle_errors, print_json, table
from mloop.errors import IntegrityError

if TYPE_CHECKING:
    from mloop.artifacts.check import StoreCheck

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

    This machine's local copies of datasets and models are re-read too (and
    fetched again with ``--repair``). Exits 6 when something referenced is
    missing or damaged and was not repaired.
    """
    # Here, not at the top: the stores and domains load SQLAlchemy, fsspec and more,
    # which `--help` need not.
    from mloop.data.api import check_local_copies as check_dataset_copies
    from mloop.models.integrity import check_local_copies as check_model_copies
    from mloop.tracking.connection import connect
    from mloop.tracking.fsck import fsck

    client = client_from(ctx)
    backend = connect(client.settings)
    report = fsck(backend.stores, backend.content, repair=repair)
    use_store(ctx)
    copies = {**check_dataset_copies(repair=repair), **check_model_copies(repair=repair)}
    ok = report.ok and (repair or not copies)
    if as_json:
        print_json({"ok": ok, **dataclasses.asdict(report), "local_copies": copies})
    else:
        _render(report)
        _render_copies(copies, repaired=repair)
    if not ok:
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
    console().print(
        f"checked {report.objects:,} object(s) ({report.bytes:,} bytes, {report.packs} pack(s)): "
        f"{verdict}; {len(report.orphans)} unreferenced and {report.duplicates} duplicate "
        "copies (mloop gc removes them)"
    )


def _render_copies(copies: dict[str, list[str]], *, repaired: bool) -> None:
    outcome = "fetched again from the store" if repaired else "run mloop fsck --repair"
    for what, paths in copies.items():
        shown = ", ".join(paths[:_AFFECTS_SHOWN]) + (" …" if len(paths) > _AFFECTS_SHOWN else "")
        console().print(
            f"[yellow]local copy of {what}:[/yellow] {len(paths)} file(s) changed or missing "
            f"({shown}); {outcome}",
            highlight=False,
        )


def _affects(affects: list[str]) -> str:
    shown = "\n".join(affects[:_AFFECTS_SHOWN])
    more = len(affects) - _AFFECTS_SHOWN
    return shown + (f"\n… and {more} more" if more > 0 else "") if affects else "-"
