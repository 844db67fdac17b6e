"""``@mloop.step`` and ``@mloop.pipeline``: plain typed functions that build a DAG.

A step is a typed function. Called on its own, it is just that function, so
it is easy to unit-test. Called inside a pipeline function, it returns a lazy
output instead of running, and the pipeline function's body becomes the DAG.

This module is the top of the package's layers: the decorators, and
:meth:`Pipeline.run`, which hands the pipeline to the runner. The runner knows
a pipeline only as a :class:`~mloop.pipelines.graph.PipelineDefinition`.

Example:
    >>> import mloop
    >>> @mloop.step
    ... def double(x: int) -> int:
    ...     return 2 * x
    >>> @mloop.pipeline
    ... def twice(x: int = 1) -> None:
    ...     double(double(x))
    >>> double(4)                       # outside a pipeline: the plain function
    8
    >>> [node.id for node in twice.build(x=3).order()]
    ['double', 'double_2']
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, overload

from mloop.errors import InvalidInput
from mloop.pipelines.graph import Graph
from mloop.pipelines.runner import PipelineRun, run_pipeline
from mloop.pipelines.steps import (
    Resources,
    Step,
    StepOptions,
    building,
    check_param,
    coerce_text,
    is_building,
)
from mloop.plugins import load_target

P = ParamSpec("P")
R = TypeVar("R")
RUN_OPTIONS = frozenset({"executor", "max_workers", "cache", "experiment", "address"})


class Pipeline:
    """A function whose body calls steps, made a pipeline by :func:`pipeline`."""

    def __init__(self, func: Callable[..., Any], name: str | None = None) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.name: str = name or func.__name__
        self.signature = inspect.signature(func)
        self.hints = typing.get_type_hints(func)
        self.reference = f"{func.__module__}:{func.__qualname__}"
        clash = RUN_OPTIONS & set(self.signature.parameters)
        if clash:
            raise InvalidInput(
                f"pipeline {self.name!r} parameters {sorted(clash)} clash with run options; "
                "rename them"
            )

    def __reduce__(self) -> tuple[Any, ...]:
        return (load_target, (self.reference,))

    def bind_params(self, params: Mapping[str, Any], *, from_text: bool = False) -> dict[str, Any]:
        """Check params against the function's signature; fill defaults.

        Raises:
            InvalidInput: an unknown or missing param, or a value of the wrong type.
        """
        known = self.signature.parameters
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InvalidInput(
                f"pipeline {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters: {', '.join(known) or '(none)'}"
            )
        values: dict[str, Any] = {}
        for name, parameter in known.items():
            annotation = self.hints.get(name)
            if name in params:
                value = params[name]
                if from_text and isinstance(value, str):
                    value = coerce_text(name, value, annotation)
            elif parameter.default is not inspect.Parameter.empty:
                value = parameter.default
            else:
                raise InvalidInput(f"pipeline {self.name!r} needs parameter {name!r}")
            values[name] = check_param(f"pipeline parameter {name!r}", value, annotation)
        return values

    def build(self, **params: Any) -> Graph:
        """Run the function body to build its DAG (no step runs).

        Raises:
            InvalidInput: bad params, or a step call that cannot be wired.
        """
        values = self.bind_params(params)
        if is_building():
            raise InvalidInput(
                f"pipeline {self.name!r} was called while another pipeline was being built; "
                "call its steps instead"
            )
        graph = Graph(self.name)
        with building(graph):
            self.func(**values)
        if not graph.nodes:
            raise InvalidInput(f"pipeline {self.name!r} calls no step")
        graph.order()
        return graph

    def run(
        self,
        *,
        executor: str = "local",
        max_workers: int | None = None,
        cache: bool = True,
        experiment: str | None = None,
        address: str | None = None,
        **params: Any,
    ) -> PipelineRun:
        """Build the DAG and run it; returns the finished :class:`PipelineRun`.

        ``executor`` is ``local`` (in this process, or in ``max_workers``
        processes) or ``ray`` (``address=`` of a cluster, else a local Ray).

        Raises:
            InvalidInput: bad params or wiring (before anything runs).
            PipelineFailed: a step failed after its retries (the run is FAILED).
        """
        return run_pipeline(
            self,
            self.bind_params(params),
            executor=executor,
            max_workers=max_workers,
            cache=cache,
            experiment=experiment,
            address=address,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Calling a pipeline runs it (``executor``, ``cache`` … as for :meth:`run`)."""
        if args:
            names = list(self.signature.parameters)
            kwargs.update(zip(names, args, strict=False))
        return self.run(**kwargs)


@overload
def step(func: Callable[P, R], /) -> Step[P, R]: ...
@overload
def step(
    *,
    name: str | None = None,
    cache: bool = True,
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float | None = None,
    resources: Resources | Mapping[str, Any] | None = None,
    materializers: Mapping[str, str] | None = None,
) -> Callable[[Callable[P, R]], Step[P, R]]: ...
def step(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    cache: bool = True,
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float | None = None,
    resources: Resources | Mapping[str, Any] | None = None,
    materializers: Mapping[str, str] | None = None,
) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Make a typed function a pipeline step (``@mloop.step`` or ``@mloop.step(retries=2)``).

    Args:
        func: the function (when used as ``@mloop.step`` without parentheses).
        name: the step's name in the DAG (default: the function's name).
        cache: reuse outputs of an identical earlier successful run (default on).
        retries: extra attempts after a failure.
        retry_delay: seconds before the first retry; each later one waits twice as long.
        timeout: seconds a single attempt may take.
        resources: ``Resources(cpus=, gpus=, memory=)`` or a dict of them.
        materializers: ``{output name: materializer name}`` overrides (e.g. ``"pickle"``).
    """

    def wrap(function: Callable[P, R]) -> Step[P, R]:
        wanted = resources if isinstance(resources, Resources) else Resources(**(resources or {}))
        options = StepOptions(
            name=name or function.__name__,
            cache=cache,
            retries=retries,
            retry_delay=retry_delay,
            timeout=timeout,
            resources=wanted,
            materializers=dict(materializers or {}),
        )
        return Step(function, options)

    return wrap(func) if func is not None else wrap


def pipeline(func: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """Make a function that calls steps a pipeline (``@mloop.pipeline``).

    Its parameters are the pipeline's params (typed; defaults allowed); its
    body builds the DAG.
    """

    def wrap(function: Callable[..., Any]) -> Pipeline:
        return Pipeline(function, name)

    return wrap(func) if func is not None else wrap
