"""The Ray executor: every step attempt is a Ray task with the step's resources.

Inputs and outputs travel through the artifact store by digest, so an attempt
can run on any node that reaches the metadata store and the artifact store
(on a cluster: PostgreSQL and object storage rather than local files). Ray is
started locally when no cluster is running, or joined at ``address``.

Example:
    >>> RayExecutor.__name__  # needs ``pip install 'mloop[ray]'`` to run
    'RayExecutor'
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from mloop.artifacts.cas import ContentStore
from mloop.errors import InvalidInput, MissingExtra
from mloop.pipelines.tasks import StepResult, StepTask, execute_in_worker


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingExtra("the ray executor", extra="ray") from None
    return ray


class RayExecutor:
    """Step attempts as Ray tasks, at most ``max_workers`` at once."""

    def __init__(self, max_workers: int, address: str | None = None) -> None:
        ray = _import_ray()
        self._ray = ray
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=True)
        self._remote = ray.remote(execute_in_worker)
        self._max = max_workers
        self._pending: list[StepTask] = []
        self._running: dict[Any, tuple[StepTask, float]] = {}
        self._total = ray.cluster_resources()

    @property
    def busy(self) -> bool:
        """True while an attempt is queued or running."""
        return bool(self._pending or self._running)

    def submit(self, task: StepTask, run: Any) -> None:
        """Queue an attempt; it starts as soon as fewer than ``max_workers`` run."""
        if task.step.func.__module__ == "__main__":  # a script's steps: Ray workers lack it
            task = dataclasses.replace(task, step=task.step.by_value())
        self._pending.append(task)
        self._start_more()

    def _infeasible(self, task: StepTask) -> str | None:
        wanted = task.step.options.resources
        for name, amount in (("CPU", wanted.cpus), ("GPU", wanted.gpus)):
            if amount > self._total.get(name, 0):
                return (
                    f"step {task.node!r} asks for {amount:g} {name}, but the Ray cluster has "
                    f"{self._total.get(name, 0):g}"
                )
        return None

    def _start_more(self) -> None:
        while self._pending and len(self._running) < self._max:
            task = self._pending.pop(0)
            wanted = task.step.options.resources
            options: dict[str, Any] = {
                "num_cpus": wanted.cpus,
                "num_gpus": wanted.gpus,
                "max_retries": 0,  # retries are the runner's, with backoff and tracking
                "name": f"mloop-step-{task.node}",
            }
            if wanted.memory is not None:
                options["memory"] = wanted.memory
            reason = self._infeasible(task)
            if reason is not None:
                self._running[_Refused(task, reason)] = (task, time.monotonic())
                continue
            ref = self._remote.options(**options).remote(task)
            self._running[ref] = (task, time.monotonic())

    def wait(self, timeout: float | None) -> list[StepResult]:
        """Attempts that finished, or passed their timeout and were cancelled."""
        refused = [ref for ref in self._running if isinstance(ref, _Refused)]
        if refused:
            for ref in refused:
                del self._running[ref]
            self._start_more()
            return [
                StepResult(ref.task.node, error=f"InvalidInput: {ref.reason}") for ref in refused
            ]
        if not self._running:
            return []
        deadlines = [
            started + task.timeout
            for task, started in self._running.values()
            if task.timeout is not None
        ]
        limit = timeout
        if deadlines:
            until = max(0.0, min(deadlines) - time.monotonic())
            limit = until if limit is None else min(limit, until)
        refs = list(self._running)
        ready, _ = self._ray.wait(refs, num_returns=1, timeout=limit)
        results = []
        for ref in ready:
            task, started = self._running.pop(ref)
            try:
                result = self._ray.get(ref)
            except Exception as err:  # the worker died, or Ray failed the task
                result = StepResult(task.node, error=f"{type(err).__name__}: {err}")
                result.seconds = time.monotonic() - started
            results.append(result)
        now = time.monotonic()
        for ref, (task, started) in list(self._running.items()):
            if task.timeout is not None and now >= started + task.timeout:
                self._ray.cancel(ref, force=True)
                del self._running[ref]
                results.append(
                    StepResult(
                        task.node,
                        error=f"TimeoutError: step {task.node!r} took longer than "
                        f"{task.timeout:g} s and was cancelled",
                        seconds=now - started,
                    )
                )
        self._start_more()
        return results

    def close(self, *, kill: bool = False) -> None:
        """Cancel (with ``kill``) or forget running attempts; Ray itself keeps running."""
        if kill:
            for ref in self._running:
                if not isinstance(ref, _Refused):
                    self._ray.cancel(ref, force=True)
        self._pending.clear()
        self._running.clear()


class _Refused:
    """An attempt the cluster can never place, reported as failed on the next wait."""

    def __init__(self, task: StepTask, reason: str) -> None:
        self.task = task
        self.reason = reason


def make(max_workers: int, content: ContentStore, address: str | None) -> RayExecutor:
    """The ``mloop.executors`` factory for ``ray``."""
    if max_workers < 1:
        raise InvalidInput(f"max_workers must be >= 1, got {max_workers}")
    return RayExecutor(max_workers, address)
