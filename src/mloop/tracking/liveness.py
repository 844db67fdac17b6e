"""Is the process running a run still alive? Owners, heartbeats and the derived DEAD state.

A run created (or resumed) through mloop records its owner, ``"<host>:<pid>"``,
and the owner's writer thread refreshes ``heartbeat_time`` every
:data:`HEARTBEAT_INTERVAL` seconds while the run is RUNNING. A reader derives
that a RUNNING run is dead when its owner is a process of this host that no
longer exists, or when its heartbeat is older than :data:`STALE_AFTER`
seconds (the owner may be on another host). Nothing is stored: the status
stays RUNNING, as MLflow users expect, and is shown as ``RUNNING (dead)``.

Example:
    >>> from mloop.entities import LifecycleStage, RunInfo, RunStatus
    >>> info = RunInfo("r", "1", "n", RunStatus.RUNNING, 0, None, LifecycleStage.ACTIVE, "",
    ...                owner=f"{socket.gethostname()}:{os.getpid()}", heartbeat_time=now_millis())
    >>> is_dead(info), status_text(info)
    (False, 'RUNNING')
"""

from __future__ import annotations

import os
import socket
import time

from mloop.entities import RunInfo, RunStatus

HEARTBEAT_INTERVAL = 30.0
"""Seconds between two heartbeats of the runs a process owns."""
STALE_AFTER = 3 * HEARTBEAT_INTERVAL + 30.0
"""Seconds without a heartbeat after which a RUNNING run is taken as dead."""


def now_millis() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def process_owner() -> str:
    """This process as an owner: ``"<host>:<pid>"`` (computed each time: forks change it).

    Example:
        >>> process_owner().endswith(f":{os.getpid()}")
        True
    """
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # it exists, as another user's process
    return False


def is_dead(info: RunInfo, now: int | None = None) -> bool:
    """True for a RUNNING run whose owner process is gone or silent for too long.

    Runs without an owner (logged before owners were recorded, or through a
    store that does not record them) are never called dead.
    """
    if info.status != RunStatus.RUNNING or not info.owner:
        return False
    host, _, pid = info.owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and _pid_gone(int(pid)):
        return True
    if info.heartbeat_time is None:
        return False
    now = now_millis() if now is None else now
    return now - info.heartbeat_time > STALE_AFTER * 1000


def status_text(info: RunInfo) -> str:
    """The run's status for people: ``RUNNING (dead)`` for a run whose process died."""
    return f"{info.status.value} (dead)" if is_dead(info) else info.status.value
