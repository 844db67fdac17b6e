"""Two processes writing one SQLite store at once lose nothing; process exit flushes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mloop

WRITER = """
import sys, mloop
mloop.set_experiment("shared")
with mloop.start_run(run_name=sys.argv[1]):
    mloop.log_params({"worker": sys.argv[1]})
    for step in range(int(sys.argv[2])):
        mloop.log_metric("m", float(step), step=step)
        if step % 500 == 0:
            mloop.set_tag("progress", str(step))
"""

NO_EXPLICIT_END = """
import mloop
mloop.set_experiment("exit")
mloop.start_run(run_name="no-end")
for i in range(1000):
    mloop.log_metric("m", float(i), step=i)
"""


def _run(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def test_two_processes_log_to_one_sqlite_file(home: Path) -> None:
    points = 20_000
    procs = [_run(WRITER, f"w{i}", str(points)) for i in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    runs = mloop.search_runs(experiment_names=["shared"], output_format="list")
    assert sorted(r.info.run_name for r in runs) == ["w0", "w1"]
    for run in runs:
        assert run.info.status.value == "FINISHED"
        history = mloop.get_metric_history(run.info.run_id, "m")
        assert [m.step for m in history] == list(range(points))
        assert run.data.metrics == {"m": float(points - 1)}
        assert run.data.tags["progress"] == str(
            points - points % 500 if points % 500 else points - 500
        )


def test_process_exit_flushes_and_ends_the_run(home: Path) -> None:
    proc = _run(NO_EXPLICIT_END)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    (run,) = mloop.search_runs(experiment_names=["exit"], output_format="list")
    assert len(mloop.get_metric_history(run.info.run_id, "m")) == 1000
    assert run.info.status.value == "FINISHED"
