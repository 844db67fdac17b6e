"""Where step attempts run: in this process, or in worker processes.

Executors take :class:`~mloop.pipelines.tasks.StepTask` s and hand back
:class:`~mloop.pipelines.tasks.StepResult` s; the runner does all tracking.
``local`` with ``max_workers=1`` runs steps one at a time in this process
(values stay in memory between steps). With ``max_workers > 1`` independent
steps run at the same time, each in a process of its own started by a fork
server, which is stopped when the step passes its timeout. ``ray`` (in
:mod:`mloop.pipelines.ray_executor`) runs each attempt as a Ray task; more
executors come from the ``mloop.executors`` entry-point group.

Example:
    >>> executor = InProcessExecutor(ContentStore("memory://executors-doc"))
    >>> executor.busy
    False
"""

from __future__ import annotations

import collections
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


def _child(task: StepTask, conn: multiprocessing.connection.Connection) -> None:
    """A worker process: run the attempt and send the result back."""
    conn.send(execute_in_worker(task))
    conn.close()


@dataclasses.dataclass
class _Running:
    task: StepTask
    process: Any
    conn: multiprocessing.connection.Connection
    started: float

    @property
    def deadline(self) -> float | None:
        timeout = self.task.timeout
        return None if timeout is None else self.started + timeout


class ProcessExecutor:
    """Up to ``max_workers`` attempts at once, each in a process of its own."""

    def __init__(self, max_workers: int) -> None:
        if max_workers < 1:
            raise InvalidInput(f"max_workers must be >= 1, got {max_workers}")
        self._max = max_workers
        self._context = multiprocessing.get_context("forkserver")
        self._pending: collections.deque[StepTask] = collections.deque()
        self._running: dict[str, _Running] = {}

    @property
    def busy(self) -> bool:
        """True while an attempt is queued or running."""
        return bool(self._pending or self._running)

    def submit(self, task: StepTask, run: Any) -> None:
        """Queue an attempt; it starts as soon as a worker slot is free."""
        if "<locals>" in task.step.reference:
            raise InvalidInput(
                f"step {task.step.name!r} is defined inside a function; with max_workers > 1 "
                "steps run in other processes, which import them by name: define it at "
                "module level"
            )
        self._pending.append(task)
        self._start_more()

    def _start_more(self) -> None:
        while self._pending and len(self._running) < self._max:
            task = self._pending.popleft()
            reader, writer = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=_child, args=(task, writer), name=f"mloop-step-{task.node}", daemon=True
            )
            process.start()
            writer.close()
            self._running[task.node] = _Running(task, process, reader, time.monotonic())

    def wait(self, timeout: float | None) -> list[StepResult]:
        """Attempts that finished (or passed their timeout and were stopped)."""
        if not self._running:
            return []
        deadlines = [r.deadline for r in self._running.values() if r.deadline is not None]
        limit = timeout
        if deadlines:
            until_deadline = max(0.0, min(deadlines) - time.monotonic())
            limit = until_deadline if limit is None else min(limit, until_deadline)
        handles: list[Any] = [r.conn for r in self._running.values()]
        handles += [r.process.sentinel for r in self._running.values()]
        ready = set(multiprocessing.connection.wait(handles, timeout=limit))
        results = []
        for node, running in list(self._running.items()):
            result = self._collect(running, ready)
            if result is not None:
                results.append(result)
                del self._running[node]
        self._start_more()
        return results

    def _collect(self, running: _Running, ready: set[Any]) -> StepResult | None:
        node = running.task.node
        if running.conn in ready or running.process.sentinel in ready:
            try:
                result: StepResult = running.conn.recv()
            except (EOFError, OSError):
                running.process.join()
                code = running.process.exitcode
                result = StepResult(node, error=f"the worker process died (exit code {code})")
            running.process.join()
            running.conn.close()
            return result
        deadline = running.deadline
        if deadline is not None and time.monotonic() >= deadline:
            running.process.kill()
            running.process.join()
            running.conn.close()
            return StepResult(
                node,
                error=f"TimeoutError: step {node!r} took longer than {running.task.timeout:g} s "
                "and was stopped",
                seconds=time.monotonic() - running.started,
            )
        return None

    def close(self, *, kill: bool = False) -> None:
        """Wait for (or with ``kill``, stop) running attempts; drop queued ones."""
        self._pending.clear()
        for running in self._running.values():
            if kill:
                running.process.kill()
            running.process.join()
            running.conn.close()
        self._running.clear()


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
