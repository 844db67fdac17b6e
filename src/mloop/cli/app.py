"""The ``mloop`` command: global options and the command groups.

A command group's module is imported only when that group runs or shows its
own help: ``mloop --help`` lists every group from the one-line summaries
below, and ``mloop runs ls`` imports the ``runs`` module and nothing of
``data`` or ``models``. So the command line starts in a fraction of a second
whatever the domain libraries weigh.

Example:
    $ mloop runs ls --experiment credit --filter "metrics.auc > 0.9" --json
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import sys
import warnings
from collections.abc import Iterator, Mapping
from difflib import get_close_matches
from typing import ClassVar, TextIO

import typer

# Typer builds its commands on its own copy of click (typer >= 0.29): a group's
# methods take and return these classes, not those of the click package.
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

import mloop
from mloop.cli.output import print_json, print_labelled, report_internal_error
from mloop.config import check_project_name
from mloop.context.current import chosen_project
from mloop.errors import EXIT_INTERNAL, InvalidInput, MloopWarning
from mloop.store.mode import existing_stores_only


class LazyGroup(TyperGroup):
    """A click group whose subcommands are imported when first used (click's lazy-group pattern).

    Subclasses set :attr:`lazy`: command name -> ``("module:attribute", "one-line help")``,
    where the attribute is a :class:`typer.Typer` (a group) or a command function. The
    contract:

    - ``list_commands`` names every lazy command (in the order given) and then the
      eager ones registered on the Typer app;
    - ``get_command`` imports a lazy command's module the first time it is asked for and
      keeps the built command;
    - the group's own help lists the lazy commands with their one-line help without
      importing them (a test checks that the one-line help matches the real one).

    Example:
        >>> class Commands(LazyGroup):
        ...     lazy = {"runs": ("mloop.cli.runs:app", "Runs: list, inspect, compare, delete.")}
        >>> Commands(name="mloop").list_commands(click.Context(TyperCommand("mloop")))
        ['runs']
    """

    lazy: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The lazy commands in declaration order, then the eager ones."""
        return [*self.lazy, *(name for name in super().list_commands(ctx) if name not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing its module on first use."""
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self.load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, cmd_name: str) -> click.Command:
        """Import and build the lazy command ``cmd_name``."""
        module, _, attribute = self.lazy[cmd_name][0].partition(":")
        found = getattr(importlib.import_module(module), attribute)
        command: click.Command
        if isinstance(found, typer.Typer):
            command = typer.main.get_group(found)
        else:  # a command function, as `app.command(cmd_name)(found)` would add it
            single = typer.Typer(add_completion=False)
            single.command(cmd_name)(found)
            command = typer.main.get_command(single)
        command.name = cmd_name
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As Typer's, with "did you mean" suggestions drawn from the lazy names too."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as err:
            unknown = f"No such command {args[0]!r}" if args else None
            matches = get_close_matches(args[0], self.list_commands(ctx)) if unknown else []
            if unknown and err.message.startswith(unknown) and matches and self.suggest_commands:
                err.message = f"{unknown}. Did you mean {', '.join(map(repr, matches))}?"
            raise

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The group's help; lazy commands are listed by their one-line help, not imported."""
        listing = copy.copy(self)
        listing.commands = {
            **{name: self._stand_in(name) for name in self._unloaded()},
            **self.commands,
        }
        TyperGroup.format_help(listing, ctx, formatter)

    def _unloaded(self) -> list[str]:
        return [name for name in self.lazy if name not in self.commands]

    def _stand_in(self, cmd_name: str) -> click.Command:
        return TyperCommand(cmd_name, help=self.lazy[cmd_name][1])


class MloopCommands(LazyGroup):
    """The groups and commands of ``mloop``, each imported only when used."""

    lazy: ClassVar[Mapping[str, tuple[str, str]]] = {
        "experiments": ("mloop.cli.experiments:app", "Experiments: named groups of runs."),
        "runs": ("mloop.cli.runs:app", "Runs: list, inspect, compare, delete."),
        "data": ("mloop.cli.data:app", "Datasets: versioned files and folders."),
        "pipeline": ("mloop.cli.pipeline:app", "Run, resume and inspect pipelines."),
        "projects": (
            "mloop.cli.projects:app",
            "Projects: namespaces for experiments, datasets, models.",
        ),
        "models": ("mloop.cli.models:app", "Models: the registry, aliases, governance, gates."),
        "keys": ("mloop.cli.keys:app", "Signing keys for model packages."),
        "import": ("mloop.cli.importing:app", "Bring another tool's store into mloop."),
        "serve": (
            "mloop.cli.serve:serve_command",
            "Serve models over HTTP until Ctrl-C (or SIGTERM), which drains in-flight requests.",
        ),
        "predict": (
            "mloop.cli.predict:predict_command",
            "Score a file or dataset version with a model, in chunks, into a Parquet or CSV file.",
        ),
        "gc": (
            "mloop.cli.gc:gc_command",
            "Purge runs in the bin, then artifact objects nothing references.",
        ),
        "fsck": (
            "mloop.cli.fsck:fsck_command",
            "Re-read every artifact object; report missing or damaged ones and what they affect.",
        ),
        "deploy": (
            "mloop.cli.deploy:app",
            "Deployments: what an endpoint serves, canaries, shadows, rollback.",
        ),
        "monitor": (
            "mloop.cli.monitor:app",
            "Monitoring: drift of data and predictions; monitors that run on a schedule.",
        ),
        "agent": (
            "mloop.cli.agent:agent_command",
            "Run due monitors and policies on their schedules until Ctrl-C (or SIGTERM).",
        ),
        "policy": (
            "mloop.cli.policy:app",
            "Policies: retrain, gate and deploy on alerts, new data or a schedule.",
        ),
    }


app = typer.Typer(
    cls=MloopCommands,
    help="mloop: track experiments, version and validate data, run pipelines, register models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main_options(
    ctx: typer.Context,
    tracking_uri: str | None = typer.Option(
        None, "--tracking-uri", envvar="MLOOP_TRACKING_URI", help="Metadata store URL."
    ),
    artifacts_uri: str | None = typer.Option(
        None, "--artifacts-uri", envvar="MLOOP_ARTIFACTS_URI", help="Artifact store root."
    ),
    project: str | None = typer.Option(
        None,
        "--project",
        envvar="MLOOP_PROJECT",
        help="Project whose experiments, datasets and models to use (default: default).",
    ),
) -> None:
    """Options shared by every command."""
    ctx.obj = {"tracking_uri": tracking_uri, "artifacts_uri": artifacts_uri}
    if project is not None:
        try:
            check_project_name(project)
        except InvalidInput as err:
            raise typer.BadParameter(str(err), param_hint="--project") from None
        ctx.with_resource(chosen_project(project))
    # A command never creates a store unless it says so (cli.context.creates_store):
    # `mloop runs ls` in the wrong folder reports the store it looked for instead.
    ctx.with_resource(existing_stores_only())
    ctx.with_resource(warnings_as_notes())


@app.command("version")
def version(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print mloop's version."""
    if as_json:
        print_json({"mloop": mloop.__version__})
    else:
        typer.echo(f"mloop {mloop.__version__}")


@contextlib.contextmanager
def warnings_as_notes() -> Iterator[None]:
    """Inside a command, mloop's warnings print as ``warning: ...`` on stderr, once each."""
    shown = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, MloopWarning):
            print_labelled("warning:", str(message), style="yellow", err=True)
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.filterwarnings("default", category=MloopWarning)
        warnings.showwarning = show
        yield


GLOBAL_OPTIONS = frozenset({"--project", "--tracking-uri", "--artifacts-uri"})


def global_options_first(args: list[str]) -> list[str]:
    """The arguments with the global options moved before the command, wherever they were typed.

    ``mloop data ls --project fraud`` means ``mloop --project fraud data ls``:
    no command has an option of those names, so nothing else can be meant.
    Arguments after ``--`` are left alone.

    Example:
        >>> global_options_first(["data", "ls", "--project", "fraud", "--json"])
        ['--project', 'fraud', 'data', 'ls', '--json']
        >>> global_options_first(["--project=a", "runs", "ls"])
        ['--project=a', 'runs', 'ls']
    """
    front: list[str] = []
    rest: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "--":
            rest += args[position:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            takes = 1 if "=" in arg or position + 1 == len(args) else 2
            front += args[position : position + takes]
            position += takes
            continue
        rest.append(arg)
        position += 1
    return front + rest


def main() -> None:
    """Console-script entry point.

    An exception that escapes every command's own handling (one raised while the
    options are parsed, say) is still a bug: reported as one, exit 70, never 1.
    """
    try:
        app(args=global_options_first(sys.argv[1:]))
    except Exception as err:  # whatever escaped is a bug to report
        report_internal_error(err)
        sys.exit(EXIT_INTERNAL)
