"""Fault tests: a damaged metadata database gives a clear error, never a raw traceback.

Each case names the file, says it is damaged or not a database and what to do,
and exits 7 (StoreError: not a database) or 6 (IntegrityError: a damaged one).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import mloop
from mloop.errors import IntegrityError, StoreError
from mloop.tracking.connection import disconnect_all
from tests.cli.conftest import invoke, run_mloop


def _real_store(db: Path) -> bytes:
    """A store with a few runs, checkpointed into the file; returns its bytes."""
    client = mloop.Client(tracking_uri=f"sqlite:///{db}", artifacts_uri=str(db.parent / "a"))
    experiment = client.create_experiment("e")
    for i in range(40):
        run_id = client.create_run(experiment, run_name=f"r{i}").info.run_id
        client.log_param(run_id, "p", "x" * 200)
        client.set_terminated(run_id)
    disconnect_all()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db.read_bytes()


def _random_bytes(db: Path) -> None:
    db.write_bytes(os.urandom(8192))


def _truncated_header(db: Path) -> None:
    db.write_bytes(_real_store(db)[:10])


def _text_file(db: Path) -> None:
    db.write_text("these are my notes, not a database\n" * 20)


def _damaged_pages(db: Path) -> None:
    data = bytearray(_real_store(db))
    assert len(data) > 3 * 4096
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page after the first overwritten
    db.write_bytes(bytes(data))


def _truncated_body(db: Path) -> None:
    data = _real_store(db)
    db.write_bytes(data[: len(data) // 3])


CASES: list[tuple[str, Callable[[Path], None], int, str]] = [
    ("random bytes", _random_bytes, StoreError.exit_code, "is not an SQLite database"),
    ("truncated header", _truncated_header, StoreError.exit_code, "is not an SQLite database"),
    ("text file", _text_file, StoreError.exit_code, "is not an SQLite database"),
    ("damaged pages", _damaged_pages, IntegrityError.exit_code, "is damaged"),
    ("truncated body", _truncated_body, IntegrityError.exit_code, "is damaged"),
]


@pytest.mark.parametrize(
    ("damage", "code", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_damaged_database_gives_a_clear_error(
    home: Path, damage: Callable[[Path], None], code: int, says: str
) -> None:
    db = home / "mloop.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    damage(db)
    before = db.read_bytes()
    for args in (["runs", "ls"], ["experiments", "ls"], ["gc"]):
        exit_code, _, err = invoke(*args)
        disconnect_all()
        assert exit_code == code, (args, err)
        assert str(db) in err and says in err
        assert "backup" in err  # what to do
        assert "Traceback" not in err
    assert db.read_bytes() == before  # nothing written over it


def test_the_console_script_exits_cleanly_on_a_damaged_file(home: Path) -> None:
    db = home / "mloop.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    _damaged_pages(db)
    result = run_mloop("runs", "ls")
    assert result.returncode == IntegrityError.exit_code, result.stderr
    assert "Traceback" not in result.stderr
    assert str(db) in result.stderr.replace("\n", "")
    shutil.rmtree(home)
