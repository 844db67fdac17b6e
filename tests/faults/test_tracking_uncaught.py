"""Item 11: a script that starts a run without ``with`` and dies of an exception leaves it FAILED.

Each case runs a real Python process against the test's store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.entities import RunStatus
from mloop.tracking.client import Client
from tests.faults.processes import run_python

SCRIPT = """
import sys
import mloop
{before}
run = mloop.start_run(run_name="script")
mloop.log_metric("m", 1.0)
print(run.info.run_id)
{end}
"""


def _run_script(home: Path, end: str, before: str = "") -> tuple[int, str, str, str]:
    done = run_python(SCRIPT.format(before=before, end=end), cwd=home.parent)
    run_id = done.stdout.split()[0] if done.stdout.split() else ""
    return done.returncode, run_id, done.stdout, done.stderr


def test_an_uncaught_exception_ends_the_run_failed_with_the_traceback(home: Path) -> None:
    code, run_id, _, err = _run_script(home, 'raise ValueError("boom")')
    assert code == 1
    assert "ValueError: boom" in err  # the previous hook still prints the traceback
    run = Client().get_run(run_id)
    assert run.info.status == RunStatus.FAILED
    assert run.info.error is not None and "ValueError: boom" in run.info.error
    assert "Traceback" in run.info.error
    assert run.data.metrics == {"m": 1.0}


def test_keyboard_interrupt_ends_the_run_killed(home: Path) -> None:
    code, run_id, _, _ = _run_script(home, "raise KeyboardInterrupt")
    assert code != 0
    assert Client().get_run(run_id).info.status == RunStatus.KILLED


def test_the_programs_own_excepthook_is_still_called(home: Path) -> None:
    before = "def mine(t, e, tb):\n    print('mine saw', t.__name__)\nsys.excepthook = mine"
    code, run_id, out, _ = _run_script(home, "raise RuntimeError('x')", before)
    assert code == 1
    assert "mine saw RuntimeError" in out
    assert Client().get_run(run_id).info.status == RunStatus.FAILED


@pytest.mark.parametrize("end", ["", "sys.exit(0)"])
def test_a_normal_exit_still_finishes_the_run(home: Path, end: str) -> None:
    code, run_id, _, err = _run_script(home, end)
    assert code == 0, err
    assert Client().get_run(run_id).info.status == RunStatus.FINISHED
