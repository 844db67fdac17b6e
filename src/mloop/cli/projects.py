"""``mloop projects``: the namespaces experiments, datasets and models live in.

Example:
    $ mloop projects create fraud --description "card fraud models"
    $ mloop --project fraud data add ./transactions --name tx
"""

from __future__ import annotations

import typer

from mloop.cli.context import client_from, creates_store
from mloop.cli.output import handle_errors, millis_text, print_json, table

app = typer.Typer(
    help="Projects: namespaces for experiments, datasets, models.", no_args_is_help=True
)


@app.command("ls")
@handle_errors
def list_projects(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List projects by name (the one in use is marked)."""
    client = client_from(ctx)
    projects = client.stores.projects.list_projects()
    if as_json:
        print_json(projects)
        return
    table(
        "Projects",
        ["name", "in use", "description", "created"],
        [
            (
                p.name,
                "*" if p.name == client.project else "",
                p.description,
                millis_text(p.created_time),
            )
            for p in projects
        ],
    )


@app.command("create")
@handle_errors
@creates_store
def create_project(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="1 to 64 letters, digits, '.', '_' or '-'."),
    description: str = typer.Option("", "--description", "-d", help="What the project is for."),
) -> None:
    """Create an empty project (a project is also made by the first thing created in it)."""
    made = client_from(ctx).stores.projects.create_project(name, description=description)
    typer.echo(f"created project {made.name!r}")
