"""Item 3: SIGTERM and SIGHUP write what is buffered and end the run KILLED; SIGKILL's loss is bounded.

Each case is a real Python process logging to the test's store, stopped with
a real signal once it reached a chosen point (a file it creates).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mloop.entities import LifecycleStage, RunInfo, RunStatus
from mloop.store.protocols.tracking import Batch
from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set
from mloop.tracking import connection, interrupts, liveness
from mloop.tracking.client import Client
from mloop.tracking.writer import BatchWriter
from tests.faults.processes import python_env, start_python, stop, wait_for_file

# Nothing is written before the signal unless the test asks for it.
BUFFERED = {"MLOOP_FLUSH_INTERVAL": "600", "MLOOP_BATCH_SIZE": "10000000"}

LOGGER = """
import mloop, os, signal, sys, time
{setup}
{open_run}
    print(run.info.run_id, flush=True)
    i = 0
    while True:
        mloop.log_metric("m", float(i), step=i)
        i += 1
        if i == {mark}:
            open({ready!r}, "w").close()
            {after_mark}
"""


def _start(
    tmp_path: Path,
    *,
    with_block: bool = True,
    setup: str = "",
    mark: int = 20_000,
    after_mark: str = "pass",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[str], Path]:
    ready = tmp_path / "ready"
    open_run = (
        'with mloop.start_run(run_name="job") as run:'
        if with_block
        else 'run = mloop.start_run(run_name="job")\nif True:'
    )
    code = LOGGER.format(
        setup=setup, open_run=open_run, mark=mark, ready=str(ready), after_mark=after_mark
    )
    process = start_python(code, cwd=tmp_path, env={**BUFFERED, **(env or {})})
    return process, ready


def _contiguous_steps(client: Client, run_id: str) -> int:
    steps = [m.step for m in client.get_metric_history(run_id, "m")]
    assert steps == list(range(len(steps))), "a point in the middle was lost"
    return len(steps)


@pytest.mark.parametrize("with_block", [True, False])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminating_signal_writes_everything_and_ends_the_run_killed(
    home: Path, tmp_path: Path, sig: signal.Signals, with_block: bool
) -> None:
    process, ready = _start(tmp_path, with_block=with_block)
    wait_for_file(ready, process)
    done = stop(process, sig)
    assert done.returncode == -sig, done.stderr  # as the default handler would exit
    run_id = done.stdout.split()[0]
    client = Client()
    run = client.get_run(run_id)
    assert run.info.status == RunStatus.KILLED
    assert run.info.error == f"terminated by {sig.name}"
    assert _contiguous_steps(client, run_id) >= 20_000


def test_the_programs_own_handler_is_kept_and_nothing_is_lost(home: Path, tmp_path: Path) -> None:
    setup = (
        "def mine(signum, frame):\n"
        "    print('mine', signum, flush=True)\n"
        "    sys.exit(3)\n"
        "signal.signal(signal.SIGTERM, mine)"
    )
    process, ready = _start(tmp_path, setup=setup)
    wait_for_file(ready, process)
    done = stop(process, signal.SIGTERM)
    assert done.returncode == 3
    assert f"mine {int(signal.SIGTERM)}" in done.stdout
    run_id = done.stdout.split()[0]
    assert _contiguous_steps(Client(), run_id) >= 20_000


def test_sigkill_loses_at_most_max_pending_and_the_run_shows_as_dead(
    home: Path, tmp_path: Path
) -> None:
    env = {"MLOOP_BATCH_SIZE": "500", "MLOOP_MAX_PENDING": "2000"}
    process, ready = _start(tmp_path, after_mark="time.sleep(600)", env=env)
    wait_for_file(ready, process)
    done = stop(process, signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    run_id = done.stdout.split()[0]
    client = Client()
    stored = len(client.get_metric_history(run_id, "m"))
    assert 20_000 - stored <= 2_000, f"lost {20_000 - stored} points; max_pending is 2,000"
    info = client.get_run(run_id).info
    assert info.status == RunStatus.RUNNING
    assert info.owner is not None and info.owner.endswith(f":{process.pid}")
    assert liveness.is_dead(info)
    listed = subprocess.run(
        [sys.executable, "-m", "mloop", "runs", "ls", "--json"],
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (row,) = json.loads(listed.stdout)
    assert (row["status"], row["dead"]) == ("RUNNING", True)
    shown = subprocess.run(
        [sys.executable, "-m", "mloop", "runs", "show", run_id],
        env=python_env({"COLUMNS": "200"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "RUNNING (dead)" in shown.stdout


# -- the bound itself, and the heartbeat, in this process ----------------------------
class HoldingStore:
    """Holds the first batch a while (the producer logs on); records the most points not durable."""

    def __init__(self, stores: StoreSet) -> None:
        self.inner = stores.runs
        self.added = 0
        self.durable = 0
        self.worst = 0
        self.entered = threading.Event()

    def write_batch(self, batch: Batch) -> None:
        if not self.entered.is_set():
            self.entered.set()
            time.sleep(0.5)
        self.worst = max(self.worst, self.added - self.durable)
        self.inner.write_batch(batch)
        self.durable += len(batch.metrics)


def test_max_pending_counts_the_batch_being_written(tmp_path: Path) -> None:
    stores = open_sql_store_set(f"sqlite:///{tmp_path}/b.db")
    run_id = stores.runs.create_run(stores.experiments.create_experiment("e"), "r", 0, {}).run_id
    store = HoldingStore(stores)
    writer = BatchWriter(store, flush_interval=600, batch_size=10, max_pending=50)  # type: ignore[arg-type]
    for i in range(300):
        store.added += 1
        writer.add_metric((run_id, "m", float(i), 0, i))
        store.worst = max(store.worst, store.added - store.durable)
        if i == 9:  # the writer thread has taken the first 10 points and is writing them
            assert store.entered.wait(10)
    writer.close()
    assert store.worst <= 50, f"{store.worst} points were not durable at once; max_pending is 50"
    assert len(stores.runs.get_metric_history(run_id, "m")) == 300
    stores.close()


def test_the_writer_keeps_its_runs_alive_with_heartbeats(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(liveness, "HEARTBEAT_INTERVAL", 0.01)
    monkeypatch.setenv("MLOOP_FLUSH_INTERVAL", "0.01")
    client = Client()
    run = client.create_run(client.create_experiment("e"))
    client.flush()
    first = client.get_run(run.info.run_id).info
    assert first.owner == liveness.process_owner()
    assert first.heartbeat_time == run.info.start_time
    beaten = threading.Event()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not beaten.is_set():
        info = client.get_run(run.info.run_id).info
        if info.heartbeat_time and info.heartbeat_time > run.info.start_time:
            beaten.set()
        time.sleep(0.02)
    assert beaten.is_set()
    assert not liveness.is_dead(client.get_run(run.info.run_id).info)


def test_a_silent_owner_on_another_host_is_dead() -> None:
    now = liveness.now_millis()
    base = RunInfo("r", "1", "n", RunStatus.RUNNING, 0, None, LifecycleStage.ACTIVE, "")
    silent = RunInfo(**{**_fields(base), "owner": "elsewhere:1", "heartbeat_time": 0})
    fresh = RunInfo(**{**_fields(base), "owner": "elsewhere:1", "heartbeat_time": now})
    assert liveness.is_dead(silent) and liveness.status_text(silent) == "RUNNING (dead)"
    assert not liveness.is_dead(fresh) and liveness.status_text(fresh) == "RUNNING"
    assert not liveness.is_dead(base)  # no owner recorded: nothing to say


def _fields(info: RunInfo) -> dict[str, object]:
    return {name: getattr(info, name) for name in RunInfo.__dataclass_fields__}


def test_a_signal_during_a_write_is_raised_once_the_batch_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interrupts, "_received", [])  # this process was never signalled
    stores = open_sql_store_set(f"sqlite:///{tmp_path}/s.db")
    run_id = stores.runs.create_run(stores.experiments.create_experiment("e"), "r", 0, {}).run_id

    class SignalledStore:
        def write_batch(self, batch: Batch) -> None:
            interrupts.raise_terminated(signal.SIGTERM, None)  # arrives mid-write
            stores.runs.write_batch(batch)

    writer = BatchWriter(SignalledStore(), flush_interval=600)  # type: ignore[arg-type]
    writer.add_metrics([(run_id, "m", float(i), 0, i) for i in range(1_000)])
    with pytest.raises(interrupts.Terminated):
        writer.flush()
    assert len(stores.runs.get_metric_history(run_id, "m")) == 1_000
    assert writer.pending == 0
    stores.close()


def test_dying_never_overwrites_a_run_another_process_ended(home: Path) -> None:
    client = Client()
    exp = client.create_experiment("e")
    mine, theirs = (client.create_run(exp, run_name=n).info.run_id for n in ("mine", "theirs"))
    client.flush()
    other = open_sql_store_set(client.tracking_uri)
    other.runs.update_run(theirs, status=RunStatus.FINISHED, end_time=liveness.now_millis())
    other.close()
    connection.end_owned_runs(RunStatus.KILLED, "terminated by SIGTERM")
    assert client.get_run(mine).info.status == RunStatus.KILLED
    assert client.get_run(theirs).info.status == RunStatus.FINISHED


# -- a second signal, and a process whose last writes hang ------------------------------
STALL_FLUSH = """
import threading
from pathlib import Path
from mloop.tracking import lifecycle, writer
lifecycle.TERMINATION_GRACE = {grace}
_flush = writer.BatchWriter.flush
def stalled_flush(self):
    if Path({ready!r}).exists():  # the signal came: the last writes begin
        open({flushing!r}, "w").close()
        while not Path({go!r}).exists():
            threading.Event().wait(0.01)
    _flush(self)
writer.BatchWriter.flush = stalled_flush
"""


@pytest.mark.parametrize("with_block", [True, False])
def test_a_second_sigterm_during_the_last_writes_is_only_recorded(
    home: Path, tmp_path: Path, with_block: bool
) -> None:
    flushing, go = tmp_path / "flushing", tmp_path / "go"
    setup = STALL_FLUSH.format(
        grace=60, ready=str(tmp_path / "ready"), flushing=str(flushing), go=str(go)
    )
    process, ready = _start(tmp_path, with_block=with_block, setup=setup)
    wait_for_file(ready, process)
    process.send_signal(signal.SIGTERM)
    wait_for_file(flushing, process)  # writing what is buffered, when the second one comes
    process.send_signal(signal.SIGTERM)
    go.touch()
    done = stop(process, signal.SIGTERM)  # a third one, for good measure
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert "Error in sys.excepthook" not in done.stderr, done.stderr
    run_id = done.stdout.split()[0]
    client = Client()
    assert client.get_run(run_id).info.status == RunStatus.KILLED
    assert _contiguous_steps(client, run_id) >= 20_000


def test_a_process_whose_last_writes_hang_still_ends_within_the_grace(
    home: Path, tmp_path: Path
) -> None:
    never = tmp_path / "never"  # the stalled flush waits for it forever
    setup = STALL_FLUSH.format(
        grace=1.0, ready=str(tmp_path / "ready"), flushing=str(tmp_path / "f"), go=str(never)
    )
    process, ready = _start(tmp_path, setup=setup)
    wait_for_file(ready, process)
    started = time.monotonic()
    done = stop(process, signal.SIGTERM, timeout=30)
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert time.monotonic() - started < 20
    assert "did not end within 1.0 s of SIGTERM" in done.stderr
    assert "buffered item(s)" in done.stderr and "stalled_flush" in done.stderr


def test_a_failure_while_unwinding_from_sigterm_still_exits_as_sigterm(
    home: Path, tmp_path: Path
) -> None:
    setup = (
        "from pathlib import Path\n"
        "from mloop.errors import StoreError\n"
        "from mloop.tracking import writer\n"
        "_flush = writer.BatchWriter.flush\n"
        "failed = []\n"
        "def failing_once(self):\n"
        f"    if Path({str(tmp_path / 'ready')!r}).exists() and not failed:\n"
        "        failed.append(1)\n"
        "        raise StoreError('the store went away for a moment')\n"
        "    _flush(self)\n"
        "writer.BatchWriter.flush = failing_once"
    )
    process, ready = _start(tmp_path, setup=setup)
    wait_for_file(ready, process)
    done = stop(process, signal.SIGTERM)
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert "the store went away" in done.stderr
    run_id = done.stdout.split()[0]
    client = Client()
    assert client.get_run(run_id).info.status == RunStatus.KILLED
    assert _contiguous_steps(client, run_id) >= 20_000
