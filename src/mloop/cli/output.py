"""Rendering for the CLI: Rich tables for people, JSON for scripts, errors to stderr."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mloop.errors import MloopError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Print a value as JSON (dataclasses and enums become plain data; NaN/inf become strings)."""
    typer.echo(json.dumps(_plain(value), indent=2, default=str))


def millis_text(millis: int | None) -> str:
    """A millisecond timestamp as local ``YYYY-MM-DD HH:MM:SS``."""
    if millis is None:
        return "-"
    return dt.datetime.fromtimestamp(millis / 1000).strftime("%Y-%m-%d %H:%M:%S")


def duration_text(start: int, end: int | None) -> str:
    """Elapsed time between two millisecond timestamps, e.g. ``1m 05s``."""
    if end is None:
        return "-"
    seconds = max(0, end - start) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


# Control characters other than newline and tab (ESC starts terminal escape
# sequences: a stored value must never retitle, clear or restyle a terminal).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    r"""``text`` with control characters shown as escapes, so it prints as what it is.

    Example:
        >>> printable("ok\x1b[2Jcleared")
        'ok\\x1b[2Jcleared'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def value_text(value: Any) -> str:
    """A metric, param or tag value for a table cell."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return printable(str(value))


def _widen_when_piped() -> None:
    # Piped into a file or another program, a table keeps whole lines (grep and
    # diff see whole values) unless COLUMNS asks for a width; Rich would use 80.
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = 10_000


def table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a Rich table; every cell is literal text, never Rich markup."""
    grid = Table(title=Text(title) if title else None, show_lines=False, header_style="bold")
    for position, header in enumerate(headers):
        # Ids must stay whole and copyable; other columns may wrap.
        grid.add_column(Text(header), no_wrap=position == 0, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(value_text(cell)) for cell in row))
    _widen_when_piped()
    console.print(grid)


def print_error(message: str, label: str = "error:") -> None:
    """Print a literal message to stderr after a red label, without hard line breaks."""
    err_console.print(
        Text(f"{label} ", style="bold red") + Text(printable(message)), soft_wrap=True
    )


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn an MloopError into ``error: …`` on stderr and the error's exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except MloopError as err:
            print_error(str(err))
            raise typer.Exit(err.exit_code) from None

    return wrapper
