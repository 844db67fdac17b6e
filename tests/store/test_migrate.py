from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mloop.errors import InvalidInput, MissingExtra, StoreError
from mloop.store import schema
from mloop.store.engine import create_engine, normalize_url
from mloop.store.migrate import MIGRATIONS_DIR, _alembic_upgrade, current_revision, ensure_schema


def test_head_revision_matches_the_alembic_history() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == schema.HEAD_REVISION


def _diff(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), schema.metadata))


def test_migrations_produce_the_declared_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/alembic.db")
    with engine.begin() as conn:
        _alembic_upgrade(conn)
    assert _diff(engine) == []
    assert current_revision(engine) == schema.HEAD_REVISION
    ensure_schema(engine)  # already at head: a no-op
    engine.dispose()


def test_fast_path_produces_the_declared_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/fast.db")
    ensure_schema(engine)
    assert _diff(engine) == []
    assert current_revision(engine) == schema.HEAD_REVISION
    engine.dispose()


@pytest.mark.postgres
def test_migrations_on_postgres(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS mig")
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": "-csearch_path=mig"})
    scoped = create_engine(url.render_as_string(hide_password=False))
    with scoped.begin() as conn:
        _alembic_upgrade(conn)
    assert _diff(scoped) == []
    scoped.dispose()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA mig CASCADE")
    engine.dispose()


def test_unknown_revision_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/future.db")
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="upgrade mloop"):
        ensure_schema(engine)
    engine.dispose()


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/other.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE someone_elses (x INTEGER)")
    with pytest.raises(StoreError, match="no mloop schema") as caught:
        ensure_schema(engine)
    assert str(tmp_path / "other.db") in str(caught.value)  # which database it was
    engine.dispose()


OPEN_SCRIPT = """
import sys
from mloop.store.sql import open_sql_store_set
stores = open_sql_store_set(sys.argv[1])
stores.experiments.search_experiments()
stores.close()
"""


def test_two_processes_open_a_new_store_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/race.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_SCRIPT, uri], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    engine = create_engine(uri)
    assert current_revision(engine) == schema.HEAD_REVISION
    engine.dispose()


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("mysql://x@y/z", "unsupported metadata database"),
        ("postgresql+asyncpg://x@y/z", "unsupported PostgreSQL driver"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_urls(uri: str, error: str) -> None:
    with pytest.raises(InvalidInput, match=error):
        normalize_url(uri)


def test_postgres_aliases() -> None:
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "psycopg" else real(name)
    )
    with pytest.raises(MissingExtra, match=r"mloop\[postgres\]"):
        create_engine("postgresql://u@h/db")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/sub/dir/p.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_an_older_store_is_upgraded_on_open_and_keeps_its_data(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.exec_driver_sql(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time,"
            " last_update_time) VALUES ('kept', '', 'active', 0, 0)"
        )
    assert current_revision(engine) == "0001"
    ensure_schema(engine)
    assert current_revision(engine) == schema.HEAD_REVISION
    assert _diff(engine) == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM experiments").scalar() == "kept"
    engine.dispose()
