"""Rendering for the CLI: Rich tables for people, JSON for scripts, errors to stderr.

Rich is imported only when something is drawn (a table, a progress bar, styled
text on a terminal): a command that prints one plain line into a pipe, as
``mloop data add`` in a script does, never loads it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from typer import _click as click

import mloop
from mloop.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, MloopError

if TYPE_CHECKING:
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")


@cache
def console() -> Console:
    """The Rich console on stdout, made (and Rich imported) on first use.

    Example:
        >>> console().print("[bold]done[/bold]")  # doctest: +SKIP
    """
    # Here, not at the top: Rich costs ~25 ms to import, which a plain line need not.
    from rich.console import Console

    made = Console()
    made.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]  # handle_errors ends it
    return made


def _broken_pipe() -> None:
    """Rich's hook when stdout's reader is gone: raised for :func:`handle_errors` (exit 0)."""
    raise BrokenPipeError("the reader of stdout went away")


@cache
def err_console() -> Console:
    """The Rich console on stderr, made on first use."""
    from rich.console import Console  # imported when first drawn (see console)

    return Console(stderr=True)


def may_be_terminal(err: bool = False) -> bool:
    """False when stdout (stderr with ``err``) is surely no terminal, so Rich would draw nothing.

    Rich's own test is used whenever it could say yes: a tty, or ``TTY_COMPATIBLE``
    or ``FORCE_COLOR`` set in the environment.

    Example:
        >>> may_be_terminal()  # doctest: +SKIP
        False
    """
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return (err_console() if err else console()).is_terminal
    stream = sys.stderr if err else sys.stdout
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty()) and (err_console() if err else console()).is_terminal
    except ValueError:  # a closed stream
        return False


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


def say(text: str, *, style: str | None = None, soft_wrap: bool = False) -> None:
    """Print a line of literal text (never Rich markup), control characters escaped.

    On a terminal it goes through Rich (highlighted, or in ``style``); into a
    pipe or file it is written as it is, whole, without loading Rich.

    Example:
        >>> say("credit@3  2 file(s)  0123456789ab")
        credit@3  2 file(s)  0123456789ab
    """
    if may_be_terminal():
        console().print(
            printable(text), style=style, markup=False, highlight=style is None, soft_wrap=soft_wrap
        )
    else:
        typer.echo(printable(text))


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None] | None]:
    """A transient progress bar on a terminal; its ``(done, total)`` callback, or None when piped.

    Example:
        >>> with progress_bar("adding data/") as progress:
        ...     api.add("data/", "credit", progress=progress)  # doctest: +SKIP
    """
    if not may_be_terminal():
        yield None
        return
    from rich.progress import Progress  # imported to draw the bar (see console)

    with Progress(transient=True, console=console(), disable=not console().is_terminal) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _widen_when_piped() -> None:
    # Piped into a file or another program, a table keeps whole lines (grep and
    # diff see whole values) unless COLUMNS asks for a width; Rich would use 80.
    if not console().is_terminal and not os.environ.get("COLUMNS"):
        console().width = 10_000


def table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a Rich table; every cell is literal text, never Rich markup."""
    # Imported when a table is drawn (see console).
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=Text(title) if title else None, show_lines=False, header_style="bold")
    for position, header in enumerate(headers):
        # Ids must stay whole and copyable; other columns may wrap.
        grid.add_column(Text(header), no_wrap=position == 0, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(value_text(cell)) for cell in row))
    _widen_when_piped()
    console().print(grid)


def print_labelled(label: str, message: str, *, style: str, err: bool = False) -> None:
    """Print a literal message after a label in ``style``, without hard line breaks.

    Example:
        >>> print_labelled("skipped:", "pack 01ab is damaged", style="yellow")
        skipped: pack 01ab is damaged
    """
    if not may_be_terminal(err):
        typer.echo(f"{label} {printable(message)}", err=err)
        return
    from rich.text import Text  # imported when drawn (see console)

    (err_console() if err else console()).print(
        Text(f"{label} ", style=style) + Text(printable(message)), soft_wrap=True
    )


def print_error(message: str, label: str = "error:") -> None:
    """Print a literal message to stderr after a red label, without hard line breaks."""
    print_labelled(label, message, style="bold red", err=True)


def report_internal_error(err: BaseException) -> None:
    """Print an unexpected exception to stderr: "internal error", the traceback, where to report it.

    Example:
        >>> try:
        ...     {}["missing"]
        ... except KeyError as err:
        ...     report_internal_error(err)  # doctest: +SKIP
        error: internal error: KeyError: 'missing'
    """
    sys.stderr.write("".join(traceback.format_exception(err)))
    print_error(f"internal error: {type(err).__name__}: {err}")
    print_labelled(
        "hint:",
        f"this is a bug in mloop {mloop.__version__}; please report it with the traceback above",
        style="yellow",
        err=True,
    )


def _quiet_stdout() -> None:
    """Point stdout at the null device, so nothing more is written to a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (captured by a test runner)
        return


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Give every way a command can end its own exit code, with a message on stderr.

    An :class:`~mloop.errors.MloopError` prints ``error: …`` and exits with the
    error's code (>= 2); Ctrl-C or a declined prompt exits
    :data:`~mloop.errors.EXIT_INTERRUPTED`; any other exception is a bug: its
    traceback is printed and the command exits :data:`~mloop.errors.EXIT_INTERNAL`.
    Exit code 1 stays for a check that said no, which the command raises itself.
    Output piped into a reader that stops early (``| head -1``) ends the command
    quietly, exit code 0.

    Example:
        >>> @handle_errors
        ... def show(run_id: str) -> None:
        ...     raise NotFound(f"run {run_id!r} not found")
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, click.exceptions.ClickException):
            raise
        except MloopError as err:
            print_error(str(err))
            raise typer.Exit(err.exit_code) from None
        except BrokenPipeError:
            # The reader went away (``| head``): what it read is all it wanted.
            _quiet_stdout()
            raise typer.Exit(0) from None
        except (KeyboardInterrupt, typer.Abort):
            print_error("interrupted; nothing more was done", label="stopped:")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as err:  # every other exception is a bug
            report_internal_error(err)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper
