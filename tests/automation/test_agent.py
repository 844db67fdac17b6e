"""The agent: due monitors run once each, by one agent, even with several agents racing."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from mloop import data
from mloop.automation import monitors
from mloop.automation.agent import Agent
from mloop.errors import Conflict, InvalidInput
from mloop.tracking import fluent


def events(tmp_path: Path, name: str = "events") -> None:
    folder = tmp_path / name
    folder.mkdir()
    pd.DataFrame({"amount": [1.0, 2.0, 3.0] * 20, "kind": ["a", "b", "c"] * 20}).to_csv(
        folder / "events.csv", index=False
    )
    data.add(folder, name)


def test_one_pass_runs_what_is_due_and_plans_the_next_run(home: Path, tmp_path: Path) -> None:
    events(tmp_path)
    monitors.create_monitor("hourly", "dataset:events", "events@1", schedule="1h")
    monitors.create_monitor("paused", "dataset:events", "events@1", schedule="1h")
    monitors.pause_monitor("paused")
    agent = Agent(holder="a")
    now = datetime(2027, 1, 1, 12, tzinfo=UTC)
    [report] = agent.run_once(now)
    assert (report.monitor, report.status) == ("hourly", "no-data")
    assert monitors.get_monitor("hourly").next_run_time == int(
        (now + timedelta(hours=1)).timestamp() * 1000
    )
    assert agent.run_once(now + timedelta(minutes=59)) == []  # not due yet
    assert [r.monitor for r in agent.run_once(now + timedelta(hours=1))] == ["hourly"]


def test_a_monitor_leased_by_another_agent_is_left_to_it(home: Path, tmp_path: Path) -> None:
    events(tmp_path)
    monitors.create_monitor("m", "dataset:events", "events@1", schedule="1h")
    leases = fluent.current_client().context.stores.leases
    assert leases.acquire("monitor:m", "other", 60_000)
    assert Agent(holder="me").run_once() == []
    leases.release("monitor:m", "other")
    assert [r.monitor for r in Agent(holder="me").run_once()] == ["m"]
    assert leases.holder("monitor:m") is None  # released after the run


def test_bad_settings_are_refused(home: Path) -> None:
    with pytest.raises(InvalidInput, match="lease_seconds must be positive"):
        Agent(lease_seconds=0)


def _race(tmp_path: Path, env: dict[str, str]) -> None:
    names = [f"m{i}" for i in range(4)]
    for name in names:
        monitors.create_monitor(name, "dataset:events", "events@1", schedule="1s")
    command = [sys.executable, "-m", "mloop", "agent", "--tick", "0.05"]
    agents = [
        subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(8)
    outputs = []
    for agent in agents:
        agent.send_signal(signal.SIGTERM)
    for agent in agents:
        out, err = agent.communicate(timeout=60)
        assert agent.returncode == 128 + signal.SIGTERM, err
        outputs.append(out)
    assert all("monitor m" in out for out in outputs), outputs  # both agents took work
    total = 0
    for name in names:
        ends = sorted(r.window_end for r in monitors.list_reports(name, limit=100))
        total += len(ends)
        assert len(ends) >= 2, name
        gaps = [b - a for a, b in itertools.pairwise(ends)]
        assert min(gaps) >= 1000, f"{name} ran twice within its schedule: {gaps}"
    runs = sum(out.count("monitor m") for out in outputs)
    assert runs == total  # every run printed by exactly one agent


@pytest.mark.slow
def test_two_agents_on_sqlite_never_run_a_monitor_twice(home: Path, tmp_path: Path) -> None:
    events(tmp_path)
    _race(tmp_path, {})


@pytest.mark.slow
@pytest.mark.postgres
def test_two_agents_on_postgresql_never_run_a_monitor_twice(
    postgres_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    env = {"MLOOP_TRACKING_URI": postgres_store, "MLOOP_ARTIFACTS_URI": str(tmp_path / "art")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    fluent.set_tracking_uri("")  # the environment's store from now on
    events(tmp_path)
    _race(tmp_path, env)


def test_a_window_reaches_back_to_the_last_run_but_not_forever(home: Path, tmp_path: Path) -> None:
    events(tmp_path)
    monitors.create_monitor("catch-up", "dataset:events", "events@1", schedule="1h")
    start = datetime(2031, 5, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    first = monitors.run_monitor("catch-up", now=start)
    assert first.window_start == int((start - hour).timestamp() * 1000)
    late = monitors.run_monitor("catch-up", now=start + 3 * hour)  # the agent was away
    assert late.window_start == first.window_end  # nothing between the two runs is skipped
    away = monitors.run_monitor("catch-up", now=start + 50 * hour)
    assert away.window_start == int((start + 40 * hour).timestamp() * 1000)  # at most 10 windows


def test_a_monitor_runs_once_at_a_time(home: Path, tmp_path: Path) -> None:
    events(tmp_path)
    monitors.create_monitor("busy", "dataset:events", "events@1")
    leases = fluent.current_client().context.stores.leases
    assert leases.acquire("monitor:busy", "someone-else", 60_000)
    with pytest.raises(Conflict, match="monitor busy is being run by someone-else"):
        monitors.run_monitor("busy")
    leases.release("monitor:busy", "someone-else")
    assert monitors.run_monitor("busy").status == "ok"
    assert leases.holder("monitor:busy") is None
