"""Shared helpers of the CLI tests: run a command in-process or as the real console script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mloop.cli import output
from mloop.cli.app import app

MLOOP = Path(sys.executable).with_name("mloop")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``mloop *args`` in-process; returns exit code, stdout and stderr without colours."""
    environment = {"COLUMNS": "200", **(env or {})}
    result = CliRunner().invoke(app, list(args), prog_name="mloop", env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


def run_mloop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``mloop`` console script as a user would."""
    return subprocess.run(
        [str(MLOOP), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables at 200 columns, whatever COLUMNS was when the consoles were created.

    Rich reads COLUMNS once, when a console is created, and pytest-xdist workers run
    with COLUMNS=80; a wide console keeps run ids and digests on one line.
    """
    for console in (output.console(), output.err_console()):
        monkeypatch.setattr(console, "_width", 200)
