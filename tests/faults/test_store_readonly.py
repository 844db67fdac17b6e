"""Fault tests: looking into a folder without a store never creates one.

`mloop runs ls` in the wrong folder used to leave an empty `.mloop/` behind and
print an empty table; now every command that only reads reports the store it
looked for, how to point at another, and exits 3 (NotFound).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.errors import NotFound
from tests.cli.conftest import invoke, run_mloop

READ_ONLY = [
    ["runs", "ls"],
    ["runs", "show", "0" * 32],
    ["runs", "compare", "0" * 32, "1" * 32],
    ["runs", "delete", "0" * 32],
    ["experiments", "ls"],
    ["models", "ls"],
    ["models", "show", "credit"],
    ["models", "history", "credit"],
    ["data", "ls"],
    ["data", "show", "raw@1"],
    ["data", "lineage", "raw@1"],
    ["pipeline", "ls"],
    ["pipeline", "show", "0" * 32],
    ["keys", "ls"],
    ["gc"],
]


@pytest.fixture
def nowhere(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder and no MLOOP_* variables: the default store is ./.mloop."""
    for name in ("MLOOP_HOME", "MLOOP_TRACKING_URI", "MLOOP_ARTIFACTS_URI"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("args", READ_ONLY, ids=[" ".join(a[:2]) for a in READ_ONLY])
def test_read_only_commands_never_create_a_store(nowhere: Path, args: list[str]) -> None:
    code, out, err = invoke(*args)
    assert code == NotFound.exit_code, (out, err)
    message = err.replace("\n", "")
    assert str(nowhere / ".mloop" / "mloop.db") in message  # which store it looked for
    assert "MLOOP_HOME" in message and "MLOOP_TRACKING_URI" in message  # how to point elsewhere
    assert list(nowhere.iterdir()) == []


def test_a_named_store_that_does_not_exist_is_not_created(nowhere: Path, tmp_path: Path) -> None:
    target = tmp_path / "typo" / "mloop.db"
    code, _, err = invoke("--tracking-uri", f"sqlite:///{target}", "runs", "ls")
    assert code == NotFound.exit_code
    assert str(target) in err.replace("\n", "")
    assert not target.parent.exists()


def test_the_console_script_creates_nothing(nowhere: Path) -> None:
    result = run_mloop("runs", "ls", "--json")
    assert result.returncode == NotFound.exit_code, result.stderr
    assert result.stdout == ""
    assert list(nowhere.iterdir()) == []


def test_commands_that_write_still_start_a_store(nowhere: Path) -> None:
    (nowhere / "d.csv").write_text("a\n1\n")
    code, _, err = invoke("data", "add", "d.csv", "--name", "raw")
    assert code == 0, err
    assert (nowhere / ".mloop" / "mloop.db").is_file()
    code, out, err = invoke("data", "ls")
    assert code == 0, err
    assert "raw" in out
