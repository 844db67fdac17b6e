"""Helpers for fault tests: run Python snippets in real subprocesses and stop them at chosen points.

A snippet signals that it reached a point by creating a file; the test
waits for that file (:func:`wait_for_file`) instead of sleeping, then sends
the signal it wants to test (:func:`stop`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
TIMEOUT = 60.0


def python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment with mloop's ``src`` first on PYTHONPATH, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH")) if p)
    env.update(extra or {})
    return env


def start_python(
    code: str, *, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``code`` (dedented) in a new Python process; stdout and stderr are captured."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=python_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_python(
    code: str, *, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` to its end in a new Python process and return what it did."""
    return _finish(start_python(code, cwd=cwd, env=env), timeout, f"did not finish in {timeout} s")


def wait_for_file(path: Path, process: subprocess.Popen[str], timeout: float = TIMEOUT) -> None:
    """Wait until ``path`` exists; fail with the process's output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"process exited {process.returncode} early:\n{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"{path} never appeared:\n{out}\n{err}")
        time.sleep(0.01)


def stop(
    process: subprocess.Popen[str], sig: signal.Signals, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Send ``sig`` and wait for the process to end; returns its exit status and output."""
    process.send_signal(sig)
    return _finish(process, timeout, f"ignored {sig.name}")


def _finish(
    process: subprocess.Popen[str], timeout: float, failure: str
) -> subprocess.CompletedProcess[str]:
    """Wait for the process to end; kill it and fail saying ``failure`` if it does not in time."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"process {failure}:\n{out}\n{err}") from None
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)
