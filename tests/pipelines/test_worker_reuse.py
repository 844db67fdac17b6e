"""Parallel workers are reused from step to step: no process start-up per step."""

from __future__ import annotations

import os
from pathlib import Path

from tests.pipelines import reuse_flows


def test_steps_one_after_another_run_in_one_reused_worker(home: Path) -> None:
    run = reuse_flows.chain.run(n=4, max_workers=2)
    pids = {run.output(f"pid_after{suffix}") for suffix in ("", "_2", "_3", "_4")}
    assert len(pids) == 1
    assert os.getpid() not in pids  # in a worker, not here
