"""The Ray executor against a real local Ray (started once for this module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mloop
from mloop.entities import RunStatus
from mloop.errors import PipelineFailed
from mloop.pipelines.runner import step_runs
from tests.cli.test_pipeline import run_with_global_stores
from tests.pipelines import flows

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_pipeline_runs_on_ray_and_is_tracked(home: Path) -> None:
    result = flows.training.run(rows=40, lr=0.5, executor="ray")
    assert result.ok
    assert result.output("evaluate") == pytest.approx(14.5 * 0.5 + 10)
    client = mloop.Client()
    run = client.get_run(result.run_id)
    assert run.data.tags["mloop.pipeline.executor"] == "ray"
    steps = {r.data.tags["mloop.step.node"]: r for r in step_runs(client, run)}
    assert steps["train"].data.metrics["train_loss"] == 0.25  # logged from the Ray worker
    stdout = client.load_text(steps["load"].info.run_id, "logs/attempt-1/stdout.txt")
    assert stdout == "loading 40 rows\n"
    again = flows.training.run(rows=40, lr=0.5, executor="ray")
    assert all(s.cached for s in again.steps.values())


def test_independent_steps_run_at_once_on_ray(home: Path, tmp_path: Path) -> None:
    result = flows.parallel.run(folder=str(tmp_path), executor="ray", cache=False)
    assert result.ok  # each step waited for the other: they ran at the same time


def test_a_failing_step_on_ray_and_resume_locally(home: Path, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    with pytest.raises(PipelineFailed, match="flag is missing") as info:
        flows.branches.run(flag=str(flag), executor="ray")
    flag.write_text("now it exists")
    resumed = mloop.pipelines.resume(info.value.run_id)
    assert resumed.ok
    assert mloop.Client().get_run(info.value.run_id).info.status == RunStatus.FINISHED


def test_a_step_past_its_timeout_is_cancelled(home: Path) -> None:
    with pytest.raises(PipelineFailed, match=r"took longer than 0\.5 s and was cancelled"):
        flows.too_slow.run(seconds=30, executor="ray")


def test_resources_the_cluster_cannot_give_fail_the_step(home: Path) -> None:
    @mloop.step(resources={"gpus": 1})
    def needs_gpu() -> int:
        return 1

    @mloop.pipeline
    def gpu() -> None:
        needs_gpu()

    with pytest.raises(PipelineFailed, match="asks for 1 GPU, but the Ray cluster has 0"):
        gpu.run(executor="ray")


def test_a_step_defined_in_a_function_travels_by_value(home: Path) -> None:
    @mloop.step
    def local_step(x: int) -> int:
        return x * 10

    @mloop.pipeline
    def local_pipeline() -> None:
        local_step(4)

    assert local_pipeline.run(executor="ray").output("local_step") == 40


def test_the_cli_global_stores_reach_ray_tasks(home: Path, tmp_path: Path) -> None:
    run_with_global_stores(home, tmp_path, "--executor", "ray")
