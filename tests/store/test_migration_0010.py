"""Migration 0010: deployments gain a policy and history entries their evidence; rows are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mloop.store.engine import create_engine
from mloop.store.migrate import current_revision
from mloop.store.sql import open_sql_store_set
from tests.store.migrating import migrate


def _fill(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO deployments (project_id, name, primary_ref, canary_ref, canary_percent,"
            " shadow_ref, sticky_header, mode, revision, created_by, created_time, updated_by,"
            " updated_time) VALUES (1, 'api', 'credit@champion', 'credit/2', 10, NULL, NULL,"
            " 'canary', 1, 'ana', 5, 'ana', 5)"
        )
        conn.exec_driver_sql(
            "INSERT INTO deployment_history (project_id, name, revision, action, before, after,"
            " alias_move, actor, reason, created_time) VALUES (1, 'api', 1, 'create', NULL,"
            " '{\"primary\": \"credit@champion\"}', NULL, 'ana', 'launch', 5)"
        )


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns(table)}


def _check(engine: sa.Engine, uri: str) -> None:
    migrate(engine, "upgrade", "0009")
    _fill(engine)
    migrate(engine, "upgrade", "0010")
    assert current_revision(engine) == "0010"
    assert "policy" in _columns(engine, "deployments")
    assert "evidence" in _columns(engine, "deployment_history")
    stores = open_sql_store_set(uri)
    try:
        kept = stores.deployments.get_deployment("api")
        assert (kept.canary, kept.canary_percent, kept.policy) == ("credit/2", 10, None)
        [made] = stores.deployments.deployment_history("api")
        assert (made.reason, made.evidence) == ("launch", None)
    finally:
        stores.close()
    migrate(engine, "downgrade", "0009")
    assert "policy" not in _columns(engine, "deployments")
    assert "evidence" not in _columns(engine, "deployment_history")
    engine.dispose()


def test_sqlite_upgrade_and_downgrade(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/m.db"
    _check(create_engine(uri), uri)


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade(postgres_store: str) -> None:
    _check(create_engine(postgres_store), postgres_store)
