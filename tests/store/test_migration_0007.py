"""Migration 0007: a run's params, tags and latest metrics clustered by (run_id, key) on SQLite.

The data survives the upgrade and the downgrade, on SQLite and on PostgreSQL
(where the storage option does not exist and the schema stays as it was).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mloop.store import schema
from mloop.store.engine import create_engine
from mloop.store.migrate import current_revision, ensure_schema
from tests.store.migrating import migrate

TABLES = ("params", "tags", "latest_metrics")
ROWS = {
    "params": [("r1", "lr", "0.1"), ("r1", "model", "rf"), ("r2", "lr", "0.2")],
    "tags": [("r1", "team", "risk"), ("r2", "team", "ops")],
    "latest_metrics": [
        ("r1", "auc", 0.91, 5, 2),
        ("r1", "loss", None, 5, 2),
        ("r2", "auc", 0.5, 6, 1),
    ],
}


def _fill(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time,"
            " last_update_time, project_id) VALUES ('e', '', 'active', 0, 0, 1)"
        )
        for run_id in ("r1", "r2"):
            conn.execute(
                schema.runs.insert().values(
                    run_id=run_id,
                    experiment_id=1,
                    name=run_id,
                    status="FINISHED",
                    start_time=1,
                    lifecycle_stage="active",
                    artifact_uri="a",
                )
            )
        for table, rows in ROWS.items():
            columns = schema.metadata.tables[table].columns.keys()
            conn.execute(
                schema.metadata.tables[table].insert(),
                [dict(zip(columns, row, strict=True)) for row in rows],
            )


def _contents(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table: sorted(
                (tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {table}")),
                key=lambda row: (str(row[0]), str(row[1])),
            )
            for table in TABLES
        }


def _clustered(engine: sa.Engine) -> dict[str, bool]:
    with engine.connect() as conn:
        return {
            table: "WITHOUT ROWID"
            in conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            for table in TABLES
        }


def _matches_the_declared_schema_at_head(engine: sa.Engine) -> None:
    # Later migrations add tables of their own: compare at head, then come back.
    migrate(engine, "upgrade", "head")
    with engine.connect() as conn:
        assert list(compare_metadata(MigrationContext.configure(conn), schema.metadata)) == []
    migrate(engine, "downgrade", "0007")


def _expected() -> dict[str, list[tuple[object, ...]]]:
    return {table: sorted(rows, key=lambda row: (row[0], row[1])) for table, rows in ROWS.items()}


def test_sqlite_upgrade_and_downgrade_keep_every_value(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    migrate(engine, "upgrade", "0006")
    _fill(engine)
    assert _clustered(engine) == dict.fromkeys(TABLES, False)

    migrate(engine, "upgrade", "0007")
    assert current_revision(engine) == "0007"
    assert _clustered(engine) == dict.fromkeys(TABLES, True)
    assert _contents(engine) == _expected()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        indexes = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert {"ix_params_key_value", "ix_latest_metrics_key_value"} <= indexes
    _matches_the_declared_schema_at_head(engine)

    migrate(engine, "downgrade", "0006")
    assert _clustered(engine) == dict.fromkeys(TABLES, False)
    assert _contents(engine) == _expected()
    engine.dispose()


def test_a_new_sqlite_store_is_clustered_from_the_start(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/new.db")
    ensure_schema(engine)
    assert _clustered(engine) == dict.fromkeys(TABLES, True)
    engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade_keep_every_value(postgres_store: str) -> None:
    engine = create_engine(postgres_store)
    migrate(engine, "upgrade", "0006")
    _fill(engine)
    migrate(engine, "upgrade", "0007")
    assert current_revision(engine) == "0007"
    assert _contents(engine) == _expected()
    _matches_the_declared_schema_at_head(engine)
    migrate(engine, "downgrade", "0006")
    assert _contents(engine) == _expected()
    engine.dispose()
