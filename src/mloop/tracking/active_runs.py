"""The fluent API's active runs: starting, using and ending them, one stack per thread.

A run started by :func:`start_run` stays active until :func:`end_run` or the
end of its ``with`` block; the fluent logging functions write to the top of
the stack. A program that exits with runs still active ends them: FINISHED at
a normal exit, FAILED or KILLED when it dies of an exception or a signal.

Example:
    >>> import mloop
    >>> with mloop.start_run() as run:
    ...     mloop.active_run() is run
    True
    >>> mloop.active_run() is None
    True
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from mloop.entities import Run, RunData, RunInfo, RunStatus
from mloop.errors import Conflict, InvalidInput, MloopError
from mloop.tracking import lifecycle, system_metrics
from mloop.tracking.client import Client
from mloop.tracking.fluent_target import current_client, experiment_id_for
from mloop.tracking.interrupts import Terminated

log = logging.getLogger(__name__)


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []


_runs = _State()
_last_run_id: str | None = None  # the run this process started last (last_active_run)


class ActiveRun:
    """The run a ``with mloop.start_run():`` block logs to.

    Leaving the block ends the run: FINISHED, or FAILED with the error recorded
    when an exception escapes (buffered data is flushed first either way).
    """

    def __init__(self, run: Run, client: Client) -> None:
        self._run = run
        self._client = client

    @property
    def info(self) -> RunInfo:
        """The run's info as it was when the run started."""
        return self._run.info

    @property
    def data(self) -> RunData:
        """The run's params, tags and latest metrics, read now."""
        return self._client.get_run(self._run.info.run_id).data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            end_run()
            return
        killed = isinstance(exc, KeyboardInterrupt | Terminated)
        status = RunStatus.KILLED if killed else RunStatus.FAILED
        _end(self, status, lifecycle.error_text(exc_type, exc, tb))


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume one by ``run_id``) and make it active.

    ``log_system_metrics`` (default: the ``log_system_metrics`` setting) samples
    CPU, memory, disk, network and GPUs as ``system/...`` metrics in the
    background until the run ends; see :mod:`mloop.tracking.system_metrics`.

    Raises:
        Conflict: a run is already active and ``nested`` is False.
        NotFound: ``run_id`` or ``experiment_id`` does not exist.
        MissingExtra: system metrics are asked for without psutil installed.
    """
    client = current_client()
    if log_system_metrics is None:
        log_system_metrics = client.settings.log_system_metrics
    if log_system_metrics:
        system_metrics.psutil_module()  # refuse before a run is created
    stack = _runs.stack
    if stack and not nested:
        raise Conflict(
            f"run {stack[-1].info.run_id} is already active; end it with mloop.end_run() "
            "or start this one with nested=True"
        )
    if run_id is not None:
        run = client.get_run(run_id)
        if run.info.lifecycle_stage.value == "deleted":
            raise Conflict(f"run {run_id} is deleted; restore it before resuming it")
        client.update_run(run_id, status=RunStatus.RUNNING)
        if tags:
            client.set_tags(run_id, tags)
    else:
        parent = parent_run_id or (stack[-1].info.run_id if stack else None)
        exp = experiment_id if experiment_id is not None else experiment_id_for(client)
        run = client.create_run(exp, run_name=run_name, tags=tags, parent_run_id=parent)
    global _last_run_id
    active = ActiveRun(run, client)
    stack.append(active)
    _last_run_id = run.info.run_id
    if log_system_metrics:
        _monitor(client, run.info.run_id)
    # A script that never ends its run and dies of an exception or SIGTERM
    # leaves it FAILED or KILLED, not FINISHED by the exit handler below.
    lifecycle.install(_end_active_runs)
    return active


def _monitor(client: Client, run_id: str) -> None:
    def log_sample(metrics: Mapping[str, float], step: int) -> None:
        client.log_metrics(run_id, metrics, step=step)  # queued: never waits on the store

    system_metrics.start_monitor(run_id, log_sample, client.settings.system_metrics_interval)


def _end_active_runs(status: RunStatus, error: str | None) -> None:
    while _runs.stack:
        try:
            _end(_runs.stack[-1], status, error)
        except MloopError as err:
            log.error("mloop could not end run: %s", err)


@contextlib.contextmanager
def use_run(run: Run) -> Iterator[ActiveRun]:
    """Make an existing run the active one inside the block, without starting or ending it.

    What the block logs through the fluent API goes to ``run``; pipelines run
    their steps this way.
    """
    active = ActiveRun(run, current_client())
    _runs.stack.append(active)
    try:
        yield active
    finally:
        if active in _runs.stack:
            _runs.stack.remove(active)


def _end(active: ActiveRun, status: RunStatus, error: str | None = None) -> None:
    stack = _runs.stack
    if active in stack:
        stack.remove(active)
    system_metrics.stop_monitor(active.info.run_id)
    active._client.set_terminated(active.info.run_id, status, error=error)


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run (no-op when none is active), flushing what it logged."""
    if _runs.stack:
        _end(_runs.stack[-1], RunStatus(status))


def _end_runs_at_exit() -> None:
    # Like MLflow: a script that never ends its run still leaves it FINISHED,
    # with everything it logged written.
    while _runs.stack:
        try:
            end_run()
        except MloopError as err:
            log.error("mloop could not end run at exit: %s", err)
            _runs.stack.pop()


atexit.register(_end_runs_at_exit)


def active_run() -> ActiveRun | None:
    """The active run of this thread, or None."""
    return _runs.stack[-1] if _runs.stack else None


def last_active_run() -> Run | None:
    """The active run, else the run this process started last (ended or not), read now.

    Example:
        >>> import mloop
        >>> with mloop.start_run() as run:  # doctest: +SKIP
        ...     pass
        >>> mloop.last_active_run().info.status  # doctest: +SKIP
        <RunStatus.FINISHED: 'FINISHED'>
    """
    run_id = _runs.stack[-1].info.run_id if _runs.stack else _last_run_id
    return None if run_id is None else current_client().get_run(run_id)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """Where the active run's artifacts live (``mloop-artifacts:/RUN``), or one of them.

    Example:
        >>> import mloop
        >>> with mloop.start_run() as run:  # doctest: +SKIP
        ...     mloop.get_artifact_uri("model") == f"mloop-artifacts:/{run.info.run_id}/model"
        True
    """
    root = current_client().get_run(active_run_id()).info.artifact_uri.rstrip("/")
    return f"{root}/{artifact_path.lstrip('/')}" if artifact_path else root


def active_run_id() -> str:
    """The active run's id, starting a run when none is active.

    Raises:
        InvalidInput: no run is active and none could be started.

    Example:
        >>> import mloop
        >>> with mloop.start_run() as run:
        ...     active_run_id() == run.info.run_id
        True
    """
    stack = _runs.stack
    if stack:
        return stack[-1].info.run_id
    try:
        return start_run().info.run_id
    except MloopError as err:
        raise InvalidInput(f"no active run, and none could be started: {err}") from err
