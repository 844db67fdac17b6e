"""Migration 0009: deployment tables appear; existing protections do not allow canaries."""

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
            "INSERT INTO registered_models (project_id, name, description, owner, created_time,"
            " updated_time, last_version) VALUES (1, 'credit', '', 'ana', 0, 0, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO alias_protections (model_id, alias, approvals, gates, created_by,"
            " created_time) VALUES (1, 'champion', 2, '[]', 'ana', 5)"
        )


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _protections(engine: sa.Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT alias, approvals, gates, created_by, created_time FROM alias_protections"
            )
        ]


def _check(engine: sa.Engine, uri: str) -> None:
    migrate(engine, "upgrade", "0008")
    _fill(engine)
    before = _protections(engine)
    migrate(engine, "upgrade", "0009")
    assert current_revision(engine) == "0009"
    assert {"deployments", "deployment_history"} <= _tables(engine)
    assert _protections(engine) == before
    stores = open_sql_store_set(uri)
    try:
        [kept] = stores.governance.list_protections("credit")
        assert (kept.approvals, kept.allow_canary) == (2, False)
    finally:
        stores.close()
    migrate(engine, "downgrade", "0008")
    assert not {"deployments", "deployment_history"} & _tables(engine)
    assert _protections(engine) == before
    engine.dispose()


def test_sqlite_upgrade_and_downgrade(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/m.db"
    _check(create_engine(uri), uri)


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade(postgres_store: str) -> None:
    _check(create_engine(postgres_store), postgres_store)
