"""The server's Prometheus metrics, per model and version, in a registry of the app's own.

``mloop_requests_total`` (by protocol and status code), ``mloop_request_seconds``
(latency histogram), ``mloop_batch_rows`` and ``mloop_batch_requests`` (what each
model call carried), ``mloop_queue_depth``, ``mloop_model_ready``,
``mloop_model_info`` (role, version and digest as labels: a deployment's
primary, canary or blue-green twin, and shadow), ``mloop_shadow_requests_total``
(copies to a shadow, by outcome) and
``mloop_prediction_value`` (count and sum of numeric predictions: their mean
over any window, to watch the output drift), and the prediction log's
``mloop_prediction_log_written_total`` (by kind) and
``mloop_prediction_log_dropped_total`` (by reason: ``buffer_full``,
``write_failed``, ``unwritable``, ``closed``).

Example:
    >>> metrics = ServerMetrics()
    >>> metrics.request("credit", "3", "mlflow", 200, 0.004)
    >>> b"mloop_requests_total" in metrics.render()[0]
    True
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Set
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

# From 0.5 ms (a one-row call on a fast model) to 10 s.
_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip
_ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384)


class _PredictionValues(Collector):
    """Count and sum of the numeric values each model version predicted, as one summary."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], tuple[int, float]] = {}

    def add(self, model: str, version: str, count: int, total: float) -> None:
        with self._lock:
            before, before_total = self._values.get((model, version), (0, 0.0))
            self._values[(model, version)] = (before + count, before_total + total)

    def collect(self) -> Iterator[SummaryMetricFamily]:
        family = SummaryMetricFamily(
            "mloop_prediction_value",
            "Numeric predictions: their count and sum, per model and version",
            labels=("model", "version"),
        )
        with self._lock:
            items = sorted(self._values.items())
        for (model, version), (count, total) in items:
            family.add_metric((model, version), count_value=count, sum_value=total)
        yield family


class _QueueDepths(Collector):
    """Requests waiting per model, read when scraped."""

    def __init__(self, depths: Callable[[], dict[str, int]]) -> None:
        self._depths = depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "mloop_queue_depth", "Requests waiting for the model", labels=("model",)
        )
        for model, depth in sorted(self._depths().items()):
            family.add_metric((model,), depth)
        yield family


class ServerMetrics:
    """Every metric of one server; ``render()`` gives the ``/metrics`` body and content type."""

    def __init__(self, queue_depths: Callable[[], dict[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("model", "version")
        self.requests = Counter(
            "mloop_requests",
            "Requests answered, by protocol and HTTP status code",
            (*labels, "protocol", "code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "mloop_request_seconds",
            "Time from reading a request to its answer",
            (*labels, "protocol"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "mloop_batch_rows",
            "Rows in one model call",
            labels,
            buckets=_ROW_BUCKETS,
            registry=self.registry,
        )
        self.batch_requests = Histogram(
            "mloop_batch_requests",
            "Requests in one model call",
            labels,
            buckets=_ROW_BUCKETS[:8],
            registry=self.registry,
        )
        self.split_batches = Counter(
            "mloop_split_batches",
            "Model calls that failed for the batch and were repeated request by request",
            labels,
            registry=self.registry,
        )
        self.ready = Gauge(
            "mloop_model_ready",
            "1 when a version of the model is loaded and answering",
            ("model",),
            registry=self.registry,
        )
        self.info = Gauge(
            "mloop_model_info",
            "Each version serving now (value 1): its role (primary, canary, twin, shadow) "
            "and package digest",
            ("model", "role", "version", "digest"),
            registry=self.registry,
        )
        self.shadow_requests = Counter(
            "mloop_shadow_requests",
            "Requests copied to a shadow version, by outcome (answered, failed, full, skipped)",
            (*labels, "outcome"),
            registry=self.registry,
        )
        self.log_written = Counter(
            "mloop_prediction_log_written",
            "Prediction log records written, by kind (prediction, feedback)",
            ("kind",),
            registry=self.registry,
        )
        self.log_dropped = Counter(
            "mloop_prediction_log_dropped",
            "Prediction log records that will never be written, by reason",
            ("reason",),
            registry=self.registry,
        )
        self._values = _PredictionValues()
        self.registry.register(self._values)
        if queue_depths is not None:
            self.registry.register(_QueueDepths(queue_depths))

    def request(self, model: str, version: str, protocol: str, code: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.requests.labels(model, version, protocol, str(code)).inc()
        self.latency.labels(model, version, protocol).observe(seconds)

    def batch(self, model: str, version: str, requests: int, rows: int, split: bool) -> None:
        """Record one model call."""
        self.batch_rows.labels(model, version).observe(rows)
        self.batch_requests.labels(model, version).observe(requests)
        if split:
            self.split_batches.labels(model, version).inc()

    def predictions(self, model: str, version: str, values: Any) -> None:
        """Add the numeric values of one answer to the prediction summary (others are skipped)."""
        import numpy as np

        try:
            array = np.asarray(values)
        except Exception:  # ragged or exotic answers carry no numeric summary
            return
        if array.dtype.kind not in "biuf" or array.size == 0:
            return
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        self._values.add(model, version, int(finite.size), float(finite.sum()))

    def serving(
        self,
        model: str,
        now: Set[tuple[str, str, str]],
        before: Set[tuple[str, str, str]] = frozenset(),
    ) -> None:
        """Mark the versions serving ``model`` now, (role, version, digest); drop the rest."""
        for gone in before - now:
            with contextlib.suppress(KeyError):
                self.info.remove(model, *gone)
        for role, version, digest in now:
            self.info.labels(model, role, version, digest).set(1)
        self.ready.labels(model).set(1 if now else 0)

    def shadow(self, model: str, version: str, outcome: str) -> None:
        """Count a request copied to a shadow: ``answered``, ``failed``, ``full``, ``skipped``."""
        self.shadow_requests.labels(model, version, outcome).inc()

    def log_records(self, kind: str, count: int) -> None:
        """Count prediction log records written."""
        self.log_written.labels(kind).inc(count)

    def log_drops(self, reason: str, count: int) -> None:
        """Count prediction log records dropped."""
        self.log_dropped.labels(reason).inc(count)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
