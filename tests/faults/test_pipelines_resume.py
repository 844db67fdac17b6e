"""Resume after a killed ``mloop pipeline run``: finished steps are never run again.

A real ``mloop pipeline run`` process is killed (SIGKILL, SIGINT) while its
second step runs; ``mloop pipeline resume`` must reuse the first step's output,
run the rest, and close the step run the dead process left RUNNING as KILLED.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mloop
from mloop.entities import RunStatus
from mloop.errors import Conflict
from mloop.pipelines.runner import step_runs

FLOW = textwrap.dedent(
    """
    import os, pathlib, time
    import mloop

    LOG = pathlib.Path(os.environ["FLOW_DIR"])

    def _wait_for(name):
        deadline = time.monotonic() + 30
        while not (LOG / name).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(name)
            time.sleep(0.02)

    @mloop.step(cache=False)
    def first() -> int:
        with (LOG / "first.calls").open("a") as f:
            f.write("x")
        return len((LOG / "first.calls").read_text())  # differs on every execution

    @mloop.step(cache=False)
    def second(value: int) -> int:
        (LOG / "second.started").write_text("")
        _wait_for("release")
        return value * 10

    @mloop.step(cache=False)
    def third(value: int) -> int:
        return value + 1

    @mloop.pipeline
    def flow():
        third(second(first()))
    """
)


def _spawn(flow_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FLOW_DIR": str(flow_dir), "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "mloop", *args],
        cwd=flow_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the pipeline process ended early ({process.returncode}): {out}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def _wait_for_step_on_record(node: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        client = mloop.Client()
        experiment = client.get_experiment_by_name("Default")
        if experiment is not None and client.search_runs(
            [experiment.experiment_id], filter_string=f"tags.`mloop.step.node` = '{node}'"
        ):
            return
        assert time.monotonic() < deadline, f"step {node} never reached the store"
        time.sleep(0.05)


def _pipeline_run_id() -> str:
    client = mloop.Client()
    found = client.search_runs(
        [client.get_experiment_by_name("Default").experiment_id],  # type: ignore[union-attr]
        filter_string="tags.`mloop.kind` = 'pipeline'",
    )
    assert len(found) == 1
    return found[0].info.run_id


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_resume_after_a_kill_reuses_finished_steps(
    home: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    (flow_dir / "killflow.py").write_text(FLOW)
    process = _spawn(flow_dir, "pipeline", "run", "killflow:flow")
    try:
        _wait_for(flow_dir / "second.started", process)
        _wait_for_step_on_record("second")  # written within the flush interval, as any run
        process.send_signal(sig)
    finally:
        if process.poll() is None and sig != signal.SIGINT:
            process.kill()
        process.communicate(timeout=20)
    run_id = _pipeline_run_id()
    (flow_dir / "release").write_text("")

    resumed = _spawn(flow_dir, "pipeline", "resume", run_id)
    out, _ = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, out.decode()

    assert (flow_dir / "first.calls").read_text() == "x"  # the finished root step never re-ran
    client = mloop.Client()
    runs = step_runs(client, client.get_run(run_id))
    by_node: dict[str, list[mloop.Run]] = {}
    for run in runs:
        by_node.setdefault(run.data.tags["mloop.step.node"], []).append(run)
    assert [r.info.status for r in by_node["first"]] == [RunStatus.FINISHED]
    assert [r.info.status for r in by_node["second"]] == [RunStatus.KILLED, RunStatus.FINISHED]
    assert [r.info.status for r in by_node["third"]] == [RunStatus.FINISHED]
    assert client.get_run(run_id).info.status == RunStatus.FINISHED


def test_a_pipeline_still_running_is_not_resumed(home: Path, tmp_path: Path) -> None:
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    (flow_dir / "liveflow.py").write_text(FLOW)
    process = _spawn(flow_dir, "pipeline", "run", "liveflow:flow")
    try:
        _wait_for(flow_dir / "second.started", process)
        run_id = _pipeline_run_id()
        refused = _spawn(flow_dir, "pipeline", "resume", run_id)
        out, _ = refused.communicate(timeout=60)
        assert refused.returncode == Conflict.exit_code, out.decode()
        assert "still running" in out.decode() and str(process.pid) in out.decode()
        (flow_dir / "release").write_text("")
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=20)
    assert (flow_dir / "first.calls").read_text() == "x"  # nothing ran twice
    assert mloop.Client().get_run(run_id).info.status == RunStatus.FINISHED


CALLS: list[str] = []


@mloop.step(cache=False)
def _root() -> int:
    CALLS.append("root")
    return len(CALLS)


@mloop.step(cache=False)
def _child(value: int) -> int:
    CALLS.append("child")
    return value * 10


@mloop.pipeline
def _chain() -> None:
    _child(_root())


def test_resume_recomputes_what_depends_on_a_step_that_runs_again(home: Path) -> None:
    result = _chain.run()
    client = mloop.Client()
    root_run = result.steps["_root"].run_id
    assert root_run is not None
    # As if the root step's end never reached the store while its consumer's did.
    client.update_run(root_run, status=RunStatus.FAILED)
    client.update_run(result.run_id, status=RunStatus.FAILED)
    CALLS.clear()
    resumed = mloop.pipelines.resume(result.run_id)
    assert CALLS == ["root", "child"]  # the consumer of a re-executed step is not reused
    assert resumed.output("_child") == 10


FAIL: set[str] = set()


@mloop.step
def _counted() -> int:
    CALLS.append("counted")
    if FAIL:
        raise RuntimeError("asked to fail")
    return 1


@mloop.pipeline
def _single() -> None:
    _counted()


def test_resume_of_a_run_without_the_cache_does_not_use_it(home: Path) -> None:
    CALLS.clear()
    assert _single.run().ok  # leaves a cache entry behind
    FAIL.add("yes")
    try:
        with pytest.raises(mloop.errors.PipelineFailed) as info:
            _single.run(cache=False)
    finally:
        FAIL.clear()
    mloop.pipelines.resume(info.value.run_id)
    assert CALLS == ["counted"] * 3  # the resumed step ran, as its run asked for


# Both resumers pass the liveness check before either takes the run over: the
# check waits until the other process has made it too (a file rendezvous).
RACING_RESUME = """
import os, pathlib, sys, time
from mloop.tracking import liveness

here = pathlib.Path(os.environ["FLOW_DIR"])
real_is_dead = liveness.is_dead

def is_dead_after_rendezvous(info, now=None):
    (here / f"checked.{os.getpid()}").write_text("")
    deadline = time.monotonic() + 20
    while len(list(here.glob("checked.*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return real_is_dead(info, now)

liveness.is_dead = is_dead_after_rendezvous
sys.argv = ["mloop", "pipeline", "resume", sys.argv[1]]
from mloop.cli.app import main
main()
"""


def test_two_resumes_at_once_one_wins(home: Path, tmp_path: Path) -> None:
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    (flow_dir / "raceflow.py").write_text(FLOW)
    process = _spawn(flow_dir, "pipeline", "run", "raceflow:flow")
    try:
        _wait_for(flow_dir / "second.started", process)
        _wait_for_step_on_record("second")
        process.kill()
    finally:
        process.communicate(timeout=20)
    run_id = _pipeline_run_id()
    (flow_dir / "release").write_text("")
    (flow_dir / "second.started").unlink()

    env = {**os.environ, "FLOW_DIR": str(flow_dir), "PYTHONPATH": os.pathsep.join(sys.path)}
    resumers = [
        subprocess.Popen(
            [sys.executable, "-c", RACING_RESUME, run_id],
            cwd=flow_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = []
    for resumer in resumers:
        try:
            out, _ = resumer.communicate(timeout=60)
        finally:
            if resumer.poll() is None:
                resumer.kill()
        outcomes.append((resumer.returncode, out))
    assert len(list(flow_dir.glob("checked.*"))) == 2  # both passed the liveness check
    assert sorted(code for code, _ in outcomes) == [0, Conflict.exit_code], outcomes
    lost = next(out for code, out in outcomes if code == Conflict.exit_code)
    winner = next(r.pid for r, (code, _) in zip(resumers, outcomes, strict=True) if code == 0)
    assert "being resumed by process" in lost and str(winner) in lost

    client = mloop.Client()
    by_node: dict[str, list[RunStatus]] = {}
    for run in step_runs(client, client.get_run(run_id)):
        by_node.setdefault(run.data.tags["mloop.step.node"], []).append(run.info.status)
    assert by_node == {
        "first": [RunStatus.FINISHED],
        "second": [RunStatus.KILLED, RunStatus.FINISHED],  # run once more, by the winner only
        "third": [RunStatus.FINISHED],
    }
    assert (flow_dir / "first.calls").read_text() == "x"
    assert client.get_run(run_id).info.status == RunStatus.FINISHED
