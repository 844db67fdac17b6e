"""One step attempt, as any executor runs it: load inputs, call, store outputs.

A :class:`StepTask` is plain data (picklable), so the same
:func:`execute_step` runs in this process, in a worker process or on another
machine: inputs come from and outputs go to the artifact store by digest. A
task carries the :class:`~mloop.config.Settings` of the run's stores, so a
worker opens the same stores whatever its environment says.
While the step runs, what it prints is captured (and still shown), and the
fluent tracking API logs to the step's own run.

Example:
    >>> result = StepResult("train", error="ValueError: bad")
    >>> result.ok
    False
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any, TextIO

from mloop.artifacts.cas import ContentStore
from mloop.config import Settings
from mloop.context import current
from mloop.errors import InvalidInput
from mloop.pipelines import materializers
from mloop.pipelines.steps import Step
from mloop.tracking import fluent, reads
from mloop.tracking.client import Client
from mloop.tracking.reads import Read

MAX_CAPTURE = 1 << 20  # characters of stdout/stderr kept per attempt


@dataclasses.dataclass(frozen=True)
class StoredValue:
    """A value in the artifact store: its digest, materializer and size in bytes."""

    digest: str
    materializer: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (for tags and the cache)."""
        return {"digest": self.digest, "materializer": self.materializer, "size": self.size}


@dataclasses.dataclass(frozen=True)
class StepTask:
    """Everything needed to run one attempt of one step."""

    node: str
    step: Step[Any, Any]
    params: dict[str, Any]
    inputs: dict[str, StoredValue]
    settings: Settings  # the run's stores, resolved: what a worker opens
    run_id: str
    attempt: int = 1
    lists: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def timeout(self) -> float | None:
        """Seconds this attempt may take."""
        return self.step.options.timeout


@dataclasses.dataclass
class StepResult:
    """What an attempt produced: stored outputs, or the error; what it printed; how long."""

    node: str
    outputs: dict[str, StoredValue] = dataclasses.field(default_factory=dict)
    error: str | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    values: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    reads: list[Read] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the step returned and its outputs were stored."""
        return self.error is None


class _Tee(io.TextIOBase):
    """Writes to the real stream and keeps the last ``MAX_CAPTURE`` characters."""

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * MAX_CAPTURE:
            kept = "".join(self._parts)[-MAX_CAPTURE:]
            self._parts, self._size = [kept], len(kept)
        return self._target.write(text)

    def flush(self) -> None:
        self._target.flush()

    def text(self) -> str:
        return "".join(self._parts)[-MAX_CAPTURE:]


@contextlib.contextmanager
def _captured() -> Iterator[tuple[_Tee, _Tee]]:
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def load_inputs(
    task: StepTask, content: ContentStore, memo: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The step's arguments: literal params plus input values read by digest."""
    arguments = dict(task.params)
    loaded: dict[str, Any] = {}
    for name, stored in task.inputs.items():
        if memo is not None and stored.digest in memo:
            loaded[name] = memo[stored.digest]
            continue
        data = content.get_bytes(stored.digest)
        loaded[name] = materializers.by_name(stored.materializer).loads(data)
    for name, count in task.lists.items():  # a list of outputs, back in its order
        arguments[name] = [loaded.pop(f"{name}#{i}") for i in range(count)]
    arguments.update(loaded)
    return arguments


def store_outputs(
    step: Step[Any, Any], value: Any, content: ContentStore
) -> tuple[dict[str, StoredValue], dict[str, Any]]:
    """Split a returned value into outputs and store each; returns stored refs and values.

    Raises:
        InvalidInput: the value has the wrong shape, or an output cannot be stored.
    """
    stored: dict[str, StoredValue] = {}
    values = step.split(value)
    for spec in step.outputs:
        output = values[spec.name]
        materializer = step.materializer_for(spec) or materializers.for_value(output)
        try:
            data = materializer.dumps(output)
        except Exception as err:
            raise InvalidInput(
                f"step {step.name!r} output {spec.name!r} could not be stored with the "
                f"{materializer.name} materializer: {err}"
            ) from err
        stored[spec.name] = StoredValue(content.put_bytes(data), materializer.name, len(data))
    return stored, values


def execute_step(
    task: StepTask,
    content: ContentStore,
    *,
    memo: dict[str, Any] | None = None,
    run: Any = None,
    enforce_timeout: bool = True,
) -> StepResult:
    """Run one attempt and store its outputs; never raises for the step's own errors.

    ``memo`` holds values by digest already in this process (skips reading them
    back); ``run`` is the step's run, made active for the fluent API. Without
    ``enforce_timeout`` the caller stops the attempt itself (a worker process
    is killed).
    """
    started = time.perf_counter()
    result = StepResult(task.node)
    holder: dict[str, Any] = {}

    def call() -> None:
        try:
            arguments = load_inputs(task, content, memo)
            with contextlib.ExitStack() as stack:
                if run is not None:
                    stack.enter_context(fluent.use_run(run))
                # Datasets and models the step reads by reference: part of its cache validity.
                holder["reads"] = stack.enter_context(reads.recording())
                value = task.step.func(**arguments)
            holder["outputs"] = store_outputs(task.step, value, content)
        except BaseException as err:  # the step's failure is the result, not ours to raise
            holder["error"] = "".join(traceback.format_exception(err))[-8000:]
            if isinstance(err, KeyboardInterrupt):
                holder["interrupted"] = err

    with _captured() as (out, err):
        if task.timeout is None or not enforce_timeout:
            call()
        else:
            worker = threading.Thread(target=call, name=f"mloop-step-{task.node}", daemon=True)
            worker.start()
            worker.join(task.timeout)
            if worker.is_alive():
                holder["error"] = (
                    f"TimeoutError: step {task.node!r} took longer than {task.timeout:g} s "
                    "(it runs in this process and is abandoned; use max_workers > 1 to run "
                    "steps in processes that are stopped on timeout)"
                )
    result.stdout, result.stderr = out.text(), err.text()
    result.seconds = time.perf_counter() - started
    if "interrupted" in holder:
        raise holder["interrupted"]
    if "error" in holder:
        result.error = holder["error"]
    else:
        result.outputs, result.values = holder["outputs"]
        result.reads = list(holder["reads"])
    return result


def worker_settings(client: Client) -> Settings:
    """What a worker needs to work as ``client`` does: settings, stores, project and actor.

    The client's settings, with both URIs resolved, its project and who acts.

    Example:
        >>> import tempfile
        >>> home = tempfile.mkdtemp()
        >>> worker_settings(Client(tracking_uri=home)).tracking_uri == f"sqlite:///{home}/mloop.db"
        True
    """
    return dataclasses.replace(
        client.settings,
        tracking_uri=client.tracking_uri,
        artifacts_uri=client.content.root,
        project=client.project,
        user=client.context.actor.name,
    )


def worker_client(settings: Settings) -> Client:
    """The client of ``settings``, which this process's fluent API now follows too.

    What a worker process or Ray task calls first: the settings come from the
    parent as an argument and become the process's defaults, so what the
    step's body does (``mloop.log_metric``, ``mloop.data.get``,
    ``mloop.models.set_alias``…) goes to the same stores, in the same project,
    as the same actor as the runner's records.

    Example:
        >>> import tempfile
        >>> home = tempfile.mkdtemp()
        >>> client = worker_client(Settings(tracking_uri=home, artifacts_uri=f"{home}/a"))
        >>> fluent.current_client().settings.artifacts_uri == f"{home}/a"
        True
        >>> current.use_settings(None)
    """
    current.use_settings(settings)
    fluent.set_tracking_uri("")  # no choice of this process's own: the parent's settings rule
    fluent.set_project(None)
    return fluent.current_client()


def execute_in_worker(task: StepTask) -> StepResult:
    """One attempt in a worker process: log through the task's stores, return the result.

    Used by worker processes and Ray tasks alike; the caller stops the attempt
    on timeout.
    """
    try:
        client = worker_client(task.settings)
        run = client.get_run(task.run_id)
        result = execute_step(task, client.content, run=run, enforce_timeout=False)
        client.flush()
    except Exception as err:  # reported to the parent, which records the failure
        result = StepResult(task.node, error=f"{type(err).__name__}: {err}")
    result.values = {}
    return result
