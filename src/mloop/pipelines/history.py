"""A pipeline run's step runs as recorded: what they are, what a resume reuses.

Each step run carries its node (``mloop.step.node``) and, once it finished,
its outputs (``mloop.step.outputs``). A resume reuses the outputs of steps
that finished, and only of those whose upstream steps all finished too; a
step run the dead process left RUNNING is closed as KILLED.

Example:
    >>> StepState("train", "FINISHED").cached
    False
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

from mloop.entities import Run, RunStatus
from mloop.pipelines.graph import Graph
from mloop.pipelines.tasks import StoredValue
from mloop.tracking.client import Client

KIND = "mloop.kind"
OUTPUTS_TAG = "mloop.step.outputs"
NODE_TAG = "mloop.step.node"
CACHE_TAG = "mloop.pipeline.cache"


@dataclasses.dataclass(frozen=True)
class StepState:
    """How one step of a pipeline run ended (``SKIPPED``: never ran, as after a failure)."""

    node: str
    status: str
    run_id: str | None = None
    cached: bool = False
    seconds: float = 0.0
    outputs: Mapping[str, StoredValue] = dataclasses.field(default_factory=dict)
    error: str | None = None


def step_runs(client: Client, run: Run) -> list[Run]:
    """The step runs of a pipeline run, oldest first."""
    found = client.search_runs(
        [run.info.experiment_id],
        filter_string=f"tags.mloop.parentRunId = '{run.info.run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=50_000,
    )
    return [r for r in found if r.data.tags.get(KIND) == "step"]


def finished_steps(client: Client, run: Run, graph: Graph) -> dict[str, StepState]:
    """Steps of ``run`` that finished, whose outputs a resume reuses.

    A step counts only when every step upstream of it counts too: a step that
    runs again may give another output, so nothing computed from its old output
    is reused.
    """
    recorded: dict[str, StepState] = {}
    for step_run in step_runs(client, run):
        node_id = step_run.data.tags.get(NODE_TAG, "")
        raw = step_run.data.tags.get(OUTPUTS_TAG)
        if step_run.info.status != RunStatus.FINISHED or node_id not in graph.nodes or not raw:
            continue
        outputs = {k: StoredValue(**v) for k, v in json.loads(raw).items()}
        recorded[node_id] = StepState(node_id, "FINISHED", step_run.info.run_id, True, 0.0, outputs)
    done: dict[str, StepState] = {}
    for node in graph.order():
        if node.id in recorded and graph.upstream(node.id) <= done.keys():
            done[node.id] = recorded[node.id]
    return done


def close_dead_steps(client: Client, run: Run) -> list[str]:
    """Mark the step runs a dead pipeline process left RUNNING as KILLED; returns their ids.

    Called by :func:`resume`, which only runs once the process that ran ``run`` is gone.
    """
    closed = []
    for step_run in step_runs(client, run):
        if step_run.info.status == RunStatus.RUNNING:
            client.set_terminated(
                step_run.info.run_id,
                RunStatus.KILLED,
                error="the pipeline process stopped while this step ran; resumed in a new run",
            )
            closed.append(step_run.info.run_id)
    return closed
