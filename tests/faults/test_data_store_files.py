"""Faults: adding or logging a folder that holds the store itself, or special files."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import pytest
from sklearn.linear_model import LinearRegression

import mloop
from mloop.errors import InvalidInput
from mloop.models.isolation import CODE
from tests.faults.processes import run_python

# The store lives in ./.mloop (MLOOP_HOME's default) inside the project folder being added.
_ADD_THE_PROJECT = """
    import os, subprocess, sys
    import mloop
    mloop.data.add("data", name="d1")
    with mloop.start_run():
        mloop.log_param("a", 1)
    mloop.data.add(".", name="whole")
    with mloop.start_run() as run:
        mloop.log_artifacts(".", "project")
    # Another process opens and closes the store: it must not take our WAL away.
    other = (
        "import sqlite3; c = sqlite3.connect('.mloop/mloop.db'); "
        "c.execute('select count(*) from runs').fetchone(); c.close()"
    )
    subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
    for i in range(3):
        with mloop.start_run():
            mloop.log_param("b", i)
            mloop.log_metric("m", 1.0)
    count = other.replace("c.execute", "print(c.execute").replace("fetchone()", "fetchone()[0])")
    seen = subprocess.run([sys.executable, "-c", count], capture_output=True, text=True, timeout=60)
    print(run.info.run_id, seen.stdout.strip(), flush=True)
    os._exit(0)  # dies without closing anything: what is committed must be in the store
"""

_READ_BACK = """
    import sys
    import mloop
    print(len(mloop.search_runs()))
    print("\\n".join(f.path for f in mloop.data.get("whole").info.files))
    print("\\n".join(a.path for a in mloop.Client().list_artifacts(sys.argv[-1], "project")))
"""


def _clean_env() -> dict[str, str]:
    return {"MLOOP_HOME": ".mloop", "MLOOP_TRACKING_URI": "", "MLOOP_ARTIFACTS_URI": ""}


def test_adding_the_project_folder_leaves_the_store_out_and_loses_no_commit(
    tmp_path: Path,
) -> None:
    project = tmp_path / "proj"
    (project / "data").mkdir(parents=True)
    (project / "data" / "x.csv").write_text("a\n1\n")
    (project / "train.py").write_text("print('train')\n")
    added = run_python(_ADD_THE_PROJECT, cwd=project, env=_clean_env())
    assert added.returncode == 0, added.stderr
    assert "left out" in added.stderr and ".mloop" in added.stderr
    run_id, seen_meanwhile = added.stdout.split()[-2:]
    assert seen_meanwhile == "5"  # another process sees every commit while this one lives
    fresh = run_python(
        _READ_BACK.replace("sys.argv[-1]", repr(run_id)), cwd=project, env=_clean_env()
    )
    assert fresh.returncode == 0, fresh.stderr
    lines = fresh.stdout.split()
    assert lines[0] == "5"  # every run committed, in a fresh process too
    assert sorted(lines[1:3]) == ["data/x.csv", "train.py"]
    assert sorted(lines[3:]) == ["project/data", "project/train.py"]


def test_the_store_itself_is_refused(home: Path, tmp_path: Path) -> None:
    with mloop.start_run():
        mloop.log_param("a", 1)
    with pytest.raises(InvalidInput, match="never versions its own store"):
        mloop.data.add(home, "store")
    with pytest.raises(InvalidInput, match="SQLite file"):
        mloop.data.add(home / "mloop.db", "db")
    with pytest.raises(InvalidInput, match="artifact root"), mloop.start_run():
        mloop.log_artifacts(home / "artifacts")
    (tmp_path / "rows.txt").write_text("1\n")
    mloop.data.add(tmp_path / "rows.txt", "rows")  # fills the hash cache
    with pytest.raises(InvalidInput, match="cache"):
        mloop.data.add(home / "cache" / "hashes.db", "cache")


def test_code_paths_leave_the_store_out(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = tmp_path / "code"
    project.mkdir()
    (project / "helpers.py").write_text("X = 1\n")
    os.symlink(home / "mloop.db", project / "db-link")
    mloop.data.add(project / "helpers.py", "touch")  # the store exists now
    with caplog.at_level(logging.WARNING):
        model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
        mloop.models.save(model, tmp_path / "model", code_paths=[project])
    copied = sorted(p.name for p in (tmp_path / "model" / CODE / "code").iterdir())
    assert copied == ["helpers.py"]
    assert "mloop.db" in caplog.text


def test_a_device_is_refused_with_a_clear_message(home: Path) -> None:
    with pytest.raises(InvalidInput, match="not a regular file or folder"):
        mloop.data.add("/dev/null", "null")
    with pytest.raises(InvalidInput, match="not a regular file or folder"), mloop.start_run():
        mloop.log_artifact("/dev/null")


def test_fifos_and_sockets_in_a_folder_are_left_out_unopened(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n1\n")
    os.mkfifo(folder / "pipe")  # opening it would block forever
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock"))
    try:
        with caplog.at_level(logging.WARNING):
            version = mloop.data.add(folder, "rows")
    finally:
        server.close()
    assert [f.path for f in version.info.files] == ["a.csv"]
    assert "pipe" in caplog.text and "sock" in caplog.text


def test_a_store_file_outside_home_is_left_out_too(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "rows.txt").write_text("1\n")
    monkeypatch.delenv("MLOOP_ARTIFACTS_URI")  # artifacts go beside runs.db: runs-artifacts/
    mloop.set_tracking_uri(f"sqlite:///{project}/runs.db")
    with mloop.start_run():
        mloop.log_text("notes", "notes.txt")
    assert (project / "runs.db-wal").exists() and (project / "runs-artifacts").is_dir()
    version = mloop.data.add(project, "proj")
    assert [f.path for f in version.info.files] == ["rows.txt"]
