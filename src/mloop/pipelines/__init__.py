"""Pipelines: ``@mloop.step`` and ``@mloop.pipeline``, tracked, cached and resumable.

Example:
    >>> import mloop
    >>> @mloop.step
    ... def add(a: int, b: int) -> int:
    ...     return a + b
    >>> add(1, 2)
    3
"""

from mloop.errors import PipelineFailed as PipelineFailed
from mloop.pipelines.dsl import Pipeline as Pipeline
from mloop.pipelines.dsl import pipeline as pipeline
from mloop.pipelines.dsl import step as step
from mloop.pipelines.materializers import Materializer as Materializer
from mloop.pipelines.resuming import resume as resume
from mloop.pipelines.runner import PipelineRun as PipelineRun
from mloop.pipelines.runner import StepState as StepState
from mloop.pipelines.steps import Resources as Resources
from mloop.pipelines.steps import Step as Step
from mloop.pipelines.tuning import Trial as Trial
from mloop.pipelines.tuning import TuneResult as TuneResult
from mloop.pipelines.tuning import tune as tune

__all__ = [
    "Materializer",
    "Pipeline",
    "PipelineFailed",
    "PipelineRun",
    "Resources",
    "Step",
    "StepState",
    "Trial",
    "TuneResult",
    "pipeline",
    "resume",
    "step",
    "tune",
]
