"""Pipelines whose steps report the process they ran in (imported by name in workers)."""

from __future__ import annotations

import os

import mloop


@mloop.step(cache=False)
def pid_after(previous: int) -> int:
    """The worker's process id (``previous`` only orders the steps)."""
    return os.getpid() if previous >= 0 else -1


@mloop.pipeline
def chain(n: int = 4) -> None:
    value = pid_after(0)
    for _ in range(n - 1):
        value = pid_after(value)
