"""``mloop predict``: score a Parquet or CSV file (or a dataset version) in chunks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mloop.cli.context import creates_store, use_store
from mloop.cli.output import err_console, handle_errors, may_be_terminal, print_json, say

if TYPE_CHECKING:
    from rich.console import Console

    from mloop.serving.batch_scoring import Progress as RowsDone


@contextmanager
def rows_progress(description: str, console: Console | None = None) -> Iterator[RowsDone | None]:
    """A transient bar on stderr (or ``console``) with rows and rows/s; None when piped.

    Example:
        >>> with rows_progress("scoring credit@3") as progress:
        ...     predict_batch(model, "credit@3", "out.parquet", progress=progress)  # doctest: +SKIP
    """
    if console is None:
        if not may_be_terminal(err=True):
            yield None
            return
        console = err_console()
    # Imported to draw the bar (as cli.output does): a piped run never loads Rich.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=console) as bar:
        task = bar.add_task(description, total=None, rate="")

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)
            speed = bar.tasks[task].speed
            # Drawn now, not at the next tick: a chunk can take longer than a tick or much less.
            bar.update(task, rate=f"{speed:,.0f} rows/s" if speed else "", refresh=True)

        yield update


@creates_store
@handle_errors
def predict_command(
    ctx: typer.Context,
    model: str = typer.Argument(
        ..., help="Model URI: models:/credit@champion, models:/credit/3, runs:/ID/model, a folder."
    ),
    input_: str = typer.Option(
        ...,
        "--input",
        "-i",
        help="A Parquet file or folder, a CSV file, or a dataset version (credit@3).",
        show_default=False,
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="The .parquet or .csv file to write (replaced whole when scoring ends).",
        show_default=False,
    ),
    chunk_rows: int = typer.Option(
        10_000, "--chunk-rows", help="Rows read, checked and predicted at a time.", min=1
    ),
    keep: list[str] | None = typer.Option(
        None, "--keep", "-k", help="Keep only this input column (repeatable); default: all."
    ),
    predictions_only: bool = typer.Option(
        False, "--predictions-only", help="Write the answers alone, without input columns."
    ),
    register: str | None = typer.Option(
        None, "--register", help="Add the output as a version of this dataset."
    ),
    experiment: str = typer.Option(
        "batch-scoring", "--experiment", help="Experiment of the scoring run."
    ),
    executor: str = typer.Option(
        "local", "--executor", help="local, or ray to spread the chunks over a Ray cluster."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Score a file or dataset version with a model, in chunks, into a Parquet or CSV file."""
    from mloop.serving.batch_scoring import predict_batch

    if keep and predictions_only:
        raise typer.BadParameter("give --keep or --predictions-only, not both")
    use_store(ctx)
    with rows_progress(f"scoring {input_}") as progress:
        result = predict_batch(
            model,
            input_,
            output,
            chunk_rows=chunk_rows,
            keep=[] if predictions_only else (keep or None),
            register=register,
            experiment=experiment,
            executor=executor,
            progress=progress,
        )
    if as_json:
        print_json(result)
        return
    registered = f"  as {result.dataset}" if result.dataset else ""
    say(
        f"{result.rows} rows in {result.seconds:.1f}s -> {result.output}{registered}  "
        f"(run {result.run_id})"
    )
