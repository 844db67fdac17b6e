"""The ``mloop`` command: global options and the command groups.

Example:
    $ mloop runs ls --experiment credit --filter "metrics.auc > 0.9" --json
"""

from __future__ import annotations

import typer

import mloop
from mloop.cli import data, experiments, keys, models, pipeline, runs
from mloop.cli.fsck import fsck_command
from mloop.cli.gc import gc_command
from mloop.cli.output import print_json
from mloop.store.mode import existing_stores_only

app = typer.Typer(
    help="mloop: track, version, validate, pipeline, register, serve, monitor, retrain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(data.app, name="data")
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(models.app, name="models")
app.add_typer(keys.app, name="keys")
app.command("gc")(gc_command)
app.command("fsck")(fsck_command)


@app.callback()
def main_options(
    ctx: typer.Context,
    tracking_uri: str | None = typer.Option(
        None, "--tracking-uri", envvar="MLOOP_TRACKING_URI", help="Metadata store URL."
    ),
    artifacts_uri: str | None = typer.Option(
        None, "--artifacts-uri", envvar="MLOOP_ARTIFACTS_URI", help="Artifact store root."
    ),
) -> None:
    """Options shared by every command."""
    ctx.obj = {"tracking_uri": tracking_uri, "artifacts_uri": artifacts_uri}
    # A command never creates a store unless it says so (cli.context.creates_store):
    # `mloop runs ls` in the wrong folder reports the store it looked for instead.
    ctx.with_resource(existing_stores_only())


@app.command("version")
def version(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print mloop's version."""
    if as_json:
        print_json({"mloop": mloop.__version__})
    else:
        typer.echo(f"mloop {mloop.__version__}")


def main() -> None:
    """Console-script entry point."""
    app()
