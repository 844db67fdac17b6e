"""Deleting a monitor or a policy deletes its reports or runs as rows, not just from view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mloop.entities import Monitor, MonitorReport, Policy
from mloop.store import schema
from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cascade.db"
    found: str = request.getfixturevalue("postgres_store")
    return found


@pytest.fixture
def stores(uri: str) -> Iterator[StoreSet]:
    opened = open_sql_store_set(uri)
    yield opened
    opened.close()


def _count(uri: str, table: sa.Table) -> int:
    engine = sa.create_engine(uri)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_a_deleted_monitor_leaves_no_report_rows(stores: StoreSet, uri: str) -> None:
    for name in ("gone", "kept"):
        stores.monitors.create_monitor(Monitor(name, "dataset:credit", "credit@1", "1h", "1d"))
        for start in (0, 10):
            stores.monitors.add_report(MonitorReport(name, start, start + 10, "ok"))
    assert _count(uri, schema.monitor_reports) == 4
    stores.monitors.delete_monitor("gone")
    assert _count(uri, schema.monitor_reports) == 2


def test_a_deleted_policy_leaves_no_run_rows(stores: StoreSet, uri: str) -> None:
    for name in ("gone", "kept"):
        stores.policies.create_policy(Policy(name, {"on": "dataset", "name": "credit"}, {}))
        stores.policies.start_run(name, {})
    assert _count(uri, schema.policy_runs) == 2
    stores.policies.delete_policy("gone")
    assert _count(uri, schema.policy_runs) == 1
