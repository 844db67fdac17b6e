"""Migration 0011: dataset versions gain a table of profiles; versions are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mloop.store.engine import create_engine
from mloop.store.migrate import current_revision
from tests.store.migrating import migrate


def _check(engine: sa.Engine, uri: str) -> None:
    migrate(engine, "upgrade", "0010")
    migrate(engine, "upgrade", "0011")
    assert current_revision(engine) == "0011"
    assert "dataset_profiles" in sa.inspect(engine).get_table_names()
    migrate(engine, "downgrade", "0010")
    assert "dataset_profiles" not in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_upgrade_and_downgrade(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/m.db"
    _check(create_engine(uri), uri)


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade(postgres_store: str) -> None:
    _check(create_engine(postgres_store), postgres_store)
