from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import mloop
from mloop.config import forget_settings
from mloop.entities import RunStatus
from mloop.errors import InvalidInput, MissingExtra
from mloop.tracking import system_metrics
from mloop.tracking.system_metrics import Sampler, SystemMetricsMonitor

EXPECTED = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
    "system/network_receive_megabytes",
    "system/network_transmit_megabytes",
}


def _sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mloop-system-metrics"]


def _wait_for(predicate: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_sample_has_mlflows_names_and_sane_values() -> None:
    values = system_metrics.sample_system(Sampler(gpus=False))
    assert set(values) >= EXPECTED
    assert 0 <= values["system/system_memory_usage_percentage"] <= 100
    assert 0 <= values["system/disk_usage_percentage"] <= 100
    assert values["system/disk_available_megabytes"] > 0
    assert values["system/network_receive_megabytes"] >= 0


def test_metrics_appear_at_the_interval_and_ending_the_run_stops_the_thread(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_SYSTEM_METRICS_INTERVAL", "0.1")
    forget_settings()
    with mloop.start_run(log_system_metrics=True) as run:
        run_id = run.info.run_id
        assert len(_sampler_threads()) == 1
        client = mloop.Client()
        _wait_for(
            lambda: len(client.get_metric_history(run_id, "system/cpu_utilization_percentage")) >= 3
        )
        mloop.log_metric("loss", 0.5)  # the caller's own logging goes on meanwhile
    assert _sampler_threads() == []
    stored = mloop.get_run(run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert set(stored.data.metrics) >= EXPECTED
    history = mloop.get_metric_history(run_id, "system/disk_usage_percentage")
    steps = [m.step for m in history]
    assert steps == list(range(len(steps)))
    time.sleep(0.3)  # nothing is logged once the run has ended
    assert len(mloop.get_metric_history(run_id, "system/disk_usage_percentage")) == len(steps)


def test_a_failed_or_killed_run_stops_the_thread_too(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_SYSTEM_METRICS_INTERVAL", "0.05")
    forget_settings()
    with pytest.raises(ZeroDivisionError), mloop.start_run(log_system_metrics=True) as failed:
        assert len(_sampler_threads()) == 1
        _ = 1 / 0
    assert _sampler_threads() == []
    assert mloop.get_run(failed.info.run_id).info.status == RunStatus.FAILED
    with pytest.raises(KeyboardInterrupt), mloop.start_run(log_system_metrics=True) as killed:
        raise KeyboardInterrupt
    assert _sampler_threads() == []
    assert mloop.get_run(killed.info.run_id).info.status == RunStatus.KILLED
    mloop.start_run(log_system_metrics=True)
    mloop.end_run(RunStatus.KILLED)
    assert _sampler_threads() == []


def test_the_setting_turns_it_on_for_every_run(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_LOG_SYSTEM_METRICS", "true")
    monkeypatch.setenv("MLOOP_SYSTEM_METRICS_INTERVAL", "0.05")
    forget_settings()
    with mloop.start_run() as run:
        assert len(_sampler_threads()) == 1
        _wait_for(
            lambda: (
                "system/cpu_utilization_percentage" in mloop.get_run(run.info.run_id).data.metrics
            )
        )
    assert _sampler_threads() == []
    with mloop.start_run(log_system_metrics=False):  # the argument wins over the setting
        assert _sampler_threads() == []


def test_off_by_default(home: Path) -> None:
    with mloop.start_run() as run:
        assert _sampler_threads() == []
    assert not any(k.startswith("system/") for k in mloop.get_run(run.info.run_id).data.metrics)


def test_a_slow_sink_never_blocks_the_caller() -> None:
    release = threading.Event()
    calls: list[int] = []

    def slow(metrics: Any, step: int) -> None:
        calls.append(step)
        release.wait(5)

    monitor = SystemMetricsMonitor(slow, 0.01, Sampler(gpus=False))
    started = time.monotonic()
    monitor.start()
    _wait_for(lambda: calls)
    assert time.monotonic() - started < 2
    release.set()
    monitor.stop()
    assert not monitor.running


def test_the_interval_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput, match="interval"):
        SystemMetricsMonitor(lambda m, s: None, 0)
    monkeypatch.setenv("MLOOP_SYSTEM_METRICS_INTERVAL", "-1")
    with pytest.raises(InvalidInput, match="system_metrics_interval"):
        mloop.config.load_settings(cwd="/")


def test_without_psutil_a_clear_missing_extra_and_no_run(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # what Python does for a missing module
    with pytest.raises(MissingExtra, match=r"pip install 'mloop\[system\]'"):
        mloop.start_run(log_system_metrics=True)
    assert mloop.active_run() is None
    assert mloop.search_runs(output_format="list") == []
