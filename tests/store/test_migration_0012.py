"""Migration 0012: monitors, reports, policies, policy runs and leases; older rows are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mloop.entities import Monitor, MonitorReport, Policy
from mloop.store.engine import create_engine
from mloop.store.migrate import current_revision
from mloop.store.sql import open_sql_store_set
from tests.store.migrating import migrate

NEW_TABLES = {"monitors", "monitor_reports", "policies", "policy_runs", "leases"}


def _fill(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO deployments (project_id, name, primary_ref, canary_ref, canary_percent,"
            " shadow_ref, sticky_header, mode, policy, revision, created_by, created_time,"
            " updated_by, updated_time) VALUES (1, 'api', 'credit@champion', NULL, 0, NULL, NULL,"
            " 'canary', NULL, 1, 'ana', 5, 'ana', 5)"
        )


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _check(engine: sa.Engine, uri: str) -> None:
    migrate(engine, "upgrade", "0011")
    _fill(engine)
    assert not NEW_TABLES & _tables(engine)
    migrate(engine, "upgrade", "0012")
    assert current_revision(engine) == "0012"
    assert _tables(engine) >= NEW_TABLES
    stores = open_sql_store_set(uri)
    try:
        assert stores.deployments.get_deployment("api").primary == "credit@champion"
        stores.monitors.create_monitor(Monitor("m", "deployment:api", "credit@train", "1h", "1d"))
        stores.monitors.add_report(MonitorReport("m", 0, 10, "ok"))
        stores.policies.create_policy(Policy("p", {"on": "dataset", "name": "credit"}, {}))
        stores.policies.start_run("p", {})
        assert stores.leases.acquire("monitor:m", "agent", 1000)
    finally:
        stores.close()
    migrate(engine, "downgrade", "0011")
    assert not NEW_TABLES & _tables(engine)
    assert "deployments" in _tables(engine)
    migrate(engine, "upgrade", "0012")  # and back up: nothing of the old tables is left behind
    assert current_revision(engine) == "0012"
    engine.dispose()


def test_sqlite_upgrade_and_downgrade(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/m.db"
    _check(create_engine(uri), uri)


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade(postgres_store: str) -> None:
    _check(create_engine(postgres_store), postgres_store)
