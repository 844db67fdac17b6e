"""Shared fixtures: a fresh store per test, and a real PostgreSQL database when one is reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.config import forget_settings
from mloop.models.api import clear_cache as clear_model_cache
from mloop.tracking import active_runs, fluent, fluent_target
from mloop.tracking.connection import disconnect_all
from tests.s3_server import s3_bucket as s3_bucket  # moto's S3 server, started when asked for
from tests.s3_server import s3_server as s3_server

POSTGRES_ENV = "MLOOP_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _reset_fluent() -> None:
    while fluent.active_run() is not None:
        fluent.end_run()
    fluent.set_tracking_uri("")
    fluent.set_project(None)
    fluent_target._experiment_id = None
    fluent_target._last_client = None
    active_runs._last_run_id = None
    forget_settings()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh MLOOP_HOME (SQLite + local artifacts) used by the fluent API, Client and CLI."""
    root = tmp_path / "home"
    monkeypatch.setenv("MLOOP_HOME", str(root))
    monkeypatch.setenv("MLOOP_TRACKING_URI", f"sqlite:///{root}/mloop.db")
    monkeypatch.setenv("MLOOP_ARTIFACTS_URI", str(root / "artifacts"))
    monkeypatch.chdir(tmp_path)
    _reset_fluent()
    yield root
    _reset_fluent()
    disconnect_all()
    clear_model_cache()


def _admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    try:
        import psycopg

        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2
        ).close()
    except Exception:
        return None
    return DEFAULT_POSTGRES


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created for this test session and dropped after it."""
    import sqlalchemy as sa

    admin = _admin_url()
    if admin is None:
        pytest.skip(
            f"PostgreSQL tests skipped: {POSTGRES_ENV} is unset and no server answers on "
            "127.0.0.1:5432"
        )
    admin_url = sa.engine.make_url(admin).set(drivername="postgresql+psycopg")
    name = f"mloop_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        disconnect_all()
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL metadata store of this test's own: a fresh schema in the session's database.

    A store and its artifact root belong together: tests that pair a store with
    an artifact root of their own must not share one store's references.
    """
    import sqlalchemy as sa

    schema = f"store_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        disconnect_all()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
