"""Steps: what ``@mloop.step`` makes of a typed function, knowing nothing of how it runs.

A :class:`Step` is the function plus its options and declared outputs. Called
outside a pipeline it is that function; called while a pipeline function's body
is being built, it hands itself to the :class:`Builder` that is collecting the
DAG (:class:`~mloop.pipelines.graph.Graph`), which this module knows only as
that protocol.

Example:
    >>> add = Step(lambda a, b: a + b, StepOptions(name="add"))
    >>> add(1, 2), [o.name for o in add.outputs]
    (3, ['output'])
    >>> check_param("lr", 1, float)
    1.0
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import inspect
import json
import math
import textwrap
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from mloop.errors import InvalidInput
from mloop.pipelines import materializers
from mloop.plugins import load_target

P = ParamSpec("P")
R = TypeVar("R")


class Builder(Protocol):
    """What collects a pipeline's DAG while its function body runs (a Graph).

    - ``add_call`` records one call of ``step`` with the arguments it was given
      and returns what the call stands for (its outputs, still without values).
    - It raises InvalidInput for a call that cannot be wired, before anything runs.
    """

    def add_call(self, step: Step[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Record a call of ``step``; its lazy outputs."""
        ...


_building: contextvars.ContextVar[Builder | None] = contextvars.ContextVar(
    "mloop_pipeline_graph", default=None
)


def is_building() -> bool:
    """True while a pipeline function's body is being built in this context."""
    return _building.get() is not None


@contextlib.contextmanager
def building(builder: Builder) -> Iterator[Builder]:
    """Within the block, step calls are recorded by ``builder`` instead of running.

    Example:
        >>> class Calls:
        ...     def add_call(self, step, args, kwargs):
        ...         return f"{step.name}{args}"
        >>> double = Step(lambda x: 2 * x, StepOptions(name="double"))
        >>> with building(Calls()):
        ...     double(4)
        'double(4,)'
    """
    token = _building.set(builder)
    try:
        yield builder
    finally:
        _building.reset(token)


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
                f"{type_name(output.annotation)}, which no materializer stores; return "
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
        builder = _building.get()
        if builder is None:
            return self.func(*args, **kwargs)
        return builder.add_call(self, args, kwargs)


def type_name(tp: Any) -> str:
    """A type's name for messages: ``float``, ``Model``, ``list[int]``."""
    return tp.__qualname__ if isinstance(tp, type) else str(tp)


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
                f"{what} must be {type_name(annotation)}, got {type(value).__name__} {value!r}"
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
            f"parameter {what!r} must be {type_name(annotation)}, got {text!r}"
        ) from None
