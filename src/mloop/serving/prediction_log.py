"""The prediction log: every answer kept as Parquet, written in the background.

The request path turns its record into a row of JSON text and numbers (15-20
us for a one-row request; no I/O, no waiting) and appends it to a bounded
buffer. A writer thread turns the buffer into Parquet files every
``flush_seconds`` (sooner when ``flush_records`` are waiting), one file per
deployment, version and hour, each written whole through the object store's
atomic write. The writer only builds Arrow columns from those rows, a few
hundred at a time with a pause between, and compresses outside the
interpreter's lock, so the event loop, which shares the interpreter with it,
is never kept waiting long. (Converting the records in the writer instead
held the lock about 25 us a record, 50 ms a second at 2,000 requests a
second, and every request that wanted it back meanwhile waited up to the
5 ms switch interval.)

A full buffer drops the new record and a failed write (tried twice) drops its
records; both are counted in ``mloop_prediction_log_dropped_total`` and
logged, never lost in silence. :meth:`PredictionLog.close` writes everything
still buffered.

Columns named in ``pii`` are replaced by keyed hashes (the data domain's
pseudonyms, keyed by the project secret) before anything is written.

Example:
    >>> from mloop.artifacts.objects.schemes import open_object_store
    >>> from mloop.serving.log_records import Prediction
    >>> objects = open_object_store("memory://prediction-log-doc")
    >>> log = PredictionLog(objects, PredictionLogSettings())
    >>> log.start()
    >>> log.record(Prediction("r1", 0.0, "credit", "credit", "3", "plain", {"x": [1]}, [0.5], 0.01))
    True
    >>> log.close()
    >>> [info.key.rsplit("/", 1)[0] for info in objects.list("predictions/")]
    ['predictions/credit/3/1970-01-01T00']
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mloop.artifacts.objects.base import ObjectStore
from mloop.artifacts.objects.schemes import open_object_store
from mloop.data.secret import project_secret
from mloop.errors import InvalidInput
from mloop.models.backend import backend
from mloop.serving.log_records import (
    FEEDBACK_SCHEMA,
    PREDICTION_SCHEMA,
    Feedback,
    Prediction,
    feedback_prefix,
    feedback_row,
    file_name,
    hour_of,
    parquet_bytes,
    prediction_prefix,
    prediction_row,
    record_batch,
)

if TYPE_CHECKING:
    from mloop.context import Context
    from mloop.serving.metrics import ServerMetrics

log = logging.getLogger("mloop.serving")

MiB = 1024 * 1024

Record = Prediction | Feedback
Row = tuple[Any, ...]

SLICE_ROWS = 500
"""Rows the writer turns into Arrow columns at a time (about 0.5 ms of holding the GIL)..."""
SLICE_BYTES = 1 * MiB
"""...or fewer, when their JSON text is longer than this (copying it holds the GIL too)."""
PAUSE_SECONDS = 0.0002
"""The writer's sleep between slices: the GIL let go long enough for a waiting thread to
take it. (A zero sleep lets go and takes it back before the waiting thread wakes, which
then waits a whole switch interval, 5 ms, before it asks for it again.)"""
ROW_BYTES = 200
"""A buffered row's memory besides its JSON text, roughly: the tuple, its numbers, its names."""


@dataclasses.dataclass(frozen=True)
class PredictionLogSettings:
    """How a server keeps its prediction log.

    Attributes:
        enabled: keep the log at all (``mloop serve --no-prediction-log`` turns it off).
        flush_seconds: the longest a record waits in memory; a crash loses at most this much.
        flush_records: write sooner when this many records are waiting.
        max_records: records the buffer holds before new ones are dropped (and counted).
        max_bytes: bytes of rows (mostly their JSON text) the buffer holds before new
            ones are dropped.
        pii: input or output columns replaced by keyed hashes before they are written.
        uri: where the log is written; None for the artifact store.
        writer_niceness: how much lower the writer thread's CPU priority is than the
            server's, 0 (the same, the default) to 19; Linux only, elsewhere
            ignored. At 10, on a busy core the writer gets about a tenth of it and
            the event loop takes it back at once: far more than one-row requests
            need (under 5 us of writing each), and the loop's 99th-percentile wait
            during a flush drops from about 1 ms to 0.02 ms. A stream of 1,000-row
            requests at full load needs more (about 3.5 ms of compressing each), so
            there the buffer would fill and drop records; at 0 the writer keeps up
            and the answers slow down instead.

    Example:
        >>> PredictionLogSettings(flush_seconds=-1)
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: flush_seconds must be a number > 0, got -1
    """

    enabled: bool = True
    flush_seconds: float = 1.0
    flush_records: int = 10_000
    max_records: int = 100_000
    max_bytes: int = 256 * MiB
    pii: tuple[str, ...] = ()
    uri: str | None = None
    writer_niceness: int = 0

    def __post_init__(self) -> None:
        value = self.flush_seconds
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise InvalidInput(f"flush_seconds must be a number > 0, got {value!r}")
        for name in ("flush_records", "max_records", "max_bytes"):
            size = getattr(self, name)
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise InvalidInput(f"{name} must be an integer >= 1, got {size!r}")
        for column in self.pii:
            if not isinstance(column, str) or not column:
                raise InvalidInput(f"a PII column must be a non-empty name, got {column!r}")
        nice = self.writer_niceness
        if isinstance(nice, bool) or not isinstance(nice, int) or not 0 <= nice <= 19:
            raise InvalidInput(f"writer_niceness must be an integer from 0 to 19, got {nice!r}")


class PredictionLog:
    """A bounded buffer of records and the thread that writes it to an object store.

    Args:
        objects: where the Parquet files go (the artifact store's objects).
        settings: flush interval, bounds and PII columns.
        secret: the key of the pseudonyms; required when ``settings.pii`` names columns.
        on_dropped: told ``(reason, count)`` for records that will not be written.
        on_written: told ``(kind, count)`` for records written.
    """

    def __init__(
        self,
        objects: ObjectStore,
        settings: PredictionLogSettings,
        *,
        secret: bytes | None = None,
        on_dropped: Callable[[str, int], None] | None = None,
        on_written: Callable[[str, int], None] | None = None,
    ) -> None:
        if settings.pii and secret is None:
            raise InvalidInput("PII columns are hashed with a key: pass the project secret")
        self.objects = objects
        self.settings = settings
        self._secret = secret
        self._pii = frozenset(settings.pii)
        self._on_dropped = on_dropped or (lambda reason, count: None)
        self._on_written = on_written or (lambda kind, count: None)
        self._lock = threading.Lock()
        # (kind, folder) -> its rows and their sizes
        self._groups: dict[tuple[str, str], tuple[list[Row], list[int]]] = {}
        self._count = 0
        self._bytes = 0
        self._hour = (-1, "")  # the last hour number seen and its partition name
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self._warned = -1e9

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(
                target=self._run, name="mloop-prediction-log", daemon=True
            )
            self._thread.start()

    def record(self, record: Record, size: int = 0) -> bool:
        """Convert one record to its row and buffer it; False when it was dropped.

        ``size`` is its request and answer bytes, roughly; the buffer counts the
        larger of that and its row's. Never waits on I/O: a full buffer or a
        closed log drops the record and counts it, and so does a record that
        cannot be converted (logged with its error).
        """
        if self._closed or self._count >= self.settings.max_records:
            return self._refuse("closed" if self._closed else "buffer_full")
        try:
            key, row, held = self._row(record)
        except Exception:
            rid = getattr(record, "request_id", "?")
            log.exception("prediction log: request %s cannot be logged", rid)
            return self._refuse("unwritable")
        held, waiting = max(size, held), 0
        with self._lock:
            full = (
                self._count >= self.settings.max_records
                or self._bytes + held > self.settings.max_bytes
            )
            if not (full or self._closed):
                group = self._groups.get(key)
                if group is None:
                    group = self._groups[key] = ([], [])
                group[0].append(row)
                group[1].append(held)
                self._bytes += held
                self._count += 1
                waiting = self._count
        if full or self._closed:
            return self._refuse("closed" if self._closed else "buffer_full")
        if waiting == self.settings.flush_records:
            self._wake.set()
        return True

    def _row(self, record: Record) -> tuple[tuple[str, str], Row, int]:
        """The record's (kind, folder), its row and the row's bytes, roughly."""
        number = int(record.time // 3600)
        if number != self._hour[0]:
            self._hour = (number, hour_of(record.time))
        hour = self._hour[1]
        if isinstance(record, Prediction):
            row = prediction_row(record, self._pii, self._secret)
            prefix = prediction_prefix(record.deployment, record.version, hour)
            texts = (row[6], row[7], row[10])
            return ("prediction", prefix), row, ROW_BYTES + sum(len(t) for t in texts if t)
        row = feedback_row(record)
        return ("feedback", feedback_prefix(record.deployment, hour)), row, ROW_BYTES + len(row[3])

    def _refuse(self, reason: str) -> bool:
        with self._lock:
            self.dropped += 1
        self._on_dropped(reason, 1)
        now = time.monotonic()
        if now - self._warned > 1.0:  # one line a second, not one per request
            self._warned = now
            log.warning("prediction log: dropping records (%s)", reason)
        return False

    @property
    def buffered(self) -> int:
        """Records waiting to be written."""
        return self._count

    def flush(self) -> None:
        """Write every buffered record now, in this thread."""
        with self._lock:
            groups, self._groups, self._count, self._bytes = self._groups, {}, 0, 0
        for (kind, prefix), (rows, sizes) in groups.items():
            self._write_group(kind, prefix, rows, sizes)

    def close(self) -> None:
        """Stop taking records, write what is buffered and stop the writer thread."""
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        if self.settings.writer_niceness:
            yield_the_cpu(self.settings.writer_niceness)
        while not self._closed:
            self._wake.wait(self.settings.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive any one bad batch
                log.exception("prediction log: a flush failed")

    def _write_group(self, kind: str, prefix: str, rows: list[Row], sizes: list[int]) -> None:
        schema = PREDICTION_SCHEMA if kind == "prediction" else FEEDBACK_SCHEMA
        try:
            batches = []
            for start, end in slices(sizes, SLICE_ROWS, SLICE_BYTES):
                if start:
                    time.sleep(PAUSE_SECONDS)
                batches.append(record_batch(rows[start:end], schema))
            data = parquet_bytes(pa.Table.from_batches(batches, schema=schema))
        except Exception:
            self._drop(len(rows), "unwritable", prefix)
            return
        key = prefix + file_name()
        for attempt in (1, 2):
            try:
                self.objects.put_bytes(key, data)
            except Exception:
                if attempt == 2:
                    self._drop(len(rows), "write_failed", prefix)
                    return
                log.warning("prediction log: writing %s failed; trying once more", key)
                time.sleep(0.1)
            else:
                self._on_written(kind, len(rows))
                return

    def _drop(self, count: int, reason: str, prefix: str) -> None:
        with self._lock:
            self.dropped += count
        self._on_dropped(reason, count)
        log.exception("prediction log: dropped %d record(s) of %s (%s)", count, prefix, reason)


def yield_the_cpu(niceness: int) -> bool:
    """Lower the calling thread's CPU priority by ``niceness``; True when it could.

    The writer compresses without the interpreter's lock, but on a server of one
    core it still takes the core from the event loop, which then answers late.
    Niced, it runs when the loop waits for its sockets, and a loop that wakes
    takes the core back at once (see :attr:`PredictionLogSettings.writer_niceness`
    for what it costs). Only Linux nices one thread; elsewhere the call would
    nice the whole server, so there this does nothing.

    Example:
        >>> import threading
        >>> before = os.getpriority(os.PRIO_PROCESS, 0)
        >>> worker = threading.Thread(target=yield_the_cpu, args=(1,))
        >>> worker.start(); worker.join()
        >>> os.getpriority(os.PRIO_PROCESS, 0) == before  # this thread's is as it was
        True
    """
    if not sys.platform.startswith("linux"):
        return False
    thread = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(current + niceness, 19))
    except OSError:  # not allowed here (a sandbox): run as the server does
        return False
    return True


def slices(sizes: list[int], rows: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of consecutive runs of at most ``rows`` items and ``size`` in all.

    An item larger than ``size`` is a run of its own.

    Example:
        >>> list(slices([1, 1, 1, 5, 1], rows=2, size=4))
        [(0, 2), (2, 3), (3, 4), (4, 5)]
    """
    start = total = 0
    for index, item in enumerate(sizes):
        if index > start and (index - start >= rows or total + item > size):
            yield start, index
            start, total = index, 0
        total += item
    if start < len(sizes):
        yield start, len(sizes)


def log_objects(context: Context | None = None, uri: str | None = None) -> ObjectStore:
    """Where a log lives: ``uri``, else the artifact store of ``context`` or the process's."""
    if uri:
        return open_object_store(uri)
    return backend(context).context.content.objects


def open_log(
    settings: PredictionLogSettings,
    metrics: ServerMetrics | None = None,
    context: Context | None = None,
) -> PredictionLog:
    """The log ``settings`` describe, on the store of ``context``, counted in ``metrics``.

    Raises:
        PermissionDenied, IntegrityError: PII columns are named and the project
            secret cannot be used (see :func:`mloop.data.secret.project_secret`).
    """
    secret = None
    if settings.pii:
        found = backend(context).settings
        secret = project_secret(found.local_root(), found.secret_key)
    return PredictionLog(
        log_objects(context, settings.uri),
        settings,
        secret=secret,
        on_dropped=metrics.log_drops if metrics is not None else None,
        on_written=metrics.log_records if metrics is not None else None,
    )
