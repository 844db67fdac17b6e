from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.entities import RunStatus
from mloop.errors import InvalidInput, NotFound, PipelineFailed
from mloop.pipelines.runner import step_runs
from tests.pipelines import flows


@pytest.fixture(autouse=True)
def reset_flows(home: Path) -> Iterator[None]:
    flows.CALLS.clear()
    flows.FAIL.clear()
    flows.FLAKY.clear()
    yield
    flows.FAIL.clear()
    flows.FLAKY.clear()


def steps_of(run_id: str) -> dict[str, mloop.Run]:
    client = mloop.Client()
    return {r.data.tags["mloop.step.node"]: r for r in step_runs(client, client.get_run(run_id))}


def test_a_pipeline_runs_and_is_tracked() -> None:
    result = flows.training.run(rows=40, lr=0.5)
    assert result.ok
    assert list(result.steps) == ["load", "split", "train", "evaluate"]
    assert result.output("evaluate") == pytest.approx(14.5 * 0.5 + 10)
    frame = result.output("split", "train")
    assert isinstance(frame, pd.DataFrame) and len(frame) == 30

    client = mloop.Client()
    run = client.get_run(result.run_id)
    assert run.info.status == RunStatus.FINISHED
    assert run.data.tags["mloop.kind"] == "pipeline"
    assert run.data.params == {"rows": "40", "lr": "0.5"}
    graph = json.loads(client.load_text(result.run_id, "pipeline/graph.json"))
    assert [n["id"] for n in graph["nodes"]] == ["load", "split", "train", "evaluate"]

    steps = steps_of(result.run_id)
    train = steps["train"]
    assert train.data.tags["mloop.parentRunId"] == result.run_id
    assert train.data.params == {"lr": "0.5"}
    assert train.data.metrics["train_loss"] == 0.25  # logged inside the step
    assert train.info.end_time is not None and train.info.end_time >= train.info.start_time
    assert "mloop.user" in run.data.tags  # the pipeline run records where it runs,
    assert "mloop.user" not in train.data.tags  # its steps do not repeat it
    assert client.load_text(steps["load"].info.run_id, "logs/attempt-1/stdout.txt") == (
        "loading 40 rows\n"
    )
    artifacts = [a.path for a in client.list_artifacts(steps["split"].info.run_id, "outputs")]
    assert artifacts == ["outputs/test.parquet", "outputs/train.parquet"]


def test_lineage_links_outputs_to_the_steps_that_made_and_used_them() -> None:
    result = flows.training.run()
    digest = result.steps["train"].outputs["output"].digest
    edges = mloop.Client().find_io(digest)
    by_direction = {io.direction: run_id for run_id, io in edges}
    assert by_direction["output"] == result.steps["train"].run_id
    assert by_direction["input"] == result.steps["evaluate"].run_id


def test_a_second_run_reuses_every_step() -> None:
    first = flows.training.run()
    flows.CALLS.clear()
    second = flows.training.run()
    assert not flows.CALLS
    assert all(state.cached for state in second.steps.values())
    assert second.output("evaluate") == first.output("evaluate")
    tags = steps_of(second.run_id)["train"].data.tags
    assert tags["mloop.step.cached_from"] == first.steps["train"].run_id


def test_a_new_param_reruns_only_what_depends_on_it() -> None:
    flows.training.run(lr=0.1)
    flows.CALLS.clear()
    result = flows.training.run(lr=0.2)
    assert sorted(flows.CALLS) == ["evaluate", "train"]
    assert [s.cached for s in result.steps.values()] == [True, True, False, False]


def test_changed_code_and_no_cache_run_again() -> None:
    flows.training.run()
    flows.CALLS.clear()
    flows.split.__dict__["source_digest"] = "0" * 64  # as if its source changed
    try:
        flows.training.run()
    finally:
        del flows.split.__dict__["source_digest"]
    # split ran again; its outputs are byte-identical, so what follows is still reused
    assert sorted(flows.CALLS) == ["split"]
    flows.CALLS.clear()
    flows.training.run(cache=False)
    assert sorted(flows.CALLS) == ["evaluate", "load", "split", "train"]


def test_a_flaky_step_succeeds_on_retry() -> None:
    flows.FLAKY["train"] = 2
    result = flows.training.run()
    assert result.ok
    assert flows.CALLS["train"] == 3
    run = steps_of(result.run_id)["train"]
    assert run.data.tags["mloop.step.attempts"] == "3"
    client = mloop.Client()
    error = client.load_text(run.info.run_id, "logs/attempt-1/error.txt")
    assert "ConnectionError: train is flaky" in error


def test_a_failing_step_fails_the_pipeline_and_resume_finishes_it() -> None:
    flows.FAIL.add("train")
    with pytest.raises(PipelineFailed, match="step 'train' failed: RuntimeError") as info:
        flows.training.run()
    run_id = info.value.run_id
    assert info.value.step == "train"
    assert flows.CALLS["train"] == 3  # the first attempt and its two retries
    client = mloop.Client()
    assert client.get_run(run_id).info.status == RunStatus.FAILED
    statuses = {node: r.info.status for node, r in steps_of(run_id).items()}
    assert statuses == {
        "load": RunStatus.FINISHED,
        "split": RunStatus.FINISHED,
        "train": RunStatus.FAILED,
    }

    flows.FAIL.clear()
    flows.CALLS.clear()
    resumed = mloop.pipelines.resume(run_id)
    assert resumed.run_id == run_id and resumed.ok
    assert sorted(flows.CALLS) == ["evaluate", "train"]  # finished steps are reused
    assert client.get_run(run_id).info.status == RunStatus.FINISHED
    with pytest.raises(InvalidInput, match="already finished"):
        mloop.pipelines.resume(run_id)


def test_independent_branches_finish_when_one_fails(tmp_path: Path) -> None:
    with pytest.raises(PipelineFailed) as info:
        flows.branches.run(flag=str(tmp_path / "missing"))
    steps = steps_of(info.value.run_id)
    assert steps["fails_unless"].info.status == RunStatus.FAILED
    assert "missing" in (steps["fails_unless"].info.error or "")


def test_ctrl_c_marks_the_pipeline_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(flows.evaluate, "func", interrupted)
    with pytest.raises(KeyboardInterrupt):
        flows.training.run()
    (pipeline_run,) = mloop.search_runs(
        filter_string="tags.`mloop.kind` = 'pipeline'", output_format="list"
    )
    assert pipeline_run.info.status == RunStatus.KILLED
    assert steps_of(pipeline_run.info.run_id)["evaluate"].info.status == RunStatus.KILLED


def test_steps_run_in_parallel_processes(tmp_path: Path) -> None:
    result = flows.parallel.run(folder=str(tmp_path), max_workers=2, cache=False)
    assert result.ok  # each step waited for the other: they ran at the same time
    assert result.output("rendezvous") != result.output("rendezvous_2")  # in two processes


def test_fan_in_across_processes_gives_the_same_result() -> None:
    assert flows.fan.run(n=2, max_workers=2).output("total") == 4 + 9 + 16


def test_a_step_past_its_timeout_is_stopped() -> None:
    with pytest.raises(PipelineFailed, match=r"took longer than 0\.5 s"):
        flows.too_slow.run(seconds=30, max_workers=2)


def test_unknown_outputs_and_executors() -> None:
    result = flows.fan.run(n=1)
    with pytest.raises(NotFound, match=r"no output square\.nope"):
        result.output("square", "nope")
    with pytest.raises(InvalidInput, match="unknown executor 'nope'"):
        flows.fan.run(executor="nope")
    with pytest.raises(InvalidInput, match="max_workers must be"):
        flows.fan.run(max_workers=0)
    with pytest.raises(InvalidInput, match="not a pipeline run"):
        mloop.pipelines.resume(result.steps["square"].run_id or "")
