"""The prediction log: every answer kept as Parquet, written in the background.

The request path only appends a record to a bounded buffer (no I/O, no
conversion); a writer thread turns the buffer into Parquet files every
``flush_seconds`` (sooner when ``flush_records`` are waiting), one file per
deployment, version and hour, each written whole through the object store's
atomic write. A full buffer drops the new record and a failed write (tried
twice) drops its records; both are counted in
``mloop_prediction_log_dropped_total`` and logged, never lost in silence.
:meth:`PredictionLog.close` writes everything still buffered.

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
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mloop.artifacts.objects.base import ObjectStore
from mloop.artifacts.objects.schemes import open_object_store
from mloop.data.secret import project_secret
from mloop.errors import InvalidInput
from mloop.models.backend import backend
from mloop.serving.log_records import (
    Feedback,
    Prediction,
    feedback_prefix,
    feedback_table,
    file_name,
    hour_of,
    parquet_bytes,
    prediction_prefix,
    prediction_table,
)

if TYPE_CHECKING:
    from mloop.context import Context
    from mloop.serving.metrics import ServerMetrics

log = logging.getLogger("mloop.serving")

MiB = 1024 * 1024

Record = Prediction | Feedback


@dataclasses.dataclass(frozen=True)
class PredictionLogSettings:
    """How a server keeps its prediction log.

    Attributes:
        enabled: keep the log at all (``mloop serve --no-prediction-log`` turns it off).
        flush_seconds: the longest a record waits in memory; a crash loses at most this much.
        flush_records: write sooner when this many records are waiting.
        max_records: records the buffer holds before new ones are dropped (and counted).
        max_bytes: request and answer bytes the buffer holds before new ones are dropped.
        pii: input or output columns replaced by keyed hashes before they are written.
        uri: where the log is written; None for the artifact store.

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
        self._buffer: list[Record] = []
        self._bytes = 0
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
        """Buffer one record (``size``: its bytes, roughly); False when it was dropped.

        Never waits on I/O: a full buffer or a closed log drops the record and counts it.
        """
        waiting = 0
        with self._lock:
            full = (
                len(self._buffer) >= self.settings.max_records
                or self._bytes + size > self.settings.max_bytes
            )
            if not (full or self._closed):
                self._buffer.append(record)
                self._bytes += size
                waiting = len(self._buffer)
            else:
                self.dropped += 1
        if full or self._closed:
            reason = "closed" if self._closed else "buffer_full"
            self._on_dropped(reason, 1)
            now = time.monotonic()
            if now - self._warned > 1.0:  # one line a second, not one per request
                self._warned = now
                log.warning("prediction log: dropping records (%s)", reason)
            return False
        if waiting == self.settings.flush_records:
            self._wake.set()
        return True

    @property
    def buffered(self) -> int:
        """Records waiting to be written."""
        return len(self._buffer)

    def flush(self) -> None:
        """Write every buffered record now, in this thread."""
        with self._lock:
            records, self._buffer, self._bytes = self._buffer, [], 0
        if records:
            self._write(records)

    def close(self) -> None:
        """Stop taking records, write what is buffered and stop the writer thread."""
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.settings.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive any one bad batch
                log.exception("prediction log: a flush failed")

    def _write(self, records: Sequence[Record]) -> None:
        groups: dict[str, list[Any]] = {}
        for record in records:
            hour = hour_of(record.time)
            if isinstance(record, Prediction):
                prefix = prediction_prefix(record.deployment, record.version, hour)
            else:
                prefix = feedback_prefix(record.deployment, hour)
            groups.setdefault(prefix, []).append(record)
        for prefix, group in groups.items():
            self._write_group(prefix, group)

    def _write_group(self, prefix: str, group: list[Any]) -> None:
        kind = "prediction" if isinstance(group[0], Prediction) else "feedback"
        try:
            if kind == "prediction":
                table = prediction_table(group, self._pii, self._secret)
            else:
                table = feedback_table(group)
            data = parquet_bytes(table)
        except Exception:
            self._drop(len(group), "unwritable", prefix)
            return
        key = prefix + file_name()
        for attempt in (1, 2):
            try:
                self.objects.put_bytes(key, data)
            except Exception:
                if attempt == 2:
                    self._drop(len(group), "write_failed", prefix)
                    return
                log.warning("prediction log: writing %s failed; trying once more", key)
                time.sleep(0.1)
            else:
                self._on_written(kind, len(group))
                return

    def _drop(self, count: int, reason: str, prefix: str) -> None:
        with self._lock:
            self.dropped += count
        self._on_dropped(reason, count)
        log.exception("prediction log: dropped %d record(s) of %s (%s)", count, prefix, reason)


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
