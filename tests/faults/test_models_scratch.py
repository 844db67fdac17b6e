"""A ``log_model`` killed mid-way leaves nothing in ``$TMPDIR``; gc removes its scratch.

A real process is killed (SIGKILL) while ``log_model`` checks the package it is
writing (the model's ``predict`` on the input example blocks on a file).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mloop
from mloop.artifacts.cas import ContentStore
from mloop.artifacts.scratch import scratch, sweep
from mloop.tracking.connection import connect
from mloop.tracking.gc import collect_garbage

MODEL = textwrap.dedent(
    """
    import os, pathlib, time
    from mloop.models import PythonModel

    class Blocking(PythonModel):
        def predict(self, model_input):
            marker = pathlib.Path(os.environ["SCRATCH_TEST_DIR"])
            (marker / "predicting").write_text("")
            deadline = time.monotonic() + 30
            while not (marker / "never").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return [0] * len(model_input)
    """
)

SCRIPT = textwrap.dedent(
    """
    import os, pathlib
    import mloop
    from blocking_model import Blocking

    big = pathlib.Path(os.environ["SCRATCH_TEST_DIR"]) / "weights.bin"
    big.write_bytes(os.urandom(8 << 20))
    with mloop.start_run():
        mloop.models.log_model(
            Blocking(), "model", artifacts={"weights": str(big)}, input_example={"x": [1.0]}
        )
    """
)


class Echo(mloop.models.PythonModel):
    def predict(self, model_input: object) -> object:
        return model_input


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_killed_log_model_leaves_scratch_only_where_gc_cleans_it(
    home: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "blocking_model.py").write_text(MODEL)
    (work / "script.py").write_text(SCRIPT)
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "SCRATCH_TEST_DIR": str(work),
        "PYTHONPATH": os.pathsep.join([str(work), *sys.path]),
    }
    process = subprocess.Popen([sys.executable, "script.py"], cwd=work, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (work / "predicting").exists():
            assert process.poll() is None, "the script ended before log_model blocked"
            assert time.monotonic() < deadline, "log_model never reached the model's predict"
            time.sleep(0.02)
    finally:
        process.kill()
        process.wait(timeout=20)

    assert _files(tmpdir) == []  # nothing in $TMPDIR
    store_tmp = home / "artifacts" / "tmp"
    left = _files(store_tmp)
    assert sum(p.stat().st_size for p in left) >= 8 << 20  # the package being written

    content = connect(mloop.Client().settings).content
    stores = connect(mloop.Client().settings).stores
    kept = collect_garbage(stores, content, grace_seconds=3600)
    assert kept.temp_files == 0 and _files(store_tmp) == left  # younger than the grace period
    assert sweep(content, home / "tmp", cutoff=time.time() - 3600) == 0

    report = collect_garbage(stores, content, grace_seconds=0, scratch_fallback=home / "tmp")
    assert report.temp_files >= 1  # the scratch folder, with everything in it
    assert list(store_tmp.iterdir()) == []


def test_scratch_of_a_remote_store_is_a_local_folder_that_sweep_cleans(tmp_path: Path) -> None:
    content = ContentStore("memory://scratch-test")
    fallback = tmp_path / "home" / "tmp"
    with scratch(content, fallback, prefix="model-") as folder:
        assert folder.parent == fallback
        (folder / "f").write_bytes(b"x")
        assert sweep(content, fallback, cutoff=time.time() - 60) == 0  # still in use
    assert list(fallback.iterdir()) == []
    (fallback / "scratch-model-left" / "package").mkdir(parents=True)
    assert sweep(content, fallback, cutoff=time.time() + 1, dry_run=True) == 1
    assert sweep(content, fallback, cutoff=time.time() + 1) == 1
    assert list(fallback.iterdir()) == []


@pytest.mark.parametrize("with_code", [True, False])
def test_an_old_file_copied_into_a_package_gets_a_fresh_time(
    home: Path, tmp_path: Path, with_code: bool
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "data.txt").write_text("2")
    os.utime(old / "data.txt", (1_000_000, 1_000_000))
    package = tmp_path / "pkg"
    kwargs = {"code_paths": [old]} if with_code else {"artifacts": {"factor": old}}
    mloop.models.save(Echo(), package, **kwargs)  # type: ignore[arg-type]
    assert all(p.stat().st_mtime > 1_000_000 for p in package.rglob("*") if p.is_file())
