"""A Ctrl-C (or any exception) in the middle of a write never loses the batch drained for it.

The writer keeps a drained batch until the store confirmed it, through the
retries and through the salvage of a refused batch; and in the main thread it
holds Ctrl-C back while it writes, as it does SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mloop.errors import InvalidInput
from mloop.store.protocols.tracking import Batch
from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set
from mloop.tracking import interrupts, writer
from mloop.tracking.writer import BatchWriter

POINTS = 1_000


@pytest.fixture
def stores(tmp_path: Path) -> Any:
    opened = open_sql_store_set(f"sqlite:///{tmp_path}/w.db")
    yield opened
    opened.close()


class InterruptedStore:
    """Fails the n-th write with ``failure()``; the other writes go through."""

    def __init__(self, stores: StoreSet, n: int, failure: Callable[[Batch], BaseException]) -> None:
        self.inner, self.n, self.failure, self.calls = stores.runs, n, failure, 0

    def write_batch(self, batch: Batch) -> None:
        self.calls += 1
        if self.calls == self.n:
            raise self.failure(batch)
        self.inner.write_batch(batch)


def _run(stores: StoreSet, experiment: str = "e") -> str:
    return stores.runs.create_run(
        stores.experiments.create_experiment(experiment), "r", 0, {}
    ).run_id


def _flush_until_written(w: BatchWriter) -> None:
    with pytest.raises(KeyboardInterrupt):
        w.flush()
    assert w.pending == POINTS  # kept, and counted as not durable
    w.flush()
    assert w.pending == 0


def test_a_ctrl_c_inside_the_store_write_keeps_the_batch(stores: StoreSet) -> None:
    run_id = _run(stores)
    store = InterruptedStore(stores, 1, lambda b: KeyboardInterrupt())
    w = BatchWriter(store, flush_interval=600)  # type: ignore[arg-type]
    w.add_metrics([(run_id, "m", float(i), 0, i) for i in range(POINTS)])
    _flush_until_written(w)
    assert len(stores.runs.get_metric_history(run_id, "m")) == POINTS


def test_a_ctrl_c_while_a_refused_batch_is_salvaged_keeps_what_was_not_written(
    stores: StoreSet,
) -> None:
    run_id, other = _run(stores), _run(stores, "f")
    rows = [(r, "m", float(i), 0, i) for r in (run_id, other) for i in range(POINTS // 2)]
    refusing = InvalidInput("the store refused a value")
    store = InterruptedStore(stores, 1, lambda b: refusing)
    w = BatchWriter(store, flush_interval=600)  # type: ignore[arg-type]
    w.add_metrics(rows)
    original = store.write_batch

    def interrupted_in_salvage(batch: Batch) -> None:
        if store.calls == 2:  # the first run's part is written; Ctrl-C on the second's
            store.calls += 1
            raise KeyboardInterrupt
        original(batch)

    store.write_batch = interrupted_in_salvage  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        w.flush()
    assert w.pending == POINTS // 2  # the part written is not written again
    w.flush()
    for r in (run_id, other):
        steps = [m.step for m in stores.runs.get_metric_history(r, "m")]
        assert steps == list(range(POINTS // 2))


def test_an_exception_between_draining_and_writing_keeps_the_batch(
    stores: StoreSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run(stores)
    w = BatchWriter(stores.runs, flush_interval=600)
    w.add_metrics([(run_id, "m", float(i), 0, i) for i in range(POINTS)])
    drain = writer._drain
    calls = []

    def drain_then_interrupt(queue: Any, limit: int | None = None) -> list[Any]:
        calls.append(1)
        if len(calls) == 5:  # the metrics are drained: an interruption lands now
            raise KeyboardInterrupt
        return drain(queue, limit)

    monkeypatch.setattr(writer, "_drain", drain_then_interrupt)
    _flush_until_written(w)
    assert len(stores.runs.get_metric_history(run_id, "m")) == POINTS


def test_ctrl_c_is_held_while_shielded_and_a_second_one_goes_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(interrupts, "_held", [])
    with pytest.raises(KeyboardInterrupt), interrupts.shielded():
        os.kill(os.getpid(), signal.SIGINT)
        signal.getsignal(signal.SIGINT)  # a few bytecodes: the handler has run
        reached = True  # not interrupted inside
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt), interrupts.shielded():
        os.kill(os.getpid(), signal.SIGINT)
        signal.getsignal(signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        signal.getsignal(signal.SIGINT)
        pytest.fail("the second Ctrl-C was held too")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_waking_the_writer_takes_no_lock_a_signal_could_leave_taken(
    stores: StoreSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM raised inside a Python-level lock (threading.Event.set) left it taken forever.

    Found by sending SIGTERM to a fast logging loop at random times: 2 of 25
    processes hung in the last flush, waiting for the writer's wake-up
    Event, whose lock the interrupted ``set()`` had taken and never released.
    Here the signal is made to land at that exact point.
    """
    run_id = _run(stores)
    w = BatchWriter(stores.runs, flush_interval=600, batch_size=10)
    w.add_metric((run_id, "m", 0.0, 0, 0))  # the background thread runs

    def interrupted_enter(condition: threading.Condition) -> bool:
        if not condition._lock.acquire(timeout=2):  # type: ignore[attr-defined]
            raise AssertionError("a wake-up interrupted earlier left its lock taken")
        raise interrupts.Terminated(signal.SIGTERM)  # lands after acquire, before the with

    try:
        monkeypatch.setattr(threading.Condition, "__enter__", interrupted_enter)
        with contextlib.suppress(interrupts.Terminated):  # the program's with-blocks unwind
            w.add_metrics([(run_id, "m", float(i), 0, i) for i in range(1, 20)])  # wakes it
        with contextlib.suppress(interrupts.Terminated):
            w.wake()
        monkeypatch.undo()
        closing = threading.Thread(target=w.close, daemon=True)
        closing.start()
        closing.join(10)
        assert not closing.is_alive(), "the writer's last flush waited for a lock forever"
    finally:
        monkeypatch.undo()
        writer._live_writers.discard(w)  # a writer left hanging would hang pytest's exit
    assert len(stores.runs.get_metric_history(run_id, "m")) == 20
