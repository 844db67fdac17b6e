"""Running a pipeline's DAG: scheduling, caching, retries, tracking, resume.

Every pipeline run is a run (tag ``mloop.kind=pipeline``, its params, the DAG
as ``pipeline/graph.json``); every step a nested run (``mloop.kind=step``)
with its params, printed output, duration, status and error. Every output is
an object in the artifact store, recorded as the step run's artifact
``outputs/<name>`` and as a lineage edge (input digests → step run → output
digests).

Example:
    >>> PipelineRun("ab" * 16, "training", "FINISHED", {}).ok
    True
"""

from __future__ import annotations

import collections
import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.entities import Run, RunIO, RunStatus
from mloop.errors import Conflict, NotFound, PipelineFailed
from mloop.pipelines import materializers
from mloop.pipelines.cache import cache_key
from mloop.pipelines.executors import Executor, InProcessExecutor, make_executor
from mloop.pipelines.freshness import READS_KEY, key_params, still_current
from mloop.pipelines.graph import Graph, Node, PipelineDefinition
from mloop.pipelines.history import (
    CACHE_TAG,
    KIND,
    NODE_TAG,
    OUTPUTS_TAG,
    StepState,
    close_dead_steps,
    finished_steps,
    step_runs,
)
from mloop.pipelines.tasks import StepResult, StepTask, StoredValue, worker_settings
from mloop.store.protocols.steps import StepCacheStore
from mloop.tracking import fluent
from mloop.tracking.client import Client
from mloop.tracking.reads import Read

__all__ = [
    "KIND",
    "NODE_TAG",
    "PipelineRun",
    "StepState",
    "run_pipeline",
    "step_cache",
    "step_runs",
]


@dataclasses.dataclass(frozen=True)
class PipelineRun:
    """A finished pipeline run: its run id, status and each step's state."""

    run_id: str
    name: str
    status: str
    steps: Mapping[str, StepState]

    @property
    def ok(self) -> bool:
        """True when every step finished."""
        return self.status == RunStatus.FINISHED.value

    def output(self, step: str, name: str = "output") -> Any:
        """The value of a step's output, read back from the artifact store.

        Raises:
            NotFound: no such step or output (or the step did not finish).
        """
        state = self.steps.get(step)
        if state is None or name not in state.outputs:
            known = sorted(self.steps) if state is None else sorted(state.outputs)
            raise NotFound(
                f"pipeline run {self.run_id} has no output {step}.{name}; known: {known}"
            )
        stored = state.outputs[name]
        data = fluent.current_client().content.get_bytes(stored.digest)
        return materializers.by_name(stored.materializer).loads(data)


def step_cache(client: Client) -> StepCacheStore:
    """The step cache in the client's metadata store (part of its store set)."""
    return client.stores.steps


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _experiment_id(client: Client, experiment: str | None) -> str:
    if experiment is None:
        return fluent.current_experiment_id()
    found = client.get_experiment_by_name(experiment)
    return found.experiment_id if found is not None else client.create_experiment(experiment)


class _Scheduler:
    """One pipeline run in progress."""

    def __init__(
        self,
        graph: Graph,
        client: Client,
        run_id: str,
        experiment_id: str,
        *,
        use_cache: bool,
        executor: Executor,
        done: Mapping[str, StepState],
    ) -> None:
        self.graph = graph
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.use_cache = use_cache
        self.content = client.content
        # What a worker opens: this run's stores, resolved here (not from its environment).
        self.settings = worker_settings(client)
        self.cache = step_cache(client)
        self.executor = executor
        self.in_processes = not isinstance(executor, InProcessExecutor)
        self.states: dict[str, StepState] = dict(done)
        self.waiting = {n: len(graph.upstream(n)) for n in graph.nodes}
        self.consumers = graph.downstream()
        self.ready: collections.deque[str] = collections.deque()
        self.runs: dict[str, Run] = {}
        self.keys: dict[str, str] = {}
        self.attempts: dict[str, int] = {}
        self.delayed: list[tuple[float, StepTask]] = []
        self.failure: tuple[str, str] | None = None
        # New cache entries, written together when the run ends (they serve later runs).
        self.cached: dict[str, tuple[str, dict[str, Any]]] = {}

    # -- the loop ----------------------------------------------------------------

    def run(self) -> None:
        for node_id in self.graph.nodes:
            if self.waiting[node_id] == 0 and node_id not in self.states:
                self.ready.append(node_id)
        for node_id in list(self.states):  # finished in an earlier attempt (resume)
            self._release(node_id)
        try:
            self._loop()
        except BaseException:
            self.executor.close(kill=True)
            for node_id, run in self.runs.items():
                if node_id not in self.states:
                    self.client.set_terminated(run.info.run_id, RunStatus.KILLED)
                    self.states[node_id] = StepState(node_id, "KILLED", run.info.run_id)
            raise
        finally:
            self.cache.put_many(self.cached)
        self.executor.close()

    def _loop(self) -> None:
        while True:
            while self.ready and self.failure is None:
                self._start(self.graph.nodes[self.ready.popleft()])
            now = time.monotonic()
            for due in [d for d in self.delayed if d[0] <= now]:
                self.delayed.remove(due)
                self._submit(due[1])
            if not self.executor.busy and not self.delayed:
                return
            wait = None
            if self.delayed:
                wait = max(0.0, min(d[0] for d in self.delayed) - time.monotonic())
            for result in self.executor.wait(wait):
                self._finished(result)

    def _release(self, node_id: str) -> None:
        # Called once per finished node: its consumers may now be ready.
        for consumer in sorted(self.consumers[node_id]):
            self.waiting[consumer] -= 1
            if self.waiting[consumer] == 0 and consumer not in self.states:
                self.ready.append(consumer)

    # -- one step ----------------------------------------------------------------

    def _inputs(self, node: Node) -> dict[str, StoredValue]:
        return {p: self.states[r.node].outputs[r.name] for p, r in node.inputs.items()}

    def _start(self, node: Node) -> None:
        step = node.step
        assert step is not None
        inputs = self._inputs(node)
        named = {}
        for output in step.outputs:
            chosen = step.materializer_for(output)
            named[output.name] = chosen.name if chosen is not None else "auto"  # from the value
        digests = {p: v.digest for p, v in inputs.items()}
        # A param naming a dataset by a moving reference keys on the version it names now.
        params = key_params(node.params) if step.options.cache else node.params
        key = cache_key(step.reference, step.source_digest, params, digests, named)
        self.keys[node.id] = key
        if self.use_cache and step.options.cache and self._from_cache(node, key, inputs):
            return
        run = self._create_step_run(node, key, {})
        self.runs[node.id] = run
        self.attempts[node.id] = 1
        self._submit(self._task(node, inputs, run, attempt=1))

    def _task(self, node: Node, inputs: dict[str, StoredValue], run: Run, attempt: int) -> StepTask:
        assert node.step is not None
        return StepTask(
            node=node.id,
            step=node.step,
            params=node.params,
            inputs=inputs,
            settings=self.settings,
            run_id=run.info.run_id,
            attempt=attempt,
            lists=node.lists,
        )

    def _submit(self, task: StepTask) -> None:
        # A worker process reads its step run from the store: on record before it runs.
        # In this process it need not be: a step whose start a crash lost has simply
        # not run, and its end (which a resume must see) is written before the next
        # step starts, so a step costs one transaction.
        if not isinstance(self.executor, InProcessExecutor):
            self.client.flush()
        self.executor.submit(task, self.runs[task.node])

    def _create_step_run(self, node: Node, key: str, extra: Mapping[str, str]) -> Run:
        assert node.step is not None
        tags = {
            KIND: "step",
            NODE_TAG: node.id,
            "mloop.step.name": node.step.name,
            "mloop.step.ref": node.step.reference,
            "mloop.step.cache_key": key,
            **extra,
        }
        run = self.client.create_run(
            self.experiment_id,
            run_name=node.id,
            tags=tags,
            parent_run_id=self.run_id,
            capture_environment=False,  # the pipeline run records where it runs
        )
        if node.params:
            self.client.log_params(
                run.info.run_id, {k: _param_text(v) for k, v in node.params.items()}
            )
        return run

    def _from_cache(self, node: Node, key: str, inputs: dict[str, StoredValue]) -> bool:
        hit = self.cache.get(key)
        if hit is None:
            return False
        source_run, raw = hit
        if READS_KEY not in raw:
            # Written before reads were recorded: what the step read is unknown, so it
            # runs again (and its entry is replaced by one that records them).
            return False
        recorded = [Read.from_dict(r) for r in raw.pop(READS_KEY)]
        outputs = {name: StoredValue(**value) for name, value in raw.items()}
        if not all(self.content.exists(v.digest) for v in outputs.values()):
            self.cache.forget(key)  # its objects were garbage-collected
            return False
        if not still_current(recorded):
            # A dataset or model it read moved on: it runs again (and its entry is replaced).
            return False
        run = self._create_step_run(
            node, key, {"mloop.step.cached": "true", "mloop.step.cached_from": source_run}
        )
        self._record_outputs(node, run.info.run_id, inputs, outputs, recorded)
        self.client.set_terminated(run.info.run_id, RunStatus.FINISHED)
        self.client.flush()  # a finished step is on record before the next one starts
        self.states[node.id] = StepState(node.id, "FINISHED", run.info.run_id, True, 0.0, outputs)
        self._release(node.id)
        return True

    def _record_outputs(
        self,
        node: Node,
        run_id: str,
        inputs: dict[str, StoredValue],
        outputs: Mapping[str, StoredValue],
        recorded: Sequence[Read] = (),
    ) -> None:
        assert node.step is not None
        self.client.set_tag(
            run_id, OUTPUTS_TAG, json.dumps({k: v.as_dict() for k, v in outputs.items()})
        )
        files = [
            (f"outputs/{n}{materializers.by_name(v.materializer).suffix}", v.digest, v.size)
            for n, v in outputs.items()
        ]
        self.client.record_artifacts(run_id, files)
        edges = [
            RunIO(v.digest, p, "artifact", "input", f"{node.inputs[p].node}.{node.inputs[p].name}")
            for p, v in inputs.items()
        ]
        edges += [RunIO(v.digest, n, "artifact", "output", node.id) for n, v in outputs.items()]
        edges += [read.as_run_io() for read in recorded]
        if edges:
            self.client.log_inputs(run_id, edges)

    def _finished(self, result: StepResult) -> None:
        node = self.graph.nodes[result.node]
        run_id = self.runs[node.id].info.run_id
        attempt = self.attempts[node.id]
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            if text:
                self.client.log_text(run_id, text, f"logs/attempt-{attempt}/{stream}.txt")
        if result.ok:
            inputs = self._inputs(node)
            self._record_outputs(node, run_id, inputs, result.outputs, result.reads)
            self.client.set_terminated(run_id, RunStatus.FINISHED)
            # On record before anything else runs: a resume after a crash never repeats it.
            self.client.flush()
            assert node.step is not None
            if node.step.options.cache:
                entry: dict[str, Any] = {k: v.as_dict() for k, v in result.outputs.items()}
                entry[READS_KEY] = [read.as_dict() for read in result.reads]
                self.cached[self.keys[node.id]] = (run_id, entry)
            self.states[node.id] = StepState(
                node.id, "FINISHED", run_id, False, result.seconds, result.outputs
            )
            self._release(node.id)
            return
        error = result.error or "unknown error"
        self.client.log_text(run_id, error, f"logs/attempt-{attempt}/error.txt")
        assert node.step is not None
        options = node.step.options
        if attempt <= options.retries and self.failure is None:
            self.attempts[node.id] = attempt + 1
            self.client.set_tag(run_id, "mloop.step.attempts", str(attempt + 1))
            task = self._task(node, self._inputs(node), self.runs[node.id], attempt + 1)
            self.delayed.append((time.monotonic() + options.delay(attempt), task))
            return
        self.client.set_terminated(run_id, RunStatus.FAILED, error=error)
        self.states[node.id] = StepState(
            node.id, "FAILED", run_id, False, result.seconds, error=error
        )
        if self.failure is None:
            self.failure = (node.id, error)


def run_pipeline(
    pipeline: PipelineDefinition,
    params: Mapping[str, Any],
    *,
    executor: str = "local",
    max_workers: int | None = None,
    cache: bool = True,
    experiment: str | None = None,
    address: str | None = None,
    resume: Run | None = None,
) -> PipelineRun:
    """Run ``pipeline`` with bound ``params``; see :meth:`mloop.pipelines.Pipeline.run`.

    ``resume`` is a pipeline run to take over (see :func:`mloop.pipelines.resume`):
    its finished steps are reused, the others run.

    Raises:
        InvalidInput: bad params, wiring or executor options (nothing is recorded).
        PipelineFailed: a step failed after its retries; the run is FAILED.
        Conflict: another process took ``resume`` over first (nothing is recorded).
    """
    graph = pipeline.build(**params)
    client = fluent.current_client()
    # Bad options fail before anything is recorded; the executor is then kept for the run.
    runner = make_executor(executor, max_workers, client.content, address)
    done: dict[str, StepState] = {}
    if resume is None:
        run_id, experiment_id = _start(client, pipeline, graph, params, executor, cache, experiment)
    else:
        run_id, experiment_id = resume.info.run_id, resume.info.experiment_id
        try:
            done = _take_over(client, resume, graph)
        except Conflict:
            runner.close()
            raise
    scheduler = _Scheduler(
        graph, client, run_id, experiment_id, use_cache=cache, executor=runner, done=done
    )
    try:
        scheduler.run()
    except KeyboardInterrupt:
        client.set_terminated(run_id, RunStatus.KILLED, error="interrupted (Ctrl-C)")
        raise
    except BaseException as err:
        client.set_terminated(run_id, RunStatus.FAILED, error=f"{type(err).__name__}: {err}")
        raise
    return _finish(client, pipeline, graph, scheduler)


def _start(
    client: Client,
    pipeline: PipelineDefinition,
    graph: Graph,
    params: Mapping[str, Any],
    executor: str,
    cache: bool,
    experiment: str | None,
) -> tuple[str, str]:
    """Record a new pipeline run (nested in the active run, if any); its id and experiment."""
    experiment_id = _experiment_id(client, experiment)
    parent = fluent.active_run()
    tags = {
        KIND: "pipeline",
        "mloop.pipeline.name": pipeline.name,
        "mloop.pipeline.ref": pipeline.reference,
        "mloop.pipeline.executor": executor,
        CACHE_TAG: "true" if cache else "false",  # a resume keeps the choice
    }
    created = client.create_run(
        experiment_id,
        run_name=pipeline.name,
        tags=tags,
        parent_run_id=parent.info.run_id if parent else None,
    )
    run_id = created.info.run_id
    if params:
        client.log_params(run_id, {k: _param_text(v) for k, v in params.items()})
    client.log_dict(run_id, graph.describe(), "pipeline/graph.json")
    return run_id, experiment_id


def _take_over(client: Client, run: Run, graph: Graph) -> dict[str, StepState]:
    """Claim ``run`` for this process as it was seen; the finished steps a resume reuses.

    Raises:
        Conflict: another process claimed it since (two resumes at once): one wins.
    """
    run_id = run.info.run_id
    if not client.claim_run(run_id, run.info):
        now = client.get_run(run_id).info
        raise Conflict(
            f"pipeline run {run_id} is being resumed by process {now.owner} "
            f"(it is {now.status.value} now); wait for that resume to end"
        )
    done = finished_steps(client, run, graph)
    close_dead_steps(client, run)
    return done


def _finish(
    client: Client, pipeline: PipelineDefinition, graph: Graph, scheduler: _Scheduler
) -> PipelineRun:
    """End the pipeline run FINISHED, or FAILED (raising PipelineFailed) if a step failed."""
    run_id = scheduler.run_id
    states = {n: scheduler.states.get(n, StepState(n, "SKIPPED")) for n in graph.nodes}
    if scheduler.failure is not None:
        node_id, error = scheduler.failure
        last = error.strip().splitlines()[-1] if error.strip() else error
        message = f"step {node_id!r} failed: {last}"
        client.set_terminated(run_id, RunStatus.FAILED, error=message)
        raise PipelineFailed(
            f"pipeline {pipeline.name!r} run {run_id} failed: {message} "
            f"(resume it with: mloop pipeline resume {run_id})",
            run_id=run_id,
            step=node_id,
        )
    client.set_terminated(run_id, RunStatus.FINISHED)
    return PipelineRun(run_id, pipeline.name, RunStatus.FINISHED.value, states)
