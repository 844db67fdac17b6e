"""The DAG a pipeline function builds: nodes (step calls) and the outputs between them.

A :class:`Graph` is the :class:`~mloop.pipelines.steps.Builder` a pipeline's
body runs under: each step call becomes a node. :class:`PipelineDefinition`
is all the runner knows of a pipeline: a name, where it is defined, and the
graph it builds for given params.

Example:
    >>> graph = Graph("example")
    >>> a = graph.add_node("load", step=None, params={}, inputs={}, outputs=("output",))
    >>> b = graph.add_node("train", step=None, params={"lr": 0.1},
    ...                    inputs={"df": OutputRef(graph, "load", "output")}, outputs=("output",))
    >>> [node.id for node in graph.order()], sorted(graph.upstream("train"))
    (['load', 'train'], ['load'])
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from typing import Any, Protocol

from mloop.errors import InvalidInput
from mloop.pipelines.steps import Step, check_param, type_name

_NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,199}$")


class OutputRef:
    """A step output that exists once the pipeline runs: pass it to other steps.

    Using it as a value while the pipeline is being built (``if out > 3``,
    ``len(out)``…) is an error that says so.
    """

    __slots__ = ("annotation", "graph", "name", "node")

    def __init__(self, graph: Graph, node: str, name: str, annotation: Any = None) -> None:
        self.graph = graph
        self.node = node
        self.name = name
        self.annotation = annotation

    def __repr__(self) -> str:
        return f"<output {self.name!r} of step {self.node!r}>"

    def _misuse(self, *_: object) -> Any:
        raise InvalidInput(
            f"{self!r} has no value while the pipeline is being built; pass it to another "
            "step, which receives the value when the pipeline runs"
        )

    __bool__ = __len__ = __iter__ = __getitem__ = __int__ = __float__ = _misuse
    __lt__ = __le__ = __gt__ = __ge__ = __add__ = __sub__ = __mul__ = __truediv__ = _misuse


@dataclasses.dataclass
class Node:
    """One call of a step: literal params, inputs from other nodes' outputs, its outputs."""

    id: str
    step: Step[Any, Any] | None
    params: dict[str, Any]
    inputs: dict[str, OutputRef]
    outputs: tuple[str, ...]
    lists: dict[str, int] = dataclasses.field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """A JSON-able description (for the run's ``pipeline/graph.json``)."""
        return {
            "id": self.id,
            "step": self.step.name if self.step is not None else self.id,
            "params": self.params,
            "inputs": {k: [ref.node, ref.name] for k, ref in self.inputs.items()},
            "outputs": list(self.outputs),
        }


class Graph:
    """Nodes in the order they were added, which is always a valid execution order."""

    def __init__(self, pipeline: str) -> None:
        self.pipeline = pipeline
        self.nodes: dict[str, Node] = {}
        self._calls: dict[str, int] = {}

    def new_id(self, name: str) -> str:
        """The id of a step's next call: ``name`` first, then ``name_2``, ``name_3`` and so on."""
        count = self._calls.get(name, 0) + 1
        self._calls[name] = count
        return name if count == 1 else f"{name}_{count}"

    def add_node(
        self,
        node_id: str,
        *,
        step: Step[Any, Any] | None,
        params: Mapping[str, Any],
        inputs: Mapping[str, OutputRef],
        outputs: tuple[str, ...],
        lists: Mapping[str, int] | None = None,
    ) -> Node:
        """Add a node whose inputs come from nodes already in the graph.

        An argument given a list of outputs has inputs ``name#0``, ``name#1`` …
        and its length in ``lists``.

        Raises:
            InvalidInput: a bad or duplicate id, or an input from an output that
                does not exist (yet) in this graph.
        """
        if not _NODE_ID.match(node_id):
            raise InvalidInput(f"step name {node_id!r} must be an identifier (letters, digits, _)")
        if node_id in self.nodes:
            raise InvalidInput(f"pipeline {self.pipeline!r} already has a step {node_id!r}")
        for param, ref in inputs.items():
            source = self.nodes.get(ref.node) if ref.graph is self else None
            if source is None or ref.name not in source.outputs:
                raise InvalidInput(
                    f"step {node_id!r} argument {param!r} uses {ref!r}, which does not exist "
                    f"in pipeline {self.pipeline!r} (yet): an output can only be used inside "
                    "the pipeline that produced it, after the step that produces it"
                )
        node = Node(node_id, step, dict(params), dict(inputs), outputs, dict(lists or {}))
        self.nodes[node_id] = node
        return node

    def add_call(self, step: Step[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Add a node for a call of ``step``; returns its outputs shaped as the step returns them.

        Literal arguments become the node's params (checked, JSON-able); step
        outputs, alone or in a list (a fan-in), become its inputs.

        Raises:
            InvalidInput: arguments that do not fit the signature or its types.
        """
        node_id = self.new_id(step.name)
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as err:
            raise InvalidInput(f"step {node_id!r}: {err}") from None
        bound.apply_defaults()
        params: dict[str, Any] = {}
        inputs: dict[str, OutputRef] = {}
        lists: dict[str, int] = {}
        for name, value in bound.arguments.items():
            annotation = step.hints.get(name)
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
        self.add_node(
            node_id,
            step=step,
            params=params,
            inputs=inputs,
            outputs=tuple(o.name for o in step.outputs),
            lists=lists,
        )
        refs = [OutputRef(self, node_id, o.name, o.annotation) for o in step.outputs]
        return _shape_refs(step, refs)

    def upstream(self, node_id: str) -> set[str]:
        """The nodes whose outputs ``node_id`` consumes."""
        return {ref.node for ref in self.nodes[node_id].inputs.values()}

    def downstream(self) -> dict[str, set[str]]:
        """For every node, the nodes that consume its outputs."""
        found: dict[str, set[str]] = {node_id: set() for node_id in self.nodes}
        for node in self.nodes.values():
            for ref in node.inputs.values():
                found[ref.node].add(node.id)
        return found

    def order(self) -> list[Node]:
        """The nodes in a dependency-respecting order (Kahn's algorithm).

        Raises:
            InvalidInput: the graph has a cycle (names the steps on it).
        """
        waiting = {node_id: len(self.upstream(node_id)) for node_id in self.nodes}
        consumers = self.downstream()
        ready = [node_id for node_id, count in waiting.items() if count == 0]
        ordered: list[Node] = []
        while ready:
            node_id = ready.pop(0)
            ordered.append(self.nodes[node_id])
            for consumer in sorted(consumers[node_id]):
                waiting[consumer] -= 1
                if waiting[consumer] == 0:
                    ready.append(consumer)
        if len(ordered) < len(self.nodes):
            stuck = sorted(node_id for node_id, count in waiting.items() if count > 0)
            raise InvalidInput(
                f"pipeline {self.pipeline!r} has a cycle through steps {', '.join(stuck)}"
            )
        return ordered

    def describe(self) -> dict[str, Any]:
        """A JSON-able description of every node."""
        return {"pipeline": self.pipeline, "nodes": [n.describe() for n in self.nodes.values()]}


class PipelineDefinition(Protocol):
    """What the runner needs of a pipeline (an ``@mloop.pipeline`` function is one).

    - ``name``: the pipeline's name, recorded on its runs.
    - ``reference``: ``module:qualname``, from which a resume imports it again.
    - ``build(**params)``: the graph for bound params; raises InvalidInput for
      bad params or wiring, before anything runs.
    """

    @property
    def name(self) -> str:
        """The pipeline's name."""
        ...

    @property
    def reference(self) -> str:
        """Where the pipeline is defined, as ``module:qualname``."""
        ...

    def build(self, **params: Any) -> Graph:
        """The DAG for these params."""
        ...


def _has_outputs(value: Any) -> bool:
    return isinstance(value, list | tuple) and any(isinstance(v, OutputRef) for v in value)


def _check_output_type(node_id: str, param: str, ref: OutputRef, annotation: Any) -> None:
    produced = ref.annotation
    if not isinstance(produced, type) or not isinstance(annotation, type):
        return  # generics, unions and unannotated values are checked when the step runs
    if issubclass(produced, annotation) or (produced is int and annotation is float):
        return
    raise InvalidInput(
        f"step {node_id!r} argument {param!r} expects {type_name(annotation)}, but "
        f"{ref!r} is declared as {type_name(produced)}"
    )


def _shape_refs(step: Step[Any, Any], refs: list[OutputRef]) -> Any:
    """A call's outputs as the step returns its value: one, a tuple, a namedtuple, a dataclass."""
    annotation = step.hints.get("return")
    if step.shape == "single":
        return refs[0]
    if step.shape == "namedtuple":
        return annotation._make(refs)  # type: ignore[union-attr]
    if step.shape == "dataclass":
        holder = object.__new__(annotation)  # type: ignore[arg-type]
        for ref in refs:
            object.__setattr__(holder, ref.name, ref)
        return holder
    return tuple(refs)
