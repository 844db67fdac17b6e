"""System metrics: CPU, memory, disk, network and GPUs, sampled while a run is active.

``mloop.start_run(log_system_metrics=True)`` (or the setting
``log_system_metrics``) starts a :class:`SystemMetricsMonitor` for the run: a
daemon thread that samples every ``system_metrics_interval`` seconds and logs
the sample as metrics named ``system/...`` (MLflow's names), step 0, 1, 2…
It logs through the client's buffered writer, so it never blocks the code
that logs; ending the run (FINISHED, FAILED or KILLED) stops it.

psutil (the ``system`` extra) does the sampling; GPUs are sampled through
nvidia-ml-py (``pynvml``) only when it is installed and finds a driver.

Example:
    >>> sorted(sample_system(Sampler(gpus=False)))[:2]  # doctest: +SKIP
    ['system/cpu_utilization_percentage', 'system/disk_available_megabytes']
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from mloop.errors import InvalidInput, MissingExtra, MloopError

log = logging.getLogger(__name__)
MB = 1_000_000
PREFIX = "system/"

LogMetrics = Callable[[Mapping[str, float], int], None]
"""Logs one sample: ``(metrics, step)``; the client's buffered ``log_metrics``."""


def psutil_module() -> ModuleType:
    """The psutil module, imported on first use.

    Raises:
        MissingExtra: psutil is not installed (``pip install 'mloop[system]'``).

    Example:
        >>> psutil_module().__name__  # doctest: +SKIP
        'psutil'
    """
    try:
        return importlib.import_module("psutil")
    except ImportError:
        raise MissingExtra("psutil", extra="system") from None


def _nvml() -> Any | None:
    # nvidia-ml-py is optional and never required: no module or no driver, no GPU metrics.
    try:
        nvml: Any = importlib.import_module("pynvml")
        nvml.nvmlInit()
        return nvml
    except Exception:
        return None


class Sampler:
    """Reads the machine's counters; network traffic counts from this sampler's creation.

    Args:
        gpus: also sample NVIDIA GPUs when nvidia-ml-py finds them.
        disk_path: the file system whose usage is reported.
    """

    def __init__(self, *, gpus: bool = True, disk_path: str = "/") -> None:
        self._psutil = psutil_module()
        self._disk_path = disk_path
        self._psutil.cpu_percent(interval=None)  # the first reading starts the CPU window
        net = self._psutil.net_io_counters()
        self._net_start = (net.bytes_recv, net.bytes_sent) if net is not None else (0, 0)
        self._nvml = _nvml() if gpus else None

    def sample(self) -> dict[str, float]:
        """One reading of every metric, keyed by its ``system/...`` name."""
        ps = self._psutil
        memory = ps.virtual_memory()
        disk = ps.disk_usage(self._disk_path)
        values: dict[str, float] = {
            "cpu_utilization_percentage": ps.cpu_percent(interval=None),
            "system_memory_usage_megabytes": memory.used / MB,
            "system_memory_usage_percentage": memory.percent,
            "disk_usage_percentage": disk.percent,
            "disk_usage_megabytes": disk.used / MB,
            "disk_available_megabytes": disk.free / MB,
        }
        net = ps.net_io_counters()
        if net is not None:
            values["network_receive_megabytes"] = (net.bytes_recv - self._net_start[0]) / MB
            values["network_transmit_megabytes"] = (net.bytes_sent - self._net_start[1]) / MB
        if self._nvml is not None:
            values.update(_gpu_values(self._nvml))
        return {PREFIX + name: float(value) for name, value in values.items()}


def _gpu_values(nvml: Any) -> dict[str, float]:
    values: dict[str, float] = {}
    try:
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            rates = nvml.nvmlDeviceGetUtilizationRates(handle)
            name = f"gpu_{index}_"
            values[name + "memory_usage_percentage"] = 100.0 * memory.used / memory.total
            values[name + "memory_usage_megabytes"] = memory.used / MB
            values[name + "utilization_percentage"] = float(rates.gpu)
            values[name + "power_usage_watts"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000
    except Exception as err:  # a GPU that stops answering must not stop the other metrics
        log.debug("GPU metrics unavailable: %r", err)
    return values


def sample_system(sampler: Sampler | None = None) -> dict[str, float]:
    """One reading of the system metrics (a fresh sampler unless one is given).

    Raises:
        MissingExtra: psutil is not installed.

    Example:
        >>> "system/cpu_utilization_percentage" in sample_system()  # doctest: +SKIP
        True
    """
    return (sampler or Sampler()).sample()


class SystemMetricsMonitor:
    """A daemon thread logging a sample every ``interval`` seconds until stopped.

    Args:
        log_metrics: called with each sample and its step (0, 1, 2…); it should
            queue, not write (the client's ``log_metrics`` does).
        interval: seconds between samples (> 0).
        sampler: what reads the counters (default: a new :class:`Sampler`).

    Raises:
        MissingExtra: psutil is not installed.
        InvalidInput: ``interval`` is not positive.

    Example:
        >>> seen = []
        >>> monitor = SystemMetricsMonitor(lambda m, s: seen.append(s), 0.01)  # doctest: +SKIP
        >>> monitor.start(); monitor.stop()  # doctest: +SKIP
    """

    def __init__(
        self, log_metrics: LogMetrics, interval: float, sampler: Sampler | None = None
    ) -> None:
        if not interval > 0:
            raise InvalidInput(f"system metrics interval must be > 0 seconds, got {interval!r}")
        self._log_metrics = log_metrics
        self._interval = float(interval)
        self._sampler = sampler if sampler is not None else Sampler()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mloop-system-metrics")
        self._thread.daemon = True  # never keeps a process alive

    @property
    def running(self) -> bool:
        """Whether the sampling thread is alive."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start sampling in the background."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sampling and wait (up to ``timeout`` seconds) for the thread to end."""
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        step = 0
        while not self._stopped.wait(self._interval):
            try:
                self._log_metrics(self._sampler.sample(), step)
            except (MloopError, OSError) as err:
                log.warning("mloop stopped logging system metrics: %s", err)
                return
            step += 1


_monitors: dict[str, SystemMetricsMonitor] = {}
_lock = threading.Lock()


def start_monitor(run_id: str, log_metrics: LogMetrics, interval: float) -> SystemMetricsMonitor:
    """Start (or keep) the monitor of run ``run_id``; :func:`stop_monitor` ends it.

    Raises:
        MissingExtra: psutil is not installed.

    Example:
        >>> monitor = start_monitor("r1", lambda m, s: None, 10.0)  # doctest: +SKIP
        >>> stop_monitor("r1")  # doctest: +SKIP
    """
    with _lock:
        found = _monitors.get(run_id)
        if found is not None and found.running:
            return found
        monitor = SystemMetricsMonitor(log_metrics, interval)
        _monitors[run_id] = monitor
    monitor.start()
    return monitor


def stop_monitor(run_id: str) -> None:
    """Stop the monitor of run ``run_id``, if it has one.

    Example:
        >>> stop_monitor("no-such-run")
    """
    with _lock:
        monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.stop()
