"""``mloop experiments``: list experiments."""

from __future__ import annotations

import typer

from mloop.cli.context import client_from
from mloop.cli.output import handle_errors, millis_text, print_json, table
from mloop.entities import ViewType

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


@app.command("ls")
@handle_errors
def list_experiments(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="Include deleted experiments."),
    deleted: bool = typer.Option(False, "--deleted", help="Only deleted experiments."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List experiments, oldest first."""
    view = ViewType.DELETED_ONLY if deleted else ViewType.ALL if all_ else ViewType.ACTIVE_ONLY
    experiments = client_from(ctx).search_experiments(view)
    if as_json:
        print_json(experiments)
        return
    table(
        "Experiments",
        ["id", "name", "stage", "created"],
        [
            (e.experiment_id, e.name, e.lifecycle_stage.value, millis_text(e.creation_time))
            for e in experiments
        ],
    )
