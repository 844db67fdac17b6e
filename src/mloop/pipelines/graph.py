"""The DAG a pipeline function builds: nodes (step calls) and the outputs between them.

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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInput

if TYPE_CHECKING:
    from mloop.pipelines.dsl import Step

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
