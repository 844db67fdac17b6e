"""``mloop import``: bring another tool's store into mloop (``mloop import mlflow SOURCE``)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import typer

from mloop.cli.context import client_from, creates_store
from mloop.cli.output import handle_errors, print_error, print_json, progress_bar, say, table
from mloop.errors import EXIT_INTERRUPTED

app = typer.Typer(help="Bring another tool's store into mloop.", no_args_is_help=True)

_ROWS = (
    ("experiments", "experiments"),
    ("runs", "runs"),
    ("metric points", "metric_points"),
    ("artifact files", "artifact_files"),
    ("artifact size", "artifact_bytes"),
    ("models", "models"),
    ("versions", "versions"),
    ("aliases", "aliases"),
)

# What a second import recognizes as there already (a run there is not read again).
_RECOGNIZED = frozenset({"experiments", "runs", "models", "versions", "aliases"})


def _listed(items: list[str]) -> str:
    """The first five items, and how many more."""
    return ", ".join(items[:5]) + (f" (+{len(items) - 5} more)" if len(items) > 5 else "")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM stops the command as Ctrl-C does (the main thread only).

    Example:
        >>> with sigterm_as_interrupt():
        ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


class _NoInterruptNoise(logging.Filter):
    """Drops SQLAlchemy's pool report of a connection reset cut short by Ctrl-C."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, KeyboardInterrupt)


@contextlib.contextmanager
def quiet_pool_interrupts() -> Iterator[None]:
    """While inside, a Ctrl-C that lands in SQLAlchemy's pool is not logged as an error.

    SQLAlchemy logs it on a logger of each pool class; the filter sits on the
    handlers that would print it (the root's, and logging's last resort).

    Example:
        >>> with quiet_pool_interrupts():
        ...     any(isinstance(f, _NoInterruptNoise) for f in logging.lastResort.filters)
        True
    """
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    noise = _NoInterruptNoise()
    for handler in handlers:
        if handler is not None:
            handler.addFilter(noise)
    try:
        yield
    finally:
        for handler in handlers:
            if handler is not None:
                handler.removeFilter(noise)


@app.command("mlflow")
@handle_errors
@creates_store
def import_mlflow(
    ctx: typer.Context,
    source: str = typer.Argument(
        ...,
        help="An mlruns folder, an MLflow database URI (sqlite:///mlflow.db, postgresql://...) "
        "or an MLflow server (http://HOST:PORT).",
    ),
    experiment: list[str] = typer.Option(
        [], "--experiment", "-e", help="Only this experiment (repeat for more); default all."
    ),
    server: str | None = typer.Option(
        None,
        "--server",
        help="The MLflow server serving the database's mlflow-artifacts: artifacts.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would come; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import MLflow experiments, runs, artifacts, models, versions and aliases.

    Importing again brings only what is new: runs, versions and aliases already
    brought are recognized by their MLflow ids and left as they are.
    """
    # Here, not at the top: the importer loads SQLAlchemy and the tracking client.
    from mloop.importing.mlflow import ImportStopped
    from mloop.importing.mlflow import import_mlflow as run_import
    from mloop.importing.mlflow.summary import byte_size

    def _sized(kind: str, count: int) -> str | int:
        return byte_size(count) if kind == "artifact_bytes" else count

    client = client_from(ctx)
    try:
        with (
            sigterm_as_interrupt(),
            quiet_pool_interrupts(),
            progress_bar("importing from MLflow") as progress,
        ):
            summary = run_import(
                source,
                experiments=experiment or None,
                dry_run=dry_run,
                server=server,
                context=client.context,
                progress=progress,
            )
    except ImportStopped as stopped:
        print_error(
            f"interrupted; brought before the stop, each whole: {stopped.brought()}; "
            "import again to bring the rest",
            label="stopped:",
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if as_json:
        print_json(summary.to_dict())
        return
    verb = "would bring" if dry_run else "brought"
    # The title on a line of its own: a table title wraps at the table's width,
    # which would split the source's path.
    say(f"Import from MLflow {summary.source}")
    table(
        None,
        ["", verb, "already there"],
        [
            (
                label,
                _sized(k, summary.count(k).brought),
                _sized(k, summary.count(k).already) if k in _RECOGNIZED else "-",
            )
            for label, k in _ROWS
        ],
    )
    for reason, items in sorted(summary.skipped.items()):
        # Items that share their particulars are listed together, after them.
        by_detail: dict[str, list[str]] = {}
        for item in items:
            by_detail.setdefault(summary.details.get((reason, item), ""), []).append(item)
        for detail, alike in by_detail.items():
            why = f"{reason} ({detail})" if detail else reason
            say(f"left out, {why}: {_listed(alike)}", style="yellow")
    for about, items in sorted(summary.notes.items()):
        say(f"note, {about}: {_listed(items)}", style="yellow")
