"""Where step attempts run: in this process, or in worker processes.

Executors take :class:`~mloop.pipelines.tasks.StepTask` s and hand back
:class:`~mloop.pipelines.tasks.StepResult` s; the runner does all tracking.
``local`` with ``max_workers=1`` runs steps one at a time in this process
(values stay in memory between steps). With ``max_workers > 1`` independent
steps run at the same time in worker processes started by a fork server and
reused from step to step; a worker whose step passes its timeout is stopped. ``ray`` (in
:mod:`mloop.pipelines.ray_executor`) runs each attempt as a Ray task; more
executors come from the ``mloop.executors`` entry-point group.

Example:
    >>> executor = InProcessExecutor(ContentStore("memory://executors-doc"))
    >>> executor.busy
    False
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection
import time
from typing import Any, Protocol

from mloop.artifacts.cas import ContentStore
from mloop.errors import InvalidInput
from mloop.pipelines.tasks import StepResult, StepTask, execute_in_worker, execute_step
from mloop.plugins import Registry


class Executor(Protocol):
    """Runs submitted step attempts and reports them as they finish."""

    @property
    def busy(self) -> bool:
        """True while a submitted attempt has not been reported yet."""
        ...

    def submit(self, task: StepTask, run: Any) -> None:
        """Queue an attempt; ``run`` is the step's run (for in-process logging)."""

    def wait(self, timeout: float | None) -> list[StepResult]:
        """Attempts finished within ``timeout`` seconds (at least one if any is queued)."""
        ...

    def close(self, *, kill: bool = False) -> None:
        """Release workers; ``kill`` stops running attempts."""


class InProcessExecutor:
    """One attempt at a time, in this process; outputs stay in memory for later steps."""

    def __init__(self, content: ContentStore) -> None:
        self._content = content
        self._queue: collections.deque[tuple[StepTask, Any]] = collections.deque()
        self._memo: dict[str, Any] = {}

    @property
    def busy(self) -> bool:
        """True while an attempt is queued."""
        return bool(self._queue)

    def submit(self, task: StepTask, run: Any) -> None:
        """Queue an attempt; it runs in :meth:`wait`."""
        self._queue.append((task, run))

    def wait(self, timeout: float | None) -> list[StepResult]:
        """Run the next queued attempt here and now."""
        if not self._queue:
            return []
        task, run = self._queue.popleft()
        result = execute_step(task, self._content, memo=self._memo, run=run)
        for name, stored in result.outputs.items():
            self._memo[stored.digest] = result.values[name]
        result.values = {}
        return [result]

    def close(self, *, kill: bool = False) -> None:
        """Forget queued attempts and values kept in memory."""
        self._queue.clear()
        self._memo.clear()


_PRELOAD = ("mloop.pipelines.tasks", "mloop.store.sql", "mloop.data.api")


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """A worker process: run attempts one after another until told to stop.

    Workers are reused across steps, so a step pays no process start-up;
    ``None`` (or the parent going away) ends the loop.
    """
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(execute_in_worker(task))


@dataclasses.dataclass
class _Worker:
    process: Any
    conn: multiprocessing.connection.Connection
    task: StepTask | None = None
    started: float = 0.0

    @property
    def deadline(self) -> float | None:
        timeout = None if self.task is None else self.task.timeout
        return None if timeout is None else self.started + timeout


class ProcessExecutor:
    """Up to ``max_workers`` attempts at once, in worker processes reused across steps.

    A worker is started (by a fork server) when an attempt finds none idle,
    and kept for the next one; a worker whose attempt passes its timeout is
    killed and replaced when needed, and one that dies reports its attempt
    as failed.
    """

    def __init__(self, max_workers: int) -> None:
        if max_workers < 1:
            raise InvalidInput(f"max_workers must be >= 1, got {max_workers}")
        self._max = max_workers
        self._context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported what every step needs (the
        # store, materializers, pandas): a new worker starts in milliseconds, not seconds.
        self._context.set_forkserver_preload(list(_PRELOAD))
        self._pending: collections.deque[StepTask] = collections.deque()
        self._workers: list[_Worker] = []

    @property
    def busy(self) -> bool:
        """True while an attempt is queued or running."""
        return bool(self._pending) or any(w.task is not None for w in self._workers)

    def submit(self, task: StepTask, run: Any) -> None:
        """Queue an attempt; it starts as soon as a worker is free."""
        if "<locals>" in task.step.reference:
            raise InvalidInput(
                f"step {task.step.name!r} is defined inside a function; with max_workers > 1 "
                "steps run in other processes, which import them by name: define it at "
                "module level"
            )
        self._pending.append(task)
        self._start_more()

    def _start_more(self) -> None:
        while self._pending:
            worker = next((w for w in self._workers if w.task is None), None)
            if worker is None:
                if len(self._workers) >= self._max:
                    return
                worker = self._spawn()
            task = self._pending.popleft()
            try:
                worker.conn.send(task)
            except (BrokenPipeError, OSError):  # it died while idle: replace it
                self._pending.appendleft(task)
                self._drop(worker)
                continue
            worker.task, worker.started = task, time.monotonic()

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve, args=(child,), name=f"mloop-worker-{len(self._workers)}", daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._workers.append(worker)
        return worker

    def _drop(self, worker: _Worker, *, kill: bool = False) -> None:
        if kill:
            worker.process.kill()
        worker.process.join()
        worker.conn.close()
        self._workers.remove(worker)

    def wait(self, timeout: float | None) -> list[StepResult]:
        """Attempts that finished (or passed their timeout and were stopped)."""
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            return []
        deadlines = [w.deadline for w in busy if w.deadline is not None]
        limit = timeout
        if deadlines:
            until_deadline = max(0.0, min(deadlines) - time.monotonic())
            limit = until_deadline if limit is None else min(limit, until_deadline)
        handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(multiprocessing.connection.wait(handles, timeout=limit))
        results = [r for w in busy if (r := self._collect(w, ready)) is not None]
        self._start_more()
        return results

    def _collect(self, worker: _Worker, ready: set[Any]) -> StepResult | None:
        task = worker.task
        assert task is not None
        if worker.conn in ready or worker.process.sentinel in ready:
            try:
                result: StepResult = worker.conn.recv()
            except (EOFError, OSError):
                self._drop(worker)
                code = worker.process.exitcode
                return StepResult(task.node, error=f"the worker process died (exit code {code})")
            worker.task = None  # idle: ready for the next attempt
            return result
        deadline = worker.deadline
        if deadline is not None and time.monotonic() >= deadline:
            self._drop(worker, kill=True)
            return StepResult(
                task.node,
                error=f"TimeoutError: step {task.node!r} took longer than {task.timeout:g} s "
                "and was stopped",
                seconds=time.monotonic() - worker.started,
            )
        return None

    def close(self, *, kill: bool = False) -> None:
        """Stop the workers: wait for running attempts (or with ``kill``, stop them)."""
        self._pending.clear()
        for worker in list(self._workers):
            if worker.task is not None and not kill:
                with contextlib.suppress(EOFError, OSError):
                    worker.conn.recv()  # let the attempt finish, as a step never stops midway
            if worker.task is None or not kill:
                with contextlib.suppress(BrokenPipeError, OSError):
                    worker.conn.send(None)
            self._drop(worker, kill=kill and worker.task is not None)


def _make_local(max_workers: int, content: ContentStore, address: str | None) -> Executor:
    if address is not None:
        raise InvalidInput("address= is for cluster executors; the local executor runs here")
    return InProcessExecutor(content) if max_workers == 1 else ProcessExecutor(max_workers)


registry = Registry(
    "mloop.executors",
    {"local": "mloop.pipelines.executors:_make_local", "ray": "mloop.pipelines.ray_executor:make"},
)
"""Executor factories ``(max_workers, content, address) -> Executor`` by name."""


def make_executor(
    name: str, max_workers: int | None, content: ContentStore, address: str | None = None
) -> Executor:
    """The executor called ``name`` (``local``, ``ray`` or an ``mloop.executors`` plugin).

    ``max_workers`` None means one at a time for ``local`` and no limit of
    mloop's own for cluster executors (the cluster schedules by resources).

    Raises:
        InvalidInput: an unknown executor or a bad worker count.
        MissingExtra: the executor's library is not installed.
    """
    if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
        raise InvalidInput(f"max_workers must be an int >= 1, got {max_workers!r}")
    if name not in registry.names():
        raise InvalidInput(f"unknown executor {name!r}; known: {', '.join(registry.names())}")
    if max_workers is None:
        max_workers = 1 if name == "local" else 1_000_000
    factory = registry.load(name)
    executor: Executor = factory(max_workers, content, address)
    return executor
