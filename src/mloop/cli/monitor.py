"""``mloop monitor``: how a table moved against a reference, column by column.

Example:
    $ mloop monitor drift credit@train credit@latest
    $ mloop monitor drift credit@train scores.parquet --json --fail-on-drift
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mloop.cli.context import use_store
from mloop.cli.output import handle_errors, print_json, say, table
from mloop.errors import EXIT_CHECK_FAILED, InvalidInput

# mloop.monitoring and mloop.data load pandas, scipy and the store: imported in the command.

app = typer.Typer(help="Monitoring: drift of data and predictions.", no_args_is_help=True)


def _table(given: str) -> Any:
    """A DataFrame from a CSV, Parquet or JSON-lines file, or from a dataset reference."""
    from mloop import data
    from mloop.data.tabular import read_table

    path = Path(given)
    if path.is_file():
        return read_table([path]).to_pandas()
    if path.suffix.lower() in (".csv", ".parquet", ".jsonl", ".json") and "@" not in given:
        raise InvalidInput(f"no file at {given!r} (and it is not a dataset reference)")
    return data.get(given).to_pandas()


def _reference(given: str) -> Any:
    """A file's rows, or a dataset version's stored profile (computed on first use)."""
    from mloop.monitoring.reference_profiles import reference_profile

    path = Path(given)
    if path.is_file() or (
        path.suffix.lower() in (".csv", ".parquet", ".jsonl", ".json") and "@" not in given
    ):
        return _table(given)
    return reference_profile(given)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


@app.command("drift")
@handle_errors
def drift(
    ctx: typer.Context,
    reference: str = typer.Argument(
        ..., help="The reference: a dataset version (credit@train) or a CSV/Parquet file."
    ),
    current: str = typer.Argument(..., help="The table to judge, the same way."),
    columns: str | None = typer.Option(
        None, "--columns", help="Comma-separated columns to compare (default: all)."
    ),
    method: str = typer.Option(
        "auto", "--method", help="auto, or one method for every column (ks, chi2, psi, ...)."
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", help="The threshold of every column (default: each method's)."
    ),
    share: float = typer.Option(
        0.5, "--share", help="The share of drifted columns at which the table drifted."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    fail_on_drift: bool = typer.Option(
        False, "--fail-on-drift", help="Exit 1 when the table drifted (for CI)."
    ),
) -> None:
    """Compare each column of a table with a reference; say which drifted and how much."""
    from mloop.monitoring.table_drift import drift as measure

    use_store(ctx)
    chosen = None if columns is None else [c.strip() for c in columns.split(",") if c.strip()]
    report = measure(
        _reference(reference),
        _table(current),
        chosen,
        method,
        threshold,
        share=share,
    )
    if as_json:
        print_json(report)
    else:
        table(
            f"Drift of {current} against {reference}",
            ["column", "kind", "method", "statistic", "p-value", "threshold", "drifted"],
            [
                [
                    str(c.column),
                    c.kind,
                    c.method,
                    _number(c.statistic),
                    _number(c.p_value),
                    _number(c.threshold),
                    "yes" if c.drifted else "no",
                ]
                for c in report.columns
            ],
        )
        verdict = "drifted" if report.dataset_drifted else "has not drifted"
        say(
            f"{len(report.drifted_columns)} of {len(report.columns)} column(s) drifted "
            f"({report.drift_share:.0%}): the table {verdict} (at {share:.0%})"
        )
    if fail_on_drift and report.dataset_drifted:
        raise typer.Exit(EXIT_CHECK_FAILED)
