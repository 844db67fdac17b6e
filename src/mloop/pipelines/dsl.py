"""``@mloop.step`` and ``@mloop.pipeline``: plain typed functions that build a DAG.

A step is a typed function. Called on its own, it is just that function, so
it is easy to unit-test. Called inside a pipeline function, it returns a lazy
output instead of running, and the pipeline function's body becomes the DAG.

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

import contextvars
import dataclasses
import functools
import hashlib
import inspect
import json
import math
import textwrap
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar, overload

from mloop.errors import InvalidInput
from mloop.pipelines import materializers
from mloop.pipelines.graph import Graph, OutputRef
from mloop.plugins import load_target

P = ParamSpec("P")
R = TypeVar("R")
_building: contextvars.ContextVar[Graph | None] = contextvars.ContextVar(
    "mloop_pipeline_graph", default=None
)
RUN_OPTIONS = frozenset({"executor", "max_workers", "cache", "experiment", "address"})


@dataclasses.dataclass(frozen=True)
class Resources:
    """What a step needs; executors that can place work (Ray) honour it."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory: int | None = None  # bytes

    def __post_init__(self) -> None:
        if self.cpus < 0 or self.gpus < 0 or (self.memory is not None and self.memory <= 0):
            raise InvalidInput(f"resources must be positive, got {self}")


@dataclasses.dataclass(frozen=True)
class StepOptions:
    """How a step runs: caching, retries with exponential backoff, timeout, resources."""

    name: str
    cache: bool = True
    retries: int = 0
    retry_delay: float = 1.0
    timeout: float | None = None
    resources: Resources = dataclasses.field(default_factory=Resources)
    materializers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.retries, int) or self.retries < 0:
            raise InvalidInput(f"step {self.name!r}: retries must be an int >= 0")
        if self.retry_delay < 0:
            raise InvalidInput(f"step {self.name!r}: retry_delay must be >= 0 seconds")
        if self.timeout is not None and not self.timeout > 0:
            raise InvalidInput(f"step {self.name!r}: timeout must be > 0 seconds")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1, 2, …): doubling each time."""
        return float(self.retry_delay * 2 ** (attempt - 1))


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    """A step's named output and the type its return annotation declares (None: any)."""

    name: str
    annotation: Any = None


def _outputs_of(
    func: Callable[..., Any], hints: dict[str, Any]
) -> tuple[tuple[OutputSpec, ...], str]:
    """The outputs a return annotation declares, and how to split a returned value."""
    annotation = hints.get("return", inspect.Signature.empty)
    if annotation in (inspect.Signature.empty, typing.Any, object):
        return (OutputSpec("output"),), "single"
    if annotation is None or annotation is type(None):
        return (OutputSpec("output", type(None)),), "single"
    if materializers.for_type(annotation) is not None:  # stored whole (e.g. a Dataset)
        return (OutputSpec("output", annotation),), "single"
    if (
        isinstance(annotation, type)
        and issubclass(annotation, tuple)
        and hasattr(annotation, "_fields")
    ):
        fields = typing.get_type_hints(annotation)
        return tuple(OutputSpec(f, fields.get(f)) for f in annotation._fields), "namedtuple"
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        fields = typing.get_type_hints(annotation)
        names = [f.name for f in dataclasses.fields(annotation)]
        return tuple(OutputSpec(f, fields.get(f)) for f in names), "dataclass"
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if args and args[-1] is not Ellipsis:
            return tuple(OutputSpec(str(i), a) for i, a in enumerate(args)), "tuple"
    return (OutputSpec("output", annotation),), "single"


class Step(Generic[P, R]):
    """A typed function made a pipeline step by :func:`step`."""

    def __init__(self, func: Callable[P, R], options: StepOptions) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.options = options
        self.name = options.name
        self.signature = inspect.signature(func)
        try:
            self.hints = typing.get_type_hints(func)
        except (NameError, TypeError) as err:
            raise InvalidInput(f"step {self.name!r}: type hints cannot be read: {err}") from None
        self.outputs, self.shape = _outputs_of(func, self.hints)
        self.reference = f"{func.__module__}:{func.__qualname__}"
        for output in self.outputs:
            self.materializer_for(output)  # a declared type nothing can store fails now
        unknown = set(options.materializers) - {o.name for o in self.outputs}
        if unknown:
            raise InvalidInput(
                f"step {self.name!r}: materializers name unknown outputs {sorted(unknown)}; "
                f"its outputs are {[o.name for o in self.outputs]}"
            )

    @functools.cached_property
    def source_digest(self) -> str:
        """SHA-256 of the function's source (its bytecode when the source is unavailable)."""
        try:
            text = textwrap.dedent(inspect.getsource(self.func)).encode()
        except (OSError, TypeError):
            code = self.func.__code__
            text = code.co_code + repr(code.co_consts).encode()
        return hashlib.sha256(text).hexdigest()

    def materializer_for(self, output: OutputSpec) -> materializers.Materializer | None:
        """The materializer an output is stored with: named on the step, or by its type.

        None means "chosen from the value when the step returns".

        Raises:
            InvalidInput: the output's declared type has no materializer.
        """
        named = self.options.materializers.get(output.name)
        if named is not None:
            return materializers.by_name(named)
        if output.annotation is None:
            return None
        found = materializers.for_type(output.annotation)
        if found is None:
            raise InvalidInput(
                f"step {self.name!r} output {output.name!r} is declared as "
                f"{_type_name(output.annotation)}, which no materializer stores; return "
                "JSON-able values, bytes, NumPy arrays, DataFrames or Arrow tables, register "
                f"a materializer, or pass materializers={{{output.name!r}: 'pickle'}} to "
                "@mloop.step as a last resort"
            )
        return found

    def split(self, value: Any) -> dict[str, Any]:
        """The returned value as ``{output name: value}``.

        Raises:
            InvalidInput: the value does not have the declared shape.
        """
        names = [o.name for o in self.outputs]
        if self.shape == "single":
            return {names[0]: value}
        if self.shape == "dataclass":
            if not dataclasses.is_dataclass(value):
                raise InvalidInput(f"step {self.name!r} must return a dataclass, got {value!r}")
            return {name: getattr(value, name) for name in names}
        if not isinstance(value, tuple) or len(value) != len(names):
            raise InvalidInput(
                f"step {self.name!r} must return a tuple of {len(names)} values, "
                f"got {type(value).__name__}"
            )
        return dict(zip(names, value, strict=True))

    def by_value(self) -> Step[P, R]:
        """A copy that travels by value when pickled (for workers that cannot import it)."""
        copy = Step(self.func, self.options)
        copy._by_value = True
        return copy

    _by_value = False

    def __reduce__(self) -> tuple[Any, ...]:
        # Workers import a step where it is defined; one defined inside a function
        # (or asked to) travels by value, which Ray's cloudpickle can do.
        if self._by_value or "<locals>" in self.reference:
            return (Step, (self.func, self.options))
        return (load_target, (self.reference,))

    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Outside a pipeline, call the function; inside one, add a node and return its outputs."""
        graph = _building.get()
        if graph is None:
            return self.func(*args, **kwargs)
        return self._add_to(graph, args, kwargs)

    def _add_to(self, graph: Graph, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        node_id = graph.new_id(self.name)
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as err:
            raise InvalidInput(f"step {node_id!r}: {err}") from None
        bound.apply_defaults()
        params: dict[str, Any] = {}
        inputs: dict[str, OutputRef] = {}
        lists: dict[str, int] = {}
        for name, value in bound.arguments.items():
            annotation = self.hints.get(name)
            if isinstance(value, OutputRef):
                _check_output_type(node_id, name, value, annotation)
                inputs[name] = value
            elif _has_outputs(value):
                # A fan-in: a list of outputs arrives as a list of their values.
                if not all(isinstance(item, OutputRef) for item in value):
                    raise InvalidInput(
                        f"step {node_id!r} argument {name!r} mixes step outputs and literal "
                        "values in one list; pass the literals as another argument"
                    )
                element = (typing.get_args(annotation) or (None,))[0]
                for position, item in enumerate(value):
                    _check_output_type(node_id, f"{name}[{position}]", item, element)
                    inputs[f"{name}#{position}"] = item
                lists[name] = len(value)
            else:
                params[name] = check_param(f"step {node_id!r} argument {name!r}", value, annotation)
        graph.add_node(
            node_id,
            step=self,
            params=params,
            inputs=inputs,
            outputs=tuple(o.name for o in self.outputs),
            lists=lists,
        )
        refs = [OutputRef(graph, node_id, o.name, o.annotation) for o in self.outputs]
        return self._shape_refs(refs)

    def _shape_refs(self, refs: list[OutputRef]) -> Any:
        annotation = self.hints.get("return")
        if self.shape == "single":
            return refs[0]
        if self.shape == "namedtuple":
            return annotation._make(refs)  # type: ignore[union-attr]
        if self.shape == "dataclass":
            holder = object.__new__(annotation)  # type: ignore[arg-type]
            for ref in refs:
                object.__setattr__(holder, ref.name, ref)
            return holder
        return tuple(refs)


def _has_outputs(value: Any) -> bool:
    return isinstance(value, list | tuple) and any(isinstance(v, OutputRef) for v in value)


def _type_name(tp: Any) -> str:
    return tp.__qualname__ if isinstance(tp, type) else str(tp)


def _check_output_type(node_id: str, param: str, ref: OutputRef, annotation: Any) -> None:
    produced = ref.annotation
    if not isinstance(produced, type) or not isinstance(annotation, type):
        return  # generics, unions and unannotated values are checked when the step runs
    if issubclass(produced, annotation) or (produced is int and annotation is float):
        return
    raise InvalidInput(
        f"step {node_id!r} argument {param!r} expects {_type_name(annotation)}, but "
        f"{ref!r} is declared as {_type_name(produced)}"
    )


def check_param(what: str, value: Any, annotation: Any) -> Any:
    """A literal argument, checked against its annotation and made JSON-able.

    ``int`` is accepted for ``float`` (and converted); anything else of the
    wrong type, or a value that is not JSON-able, is an error.

    Raises:
        InvalidInput: the value has the wrong type or cannot be recorded.
    """
    if isinstance(annotation, type) and annotation is not type(None) and value is not None:
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif annotation is Path and isinstance(value, str | Path):
            value = str(value)
        elif not isinstance(value, annotation) or (
            isinstance(value, bool) and annotation in (int, float)
        ):
            raise InvalidInput(
                f"{what} must be {_type_name(annotation)}, got {type(value).__name__} {value!r}"
            )
    if isinstance(value, Path):
        value = str(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{what} is a {type(value).__name__}: literal arguments must be JSON-able "
            "(numbers, strings, lists, dicts); pass data between steps as step outputs"
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{what} must be a finite number, got {value}")
    return value


def coerce_text(what: str, text: str, annotation: Any) -> Any:
    """A parameter given as text (``--param k=v``), converted to its annotated type.

    Example:
        >>> coerce_text("lr", "0.5", float), coerce_text("deep", "yes", bool)
        (0.5, True)

    Raises:
        InvalidInput: the text is not a value of that type.
    """
    try:
        if annotation is bool:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if annotation in (int, float):
            return annotation(text)
        if annotation in (str, Path) or annotation is None:
            return text
        return json.loads(text)
    except ValueError:
        raise InvalidInput(
            f"parameter {what!r} must be {_type_name(annotation)}, got {text!r}"
        ) from None


class Pipeline:
    """A function whose body calls steps, made a pipeline by :func:`pipeline`."""

    def __init__(self, func: Callable[..., Any], name: str | None = None) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.name = name or func.__name__
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
        if _building.get() is not None:
            raise InvalidInput(
                f"pipeline {self.name!r} was called while another pipeline was being built; "
                "call its steps instead"
            )
        graph = Graph(self.name)
        token = _building.set(graph)
        try:
            self.func(**values)
        finally:
            _building.reset(token)
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
    ) -> Any:
        """Build the DAG and run it; returns the finished :class:`PipelineRun`.

        ``executor`` is ``local`` (in this process, or in ``max_workers``
        processes) or ``ray`` (``address=`` of a cluster, else a local Ray).

        Raises:
            InvalidInput: bad params or wiring (before anything runs).
            PipelineFailed: a step failed after its retries (the run is FAILED).
        """
        # Not at the top: the runner imports this module (through tasks, for Step).
        from mloop.pipelines.runner import run_pipeline

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
