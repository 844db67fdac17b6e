"""The command line starts light: help and version load no database, array or storage library."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer

from mloop.cli.app import MloopCommands, app

HEAVY = ["sqlalchemy", "numpy", "pandas", "pyarrow", "fsspec", "alembic"]

# Runs the real `mloop` entry point in a fresh interpreter, then reports which of the
# heavy libraries and which command modules it imported.
RUNNER = """
import json, sys
sys.argv = ["mloop", *json.loads(sys.argv[1])]
from mloop.cli.app import main
try:
    main()
except SystemExit as done:
    code = done.code
else:
    code = 0
loaded = [m for m in sys.modules if m.split(".")[0] in HEAVY or m.startswith("mloop.cli.")]
sys.__stderr__.write("\\nLOADED " + json.dumps({"code": code, "modules": loaded}) + "\\n")
""".replace("HEAVY", repr(set(HEAVY)))


def _run(*args: str) -> tuple[int, list[str], str]:
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = completed.stderr.rpartition("\nLOADED ")[2]
    found = json.loads(report)
    return found["code"], found["modules"], completed.stdout


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


GROUPS = list(MloopCommands.lazy)
SUBCOMMANDS = [
    ["runs", "ls"],
    ["experiments", "ls"],
    ["data", "add"],
    ["data", "profile"],
    ["pipeline", "run"],
    ["models", "ls"],
    ["models", "gate"],
    ["keys", "init"],
]


@pytest.mark.parametrize("args", [["--help"], ["-h"], [], ["version"], ["version", "--json"]])
def test_top_level_loads_no_command_module(args: list[str]) -> None:
    code, modules, out = _run(*args)
    assert code in (0, 2), out  # `mloop` alone shows the help and exits 2, like click
    assert "Usage: mloop" in out or out.startswith(("mloop ", "{"))
    assert _heavy(modules) == []
    groups = {f"mloop.cli.{name}" for name in GROUPS} | {"mloop.cli.model_reviews"}
    assert groups & set(modules) == set()


@pytest.mark.parametrize("group", GROUPS)
def test_group_help_loads_no_heavy_library(group: str) -> None:
    code, modules, out = _run(group, "--help")
    assert code == 0
    assert f"Usage: mloop {group}" in out
    assert _heavy(modules) == []
    others = {f"mloop.cli.{name}" for name in GROUPS if name != group}
    assert others & set(modules) <= {"mloop.cli.model_reviews"}


@pytest.mark.parametrize("args", SUBCOMMANDS, ids=" ".join)
def test_command_help_loads_no_heavy_library(args: list[str]) -> None:
    code, modules, out = _run(*args, "--help")
    assert code == 0
    assert f"Usage: mloop {' '.join(args)}" in out
    assert _heavy(modules) == []


@pytest.mark.parametrize("group", GROUPS)
def test_listed_help_is_the_command_help(group: str) -> None:
    """The one-line help `mloop --help` shows without importing is the command's own."""
    root = typer.main.get_command(app)
    assert isinstance(root, MloopCommands)
    command = root.load(group)
    assert command.help is not None
    assert command.help.strip().splitlines()[0] == MloopCommands.lazy[group][1]


def test_unknown_command_suggests_lazy_names() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "mloop", "rnus"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2
    assert "No such command 'rnus'. Did you mean 'runs'?" in completed.stderr
