"""A policy's pipeline: loaded from its file, run in this process, and the version it registered.

The pipeline runs synchronously with the stores of the fluent API (the
process's, as ``mloop pipeline run`` runs it); its run, and each step's, is
tracked as any pipeline run is.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.context.context import Context
from mloop.entities import ModelVersion
from mloop.errors import InvalidInput
from mloop.models.backend import backend
from mloop.pipelines.dsl import Pipeline
from mloop.pipelines.history import step_runs
from mloop.pipelines.runner import PipelineRun
from mloop.tracking import fluent


def load_pipeline(file: str, function: str) -> Pipeline:
    """The ``@mloop.pipeline`` function ``function`` of the Python file ``file``.

    The file's folder is put on ``sys.path`` (worker processes import steps by
    module name). The file is imported afresh each time, so a process that
    runs policies for long (the agent) runs the file as it is now.

    Raises:
        InvalidInput: no such file, a file that cannot be imported, or no such pipeline in it.

    Example:
        >>> load_pipeline("no/such/train.py", "train")
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: pipeline file 'no/such/train.py' does not exist
    """
    path = Path(file).resolve()
    if not path.is_file():
        raise InvalidInput(f"pipeline file {file!r} does not exist")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules.pop(path.stem, None)
    try:
        module = importlib.import_module(path.stem)
    except Exception as err:  # the user's file: any error in it is theirs to fix
        raise InvalidInput(f"cannot import pipeline file {file!r}: {err}") from None
    found = getattr(module, function, None)
    if not isinstance(found, Pipeline):
        raise InvalidInput(f"{file}:{function} is not an @mloop.pipeline function")
    return found


def run_policy_pipeline(spec: Mapping[str, Any]) -> PipelineRun:
    """Run the pipeline a spec names with its (already bound) params.

    Raises:
        InvalidInput: a pipeline that cannot be loaded, or params it does not take.
        PipelineFailed: a step failed; its ``run_id`` names the pipeline run.
    """
    pipeline = load_pipeline(spec["file"], spec["pipeline"])
    values = pipeline.bind_params(spec.get("params", {}), from_text=True)
    return pipeline.run(experiment=spec.get("experiment"), **values)


def run_ids(pipeline_run_id: str) -> list[str]:
    """The pipeline run's id and those of its step runs."""
    client = fluent.current_client()
    run = client.get_run(pipeline_run_id)
    return [pipeline_run_id, *(r.info.run_id for r in step_runs(client, run))]


def registered_version(
    model: str, ids: list[str], *, context: Context | None = None
) -> ModelVersion | None:
    """The newest version of ``model`` registered from one of the runs ``ids``, if any."""
    wanted = set(ids)
    found = [v for v in backend(context).stores.models.list_versions(model) if v.run_id in wanted]
    return max(found, key=lambda v: v.version) if found else None
