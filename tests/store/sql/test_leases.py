"""Leases over SQL: processes racing for one job, and the database's clock."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set

PROCESSES = 3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/leases.db"
    found: str = request.getfixturevalue("postgres_store")
    return found


@pytest.fixture
def stores(uri: str) -> Iterator[StoreSet]:
    opened = open_sql_store_set(uri)
    yield opened
    opened.close()


def _race(uri: str, holder: str, barrier: Any, results: Any) -> None:
    stores = open_sql_store_set(uri)
    try:
        barrier.wait()
        results.put((holder, stores.leases.acquire("job", holder, 60_000)))
    finally:
        stores.close()


def test_of_processes_racing_for_a_job_exactly_one_wins(stores: StoreSet, uri: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_race, args=(uri, f"agent-{i}", barrier, results))
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    winners = [holder for holder, won in outcomes.items() if won]
    assert len(outcomes) == PROCESSES and len(winners) == 1, outcomes
    assert stores.leases.holder("job") == winners[0]


def test_without_now_the_database_clock_decides(stores: StoreSet) -> None:
    leases = stores.leases
    before = time.time_ns() // 1_000_000
    assert leases.acquire("job", "a", 200)
    lease = leases.get_lease("job")
    assert lease is not None
    assert before - 1000 <= lease.acquired_time <= time.time_ns() // 1_000_000 + 1000
    assert not leases.acquire("job", "b", 200)
    time.sleep(0.3)
    assert leases.holder("job") is None
    assert not leases.renew("job", "a", 200)
    assert leases.acquire("job", "b", 200)
    assert leases.renew("job", "b", 200)
    assert leases.holder("job") == "b"
