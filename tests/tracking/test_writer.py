from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.entities import LifecycleStage, RunStatus
from mloop.errors import NotFound, StoreError
from mloop.store.protocols.tracking import Batch, Termination
from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set
from mloop.tracking import writer as writer_module
from mloop.tracking.writer import BatchWriter


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[StoreSet]:
    stores = open_sql_store_set(f"sqlite:///{tmp_path}/w.db")
    yield stores
    stores.close()


def _run(stores: StoreSet) -> str:
    exp = stores.experiments.create_experiment(f"e{time.time_ns()}")
    return stores.runs.create_run(exp, "r", 0, {}).run_id


def test_background_thread_writes_without_flush(stores: StoreSet) -> None:
    run_id = _run(stores)
    writer = BatchWriter(stores.runs, flush_interval=0.05)
    writer.add_metric((run_id, "m", 1.0, 0, 0))
    # Wait on what the test means, the point committed and readable from the store:
    # `pending` can read 0 between the thread draining its queue and counting the
    # drained batch as in flight, before anything is committed.
    deadline = time.monotonic() + 5
    history = stores.runs.get_metric_history(run_id, "m")
    while not history and time.monotonic() < deadline:
        time.sleep(0.01)
        history = stores.runs.get_metric_history(run_id, "m")
    assert [m.value for m in history] == [1.0]  # written by the thread: nothing flushed yet
    writer.close()


def test_back_pressure_bounds_the_buffer(stores: StoreSet) -> None:
    run_id = _run(stores)
    writer = BatchWriter(stores.runs, flush_interval=60, batch_size=10, max_pending=50)
    for i in range(200):
        writer.add_metric((run_id, "m", float(i), 0, i))
        assert writer.pending <= 50
    writer.close()
    assert len(stores.runs.get_metric_history(run_id, "m")) == 200


def test_end_run_after_metrics(stores: StoreSet) -> None:
    run_id = _run(stores)
    writer = BatchWriter(stores.runs, flush_interval=60)
    writer.add_metrics([(run_id, "m", 1.0, 0, 0)])
    writer.add_tag(run_id, "t", "v")
    writer.end_run(Termination(run_id, RunStatus.FINISHED, 10))
    run = stores.runs.get_run(run_id)
    assert (run.info.status, run.data.metrics, run.data.tags) == (
        RunStatus.FINISHED,
        {"m": 1.0},
        {"t": "v"},
    )
    writer.close()


def test_background_failure_surfaces_on_flush(stores: StoreSet) -> None:
    run_id = _run(stores)
    stores.runs.set_run_stage(run_id, LifecycleStage.DELETED)
    stores.runs.purge_runs(int(time.time() * 1000) + 1000)
    writer = BatchWriter(stores.runs, flush_interval=0.01)
    writer.add_metric((run_id, "m", 1.0, 0, 0))
    time.sleep(0.2)
    with pytest.raises(NotFound):
        writer.flush()
    writer.flush()  # reported once
    writer.close()


class FlakyStore:
    """Fails the first ``failures`` writes with a transient error, then delegates."""

    def __init__(self, stores: StoreSet, failures: int = 1) -> None:
        self.inner = stores.runs
        self.calls = 0
        self.failures = failures

    def write_batch(self, batch: Batch) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise StoreError("database is locked")
        self.inner.write_batch(batch)


def test_a_transient_failure_is_retried_without_an_error(
    stores: StoreSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "RETRY_DELAY", 0.0)
    run_id = _run(stores)
    writer = BatchWriter(FlakyStore(stores), flush_interval=60)  # type: ignore[arg-type]
    writer.add_metric((run_id, "m", 1.0, 0, 0))
    writer.flush()
    assert [m.value for m in stores.runs.get_metric_history(run_id, "m")] == [1.0]
    writer.close()


def test_transient_failure_keeps_the_batch(
    stores: StoreSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "RETRY_DELAY", 0.0)
    run_id = _run(stores)
    flaky = FlakyStore(stores, failures=writer_module.RETRIES)
    writer = BatchWriter(flaky, flush_interval=60)  # type: ignore[arg-type]
    writer.add_metric((run_id, "m", 1.0, 0, 0))
    with pytest.raises(StoreError):
        writer.flush()
    assert writer.pending == 1
    writer.add_metric((run_id, "m", 2.0, 0, 1))
    writer.flush()
    assert [m.value for m in stores.runs.get_metric_history(run_id, "m")] == [1.0, 2.0]
    writer.close()
