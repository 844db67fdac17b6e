"""The background writer: buffered metrics and tags, written in batches.

Logging appends to lock-free deques; a daemon thread writes whatever is
pending every ``flush_interval`` seconds, or sooner once ``batch_size`` points
wait. :meth:`BatchWriter.flush` writes everything pending in the caller's
thread and returns only when it is durable; run end and process exit flush.
A failed background write is raised by the next flush, and a write that
failed for a transient reason is retried, never dropped.

Example:
    >>> from mloop.store.sql import open_sql_store_set
    >>> stores = open_sql_store_set("sqlite:///:memory:")
    >>> exp = stores.experiments.create_experiment("w")
    >>> run = stores.runs.create_run(exp, "r", 0, {})
    >>> writer = BatchWriter(stores.runs)
    >>> writer.add_metric((run.run_id, "loss", 0.5, 0, 0))
    >>> writer.flush()
    >>> stores.runs.get_run(run.run_id).data.metrics
    {'loss': 0.5}
"""

from __future__ import annotations

import atexit
import collections
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

from mloop.entities import RunIO
from mloop.errors import Conflict, InvalidInput, MloopError, NotFound, StoreError
from mloop.store.protocols.tracking import Batch, MetricRow, NewRun, RunStore, Termination
from mloop.tracking import liveness
from mloop.tracking.interrupts import shielded
from mloop.tracking.salvage import Outcome, refusal_error, salvage

log = logging.getLogger(__name__)
T = TypeVar("T")
_live_writers: weakref.WeakSet[BatchWriter] = weakref.WeakSet()


RETRIES = 5
"""Tries of a batch at a time while the store fails transiently (deadlock, busy, lost)."""
RETRY_DELAY = 0.05
"""Seconds before the second try; each further try waits twice as long."""


def _with_retries(write: Callable[[], None]) -> None:
    for attempt in range(RETRIES):
        try:
            write()
            return
        except StoreError as err:
            if attempt == RETRIES - 1:
                raise
            log.info("mloop: retrying a write after a transient failure: %s", err)
            time.sleep(RETRY_DELAY * 2**attempt)


def _drain(queue: collections.deque[T], limit: int | None = None) -> list[T]:
    count = len(queue) if limit is None else min(limit, len(queue))
    pop = queue.popleft
    return [pop() for _ in range(count)]


class BatchWriter:
    """Buffers metric points, tags and run ends for one run store and writes them in batches."""

    def __init__(
        self,
        store: RunStore,
        *,
        flush_interval: float = 0.5,
        batch_size: int = 20_000,
        max_pending: int = 200_000,
    ) -> None:
        self._store = store
        self._interval = flush_interval
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._metrics: collections.deque[MetricRow] = collections.deque()
        self._tags: collections.deque[tuple[str, str, str]] = collections.deque()
        self._params: collections.deque[tuple[str, str, str]] = collections.deque()
        self._runs: collections.deque[NewRun] = collections.deque()
        self._ends: collections.deque[Termination] = collections.deque()
        self._artifacts: collections.deque[tuple[str, str, str, int]] = collections.deque()
        self._io: collections.deque[tuple[str, RunIO]] = collections.deque()
        self._retry: Batch | None = None
        self._in_flight = 0  # items drained from the queues and not yet durable
        self._later_reports = 0
        self._owned: set[str] = set()  # RUNNING runs of this process: kept alive by heartbeats
        self._last_beat = time.monotonic()
        self._write_lock = threading.Lock()
        # Not a threading.Event: its set() takes a lock in Python code, where a
        # SIGTERM raised in the main thread between acquire and release left it
        # taken for good, and the last flush waited for it forever. A
        # SimpleQueue is put to in C, even from a signal handler.
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._error: MloopError | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        _live_writers.add(self)

    # -- producers -------------------------------------------------------
    def add_metric(self, row: MetricRow) -> None:
        """Queue one point ``(run_id, key, value, timestamp_ms, step)``."""
        self._metrics.append(row)
        pending = len(self._metrics)
        if pending >= self._batch_size or pending + self._in_flight >= self._max_pending:
            self._on_backlog(pending)
        elif self._thread is None:
            self._start()

    def add_metrics(self, rows: list[MetricRow]) -> None:
        """Queue many points at once."""
        self._metrics.extend(rows)
        pending = len(self._metrics)
        if pending >= self._batch_size or pending + self._in_flight >= self._max_pending:
            self._on_backlog(pending)
        elif self._thread is None:
            self._start()

    def add_tag(self, run_id: str, key: str, value: str) -> None:
        """Queue a tag (the last value set wins)."""
        self._tags.append((run_id, key, value))
        if self._thread is None:
            self._start()

    def add_run(self, run: NewRun) -> None:
        """Queue a new run; it is written before anything logged to it."""
        self._runs.append(run)
        self._owned.add(run.info.run_id)
        if self._thread is None:
            self._start()

    def add_params(self, run_id: str, params: dict[str, str]) -> None:
        """Queue params already checked against the run's other params."""
        self._params.extend((run_id, k, v) for k, v in params.items())
        if self._thread is None:
            self._start()

    def add_artifacts(self, run_id: str, entries: list[tuple[str, str, int]]) -> None:
        """Queue ``(path, digest, size)`` entries whose objects are already stored."""
        self._artifacts.extend((run_id, path, digest, size) for path, digest, size in entries)
        if self._thread is None:
            self._start()

    def add_io(self, run_id: str, items: list[RunIO]) -> None:
        """Queue inputs and outputs of a run."""
        self._io.extend((run_id, item) for item in items)
        if self._thread is None:
            self._start()

    def end_run(self, termination: Termination) -> None:
        """Queue a run's end after everything logged to it so far, then flush."""
        self.end_runs([termination])

    def end_runs(self, terminations: list[Termination]) -> None:
        """Queue several runs' ends, then flush once."""
        for termination in terminations:
            self._owned.discard(termination.run_id)
            self._ends.append(termination)
        self.flush()

    def wake(self) -> None:
        """Start writing what is buffered now, in the background (never blocks, takes no lock)."""
        self._wakeups.put(None)

    def own(self, run_id: str) -> None:
        """Keep a run this process resumed alive with heartbeats, from the next beat on."""
        self._owned.add(run_id)
        self._last_beat = 0.0
        self._start()

    @property
    def owned(self) -> list[str]:
        """Runs this process created or resumed and has not ended."""
        return sorted(self._owned)

    def _beat(self) -> None:
        if not self._owned or time.monotonic() - self._last_beat < liveness.HEARTBEAT_INTERVAL:
            return
        self._last_beat = time.monotonic()
        try:
            self._store.heartbeat(self.owned, liveness.process_owner(), liveness.now_millis())
        except MloopError as err:  # a missed beat is harmless: the next one follows
            log.info("mloop heartbeat failed: %s", err)

    def _on_backlog(self, pending: int) -> None:
        # The batch being written (or kept for a retry) is not durable either:
        # counting it is what makes max_pending bound what a SIGKILL can lose.
        if pending + self._in_flight >= self._max_pending:
            self.flush()  # back-pressure: wait for the write in flight, then write the rest
        else:
            self._start()
            self._wakeups.put(None)

    # -- writing ---------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="mloop-writer", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            # A long flush interval must not starve the heartbeat of the runs it owns.
            self._wait(min(self._interval, liveness.HEARTBEAT_INTERVAL))
            try:
                self._write_pending()
            except StoreError as err:  # kept in _retry: the next try or flush writes it
                log.warning("mloop background write failed, will retry: %s", err)
            except Exception as err:  # the thread must survive; the error surfaces on flush
                log.warning("mloop background write failed (raised on next flush): %s", err)
                self._report(err if isinstance(err, MloopError) else StoreError(str(err)))
            self._beat()

    def _wait(self, timeout: float) -> None:
        try:
            self._wakeups.get(timeout=timeout)
            while True:  # several wake-ups, one write
                self._wakeups.get_nowait()
        except queue.Empty:
            pass

    def _write_pending(self) -> None:
        # Shielded: SIGTERM and Ctrl-C are raised once the drained batch is written or kept.
        with self._write_lock, shielded():
            try:
                # Kept in _retry from the moment it is drained until the store confirms
                # it, so no exception raised anywhere in between can lose it.
                batch = self._retry = self._retry or Batch()
                # Ends first: whatever was queued before an end is already in the other queues.
                batch.terminations += _drain(self._ends)
                batch.params += _drain(self._params)
                batch.metrics += _drain(self._metrics)
                batch.tags += _drain(self._tags)
                batch.artifacts += _drain(self._artifacts)
                batch.io += _drain(self._io)
                # New runs last: a run is queued before anything logged to it, so every
                # row drained above has its run either stored already or in this list.
                batch.runs += _drain(self._runs)
                if len(batch) == 0:
                    self._retry = None
                    return
                self._in_flight = len(batch)
                self._write(batch)
            finally:
                self._in_flight = len(self._retry) if self._retry else 0

    def _write(self, batch: Batch) -> None:
        """Write one batch: retried while the store fails transiently, salvaged if it refuses.

        ``batch`` is ``self._retry``; it is cleared only once the store wrote it
        (or refused parts of it for good), so a transient failure or an
        interruption (Ctrl-C) keeps it for the next flush.
        """
        try:
            _with_retries(lambda: self._store.write_batch(batch))
            self._retry = None
        except Conflict as err:  # written, except the params it names
            self._retry = None
            self._report(err)
        except (InvalidInput, NotFound) as err:
            log.warning("mloop: the store refused a batch (%s); writing what it accepts", err)
            outcome = Outcome(remainder=batch)
            try:
                salvage(self._store, batch, outcome)
            finally:  # interrupted too: only what salvage wrote or refused is let go
                self._retry = outcome.remainder
                self._report_outcome(outcome)
            if outcome.remainder is not None:
                raise StoreError(
                    "the metadata store failed while writing a refused batch in parts; "
                    "the rest is kept and retried"
                ) from err

    def _report_outcome(self, outcome: Outcome) -> None:
        for conflict in outcome.conflicts:
            self._report(conflict)
        if outcome.refused:
            refused = refusal_error(outcome.refused)
            log.error("mloop: %s", refused)
            self._report(refused)

    def _report(self, error: MloopError) -> None:
        # Raised by the next flush; the first report wins, later ones are counted (and logged).
        if self._error is None:
            self._error = error
            self._later_reports = 0
        else:
            self._later_reports += 1

    def flush(self) -> None:
        """Write everything queued so far and return when it is durable.

        Raises:
            MloopError: this write failed (what it could not write is kept and
                retried), or an earlier write dropped items the store refused
                (the error names them).
        """
        self._write_pending()
        error, self._error = self._error, None
        if error is not None:
            if self._later_reports:
                more = f"{error} (and {self._later_reports} later failure(s), in the log)"
                error.args = (more,)
            raise error

    @property
    def pending(self) -> int:
        """Points, tags, run ends and everything else not yet durable (being written included)."""
        queues = (self._metrics, self._params, self._tags, self._ends, self._runs)
        queued = sum(len(q) for q in queues) + len(self._artifacts) + len(self._io)
        return queued + self._in_flight

    def close(self) -> None:
        """Flush and stop the background thread."""
        self._closed = True
        self._wakeups.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()


def unwritten() -> str:
    """What every writer of this process holds and has not written yet, in words.

    Example:
        >>> unwritten()
        'nothing'
    """
    held = [(w, w.pending, w.owned) for w in list(_live_writers)]
    held = [(w, n, runs) for w, n, runs in held if n or runs]
    if not held:
        return "nothing"
    return "; ".join(
        f"{n} buffered item(s), run(s) left RUNNING: {', '.join(runs) or 'none'}"
        for _, n, runs in held
    )


def _flush_all_at_exit(writers: Callable[[], list[BatchWriter]]) -> None:
    for writer in writers():
        try:
            writer.close()
        except MloopError as err:
            log.error("mloop could not write buffered data at exit: %s", err)


atexit.register(_flush_all_at_exit, lambda: list(_live_writers))
