"""What every side-by-side benchmark script shares: child workers and memory figures.

Each (library, case) runs in its own child process — the calling script again,
started with ``--worker`` — in a fresh temporary directory, so libraries never
share import state and each child's peak memory is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size of this process (or its largest child), in MB."""
    rss = resource.getrusage(who).ru_maxrss
    return rss / 1e6 if sys.platform == "darwin" else rss / 1024


def spawn_worker(
    script: str,
    lib: str,
    case: str,
    sizes: Mapping[str, Any],
    timeout: float,
    environment: Callable[[Path], dict[str, str]],
    prefix: str = "bench",
) -> dict[str, Any]:
    """Run ``script --worker lib --case case`` in a fresh folder and return its JSON result.

    ``environment(workdir)`` gives the child's environment variables.
    """
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-{lib}-{case}-") as tmp:
        workdir = Path(tmp)
        result_file = workdir / "result.json"
        command = [
            sys.executable,
            str(Path(script).resolve()),
            "--worker",
            lib,
            "--case",
            case,
            "--workdir",
            str(workdir),
            "--result-file",
            str(result_file),
            "--sizes",
            json.dumps(dict(sizes)),
        ]
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                command,
                cwd=workdir,
                env=environment(workdir),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        wall = time.perf_counter() - start
        if proc.returncode != 0 or not result_file.exists():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            return {"error": f"exit code {proc.returncode}\n{tail}"}
        result: dict[str, Any] = json.loads(result_file.read_text())
        result["worker_wall_seconds"] = wall
        return result
