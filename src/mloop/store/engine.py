"""Engines for the metadata store: SQLite (WAL) by default, PostgreSQL through psycopg.

Example:
    >>> engine = create_engine("sqlite:///:memory:")
    >>> engine.dialect.name
    'sqlite'
"""

from __future__ import annotations

import importlib.util
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from mloop.config import TRACKING_URI_FORMS
from mloop.errors import InvalidInput, MissingExtra
from mloop.masking import mask_uri
from mloop.store.mode import may_create

SQLITE_BUSY_TIMEOUT_SECONDS = 60.0


def is_ephemeral(uri: str) -> bool:
    """True for an in-memory SQLite database, which lives and dies with its process.

    Example:
        >>> is_ephemeral("sqlite://"), is_ephemeral("sqlite:////tmp/mloop.db")
        (True, False)
    """
    url = normalize_url(uri)
    return url.drivername == "sqlite" and sqlite_path(url) is None


def normalize_url(uri: str) -> sa.URL:
    """Parse a store URL, mapping ``postgresql://`` and ``postgres://`` to psycopg 3.

    Raises:
        InvalidInput: the URL does not parse or names an unsupported database.
    """
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri.removeprefix("postgres://")
    try:
        url = make_url(uri)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise InvalidInput(
            f"tracking URI {mask_uri(uri)!r} is not a database URL; {TRACKING_URI_FORMS}"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise InvalidInput(
                f"unsupported PostgreSQL driver {driver!r}; use postgresql+psycopg://"
            )
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url
    raise InvalidInput(
        f"unsupported metadata database {backend!r} in {mask_uri(uri)!r} (mloop stores runs "
        f"in SQLite or PostgreSQL); {TRACKING_URI_FORMS}"
    )


def sqlite_path(url: sa.URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or "mode=memory" in str(url.query.get("mode", "")):
        return None
    if database.startswith("file:") and ":memory:" in database:
        return None
    return Path(database).expanduser()


def _enable_wal(cursor: Any) -> None:
    # WAL is a property of the file, set once. Switching needs an exclusive lock
    # and SQLite does not wait on the busy handler for it, so two processes
    # opening a brand-new store at once retry here instead of failing.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _configure_sqlite(engine: sa.Engine) -> None:
    # Take the write lock when a transaction begins, not on its first write:
    # two processes that both read then write would otherwise deadlock into
    # SQLITE_BUSY instead of queueing on the busy timeout.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Checkpoint every ~40 MB of WAL rather than every 4 MB: checkpoints sync
        # the file, and doing them 10x less often makes small commits ~20% cheaper.
        # The WAL file is truncated back to 64 MB at most after each checkpoint.
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.execute("PRAGMA journal_size_limit=67108864")
        # LIKE is case-sensitive on PostgreSQL; make SQLite agree (ILIKE is the insensitive one).
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(uri: str) -> sa.Engine:
    """Create an engine for a metadata store URL, creating a SQLite file's folder.

    Raises:
        InvalidInput: unsupported or malformed URL.
        MissingExtra: PostgreSQL asked for without psycopg installed.
    """
    url = normalize_url(uri)
    if url.drivername == "sqlite":
        path = sqlite_path(url)
        kwargs: dict[str, Any] = {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        }
        if path is None:
            kwargs["poolclass"] = StaticPool
        elif may_create():
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if importlib.util.find_spec("psycopg") is None:
        raise MissingExtra("psycopg", extra="postgres")
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
