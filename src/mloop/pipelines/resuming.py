"""Resuming a pipeline run that failed, was killed or never finished.

A resume loads the pipeline the run was made by (its ``mloop.pipeline.ref``
tag) with the run's params, claims the run for this process and runs only
what did not finish (:func:`mloop.pipelines.runner.run_pipeline`). Of two
resumes started at once, exactly one takes the run over; the other gets
Conflict.

Example:
    >>> import mloop
    >>> mloop.pipelines.resume("no-such-run")  # doctest: +SKIP
    Traceback (most recent call last):
    mloop.errors.NotFound: run 'no-such-run' not found
"""

from __future__ import annotations

from mloop.entities import RunStatus
from mloop.errors import Conflict, InvalidInput
from mloop.pipelines.dsl import Pipeline
from mloop.pipelines.history import CACHE_TAG, KIND
from mloop.pipelines.runner import PipelineRun, run_pipeline
from mloop.plugins import load_target
from mloop.tracking import fluent
from mloop.tracking.liveness import is_dead


def resume(
    run_id: str,
    *,
    executor: str = "local",
    max_workers: int | None = None,
    address: str | None = None,
) -> PipelineRun:
    """Run again only the steps of a pipeline run that failed, were killed or never ran.

    A step that finished is never run again: its recorded outputs are reused
    (only where every step upstream of it finished too). Step runs left RUNNING
    by a process that died are closed as KILLED first. The steps that run use
    the step cache if the original run did (not after ``cache=False``). The run
    is claimed atomically: of two resumes at once, one runs it, the other gets
    Conflict.

    Example:
        >>> import mloop
        >>> failed = "..."  # the run id a PipelineFailed named
        >>> mloop.pipelines.resume(failed).ok  # doctest: +SKIP
        True

    Raises:
        NotFound: no such run.
        InvalidInput: the run is not a pipeline run, or it already finished.
        Conflict: the process running it is still alive, or another resume took it over.
    """
    client = fluent.current_client()
    run = client.get_run(run_id)
    tags = run.data.tags
    if tags.get(KIND) != "pipeline":
        raise InvalidInput(f"run {run_id} is not a pipeline run")
    if run.info.status == RunStatus.FINISHED:
        raise InvalidInput(f"pipeline run {run_id} already finished; there is nothing to resume")
    if run.info.status == RunStatus.RUNNING and run.info.owner and not is_dead(run.info):
        raise Conflict(
            f"pipeline run {run_id} is still running (process {run.info.owner}); wait for it "
            "to end, or stop it (kill PID) and resume then"
        )
    reference = tags.get("mloop.pipeline.ref", "")
    try:
        pipeline = load_target(reference)
    except (ImportError, AttributeError) as err:
        raise InvalidInput(
            f"pipeline run {run_id} was made by {reference!r}, which cannot be imported: {err}"
        ) from None
    if not isinstance(pipeline, Pipeline):
        raise InvalidInput(f"{reference!r} is not an @mloop.pipeline")
    params = pipeline.bind_params(dict(run.data.params), from_text=True)
    return run_pipeline(
        pipeline,
        params,
        executor=executor,
        max_workers=max_workers,
        cache=tags.get(CACHE_TAG) != "false",
        resume=run,
    )
