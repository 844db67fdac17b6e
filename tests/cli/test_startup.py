"""The command line starts light: help and version load no database, array or storage library.

And the commands users time load only what they use: ``mloop data add`` on a
local store at head loads neither PostgreSQL's dialect, fsspec, pydantic, Rich
(into a pipe) nor the array libraries; ``mloop runs ls`` none of those but Rich.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from mloop.cli.app import MloopCommands, app

HEAVY = ["sqlalchemy", "numpy", "pandas", "pyarrow", "fsspec", "alembic", "pydantic"]

# Runs the real `mloop` entry point in a fresh interpreter, then reports every module
# it imported.
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
sys.__stderr__.write("\\nLOADED " + json.dumps({"code": code, "modules": list(sys.modules)}) + "\\n")
"""


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[int, list[str], str]:
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=cwd,
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


# What a command on a local SQLite store never needs: PostgreSQL's dialect (and the
# asyncpg one with it), fsspec, pydantic, the array libraries, Alembic (the store is at
# head), and Rich when the output goes into a pipe.
UNUSED_ON_A_LOCAL_STORE = [
    "sqlalchemy.dialects.postgresql",
    "fsspec",
    "pydantic",
    "numpy",
    "pandas",
    "pyarrow",
    "alembic",
]


def _unused_loaded(modules: list[str], unused: list[str]) -> list[str]:
    return sorted({u for u in unused for m in modules if m == u or m.startswith(f"{u}.")})


@pytest.fixture
def local_store(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A SQLite store and a local artifact root, as MLOOP_HOME names them; and a file in it.

    Not a table: a new version of a table is profiled, which is work (pyarrow), not start-up.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    env["MLOOP_HOME"] = str(tmp_path / ".mloop")
    data = tmp_path / "weights.bin"
    data.write_bytes(b"first")
    code, _, out = _run("data", "add", str(data), "-n", "weights", env=env, cwd=tmp_path)
    assert code == 0, out
    return env, data


def test_data_add_on_a_store_at_head_loads_only_what_it_uses(
    local_store: tuple[dict[str, str], Path],
) -> None:
    env, data = local_store
    data.write_bytes(b"second")  # a new version
    code, modules, out = _run("data", "add", str(data), "-n", "weights", env=env, cwd=data.parent)
    assert code == 0
    assert out.startswith("weights@2  1 file(s)")
    assert _unused_loaded(modules, [*UNUSED_ON_A_LOCAL_STORE, "rich", "yaml"]) == []
    code, modules, out = _run("data", "add", str(data), "-n", "weights", env=env, cwd=data.parent)
    assert (code, out.split()[0]) == (0, "weights@2")  # unchanged: the same version
    assert _unused_loaded(modules, [*UNUSED_ON_A_LOCAL_STORE, "rich", "yaml"]) == []


def test_runs_ls_loads_only_what_it_uses(local_store: tuple[dict[str, str], Path]) -> None:
    env, data = local_store
    code, modules, out = _run("runs", "ls", env=env, cwd=data.parent)
    assert code == 0
    assert "Runs (0)" in out
    assert _unused_loaded(modules, UNUSED_ON_A_LOCAL_STORE) == []
