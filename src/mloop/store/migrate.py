"""Bring a metadata database to the current schema, safely when processes race.

A brand-new database gets the whole schema in one transaction and is stamped
with :data:`~mloop.store.schema.HEAD_REVISION`; an older one is upgraded by
Alembic. Both happen under a lock (SQLite's write lock, a PostgreSQL advisory
lock) so two processes opening the same store at once do the work once.

Every store has an identity: a random 32-hex id in ``store_meta`` under
``store_id``, written in the transaction that creates the schema (a store
upgraded from before identities gets its id when it is first opened). The
artifact store records the id of the metadata store it belongs to, so a
mismatched pair is refused (see :mod:`mloop.artifacts.identity`).

Example:
    >>> from mloop.store.engine import create_engine
    >>> engine = create_engine("sqlite:///:memory:")
    >>> len(ensure_schema(engine))
    32
    >>> current_revision(engine) == schema.HEAD_REVISION
    True
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from mloop.errors import NotFound, StoreError
from mloop.store import schema
from mloop.store.foreign import foreign_revision_error, is_mloop_revision, untracked_tables_error

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_ADVISORY_LOCK_KEY = 0x6D6C6F6F70  # "mloop"

STORE_ID_KEY = "store_id"

_version_table = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), primary_key=True),
)


def _read_revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.select(_version_table.c.version_num)).scalar()


def _read_store_id(connection: sa.Connection) -> str | None:
    meta = schema.store_meta
    query = sa.select(meta.c.value).where(meta.c.key == STORE_ID_KEY)
    return connection.execute(query).scalar()


def _write_store_id(connection: sa.Connection) -> str:
    store_id = uuid.uuid4().hex
    connection.execute(schema.store_meta.insert().values(key=STORE_ID_KEY, value=store_id))
    return store_id


def current_revision(engine: sa.Engine) -> str | None:
    """The schema revision stamped in the database, or None for an empty one."""
    with engine.connect() as connection:
        return _read_revision(connection)


def _alembic_upgrade(connection: sa.Connection) -> None:
    from alembic import command  # Alembic costs ~0.4 s to import; only old stores need it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def ensure_schema(engine: sa.Engine, *, create: bool = True) -> str:
    """Create or upgrade the schema to the head revision; return the store's identity.

    A no-op (one read) when the schema is at head and the store has its id.

    Args:
        engine: the metadata database.
        create: when False, a database without an mloop schema raises NotFound.

    Raises:
        NotFound: an empty database and ``create`` is False.
        StoreError: the database was written by a newer mloop, or belongs to another
            application (MLflow's own database, for one); nothing is written to it.
    """
    with engine.connect() as connection:
        revision = _read_revision(connection)
        if revision == schema.HEAD_REVISION:
            found = _read_store_id(connection)
            if found is not None:
                return found
        elif revision is not None and not is_mloop_revision(revision):
            shown = engine.url.render_as_string(hide_password=True)
            tables = sa.inspect(connection).get_table_names()
            raise foreign_revision_error(repr(shown), shown, revision, tables)
    with (
        engine.connect() as connection,
        _foreign_keys_off_on_sqlite(connection),
        connection.begin(),
    ):
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
        revision = _read_revision(connection)
        if revision is None:
            return _create_schema(connection, engine, create=create)
        if revision != schema.HEAD_REVISION:
            if not any((MIGRATIONS_DIR / "versions").glob(f"{revision}_*.py")):
                raise StoreError(
                    f"the metadata store is at schema revision {revision!r}, which this "
                    "mloop does not know; upgrade mloop"
                )
            _alembic_upgrade(connection)
            _check_foreign_keys(connection)
        return _read_store_id(connection) or _write_store_id(connection)


@contextlib.contextmanager
def _foreign_keys_off_on_sqlite(connection: sa.Connection) -> Iterator[None]:
    # SQLite rebuilds a table to change its constraints (create, copy, drop,
    # rename). With foreign keys enforced, dropping the old experiments table
    # would cascade into every run: migrations run with enforcement off, as
    # SQLite's documentation prescribes, and are checked before they commit.
    # The pragma is a no-op inside a transaction, so it is set before one begins.
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise StoreError(
            f"upgrading the metadata store would leave {len(broken)} rows pointing at rows "
            f"that do not exist (first: table {broken[0][0]!r}); nothing was changed"
        )


def _create_schema(connection: sa.Connection, engine: sa.Engine, *, create: bool) -> str:
    if sa.inspect(connection).get_table_names():
        raise untracked_tables_error(repr(engine.url.render_as_string(hide_password=True)))
    if not create:
        shown = engine.url.render_as_string(hide_password=True)
        raise NotFound(
            f"no mloop store here: the metadata database {shown!r} holds no mloop store; "
            "point MLOOP_HOME or MLOOP_TRACKING_URI (or `mloop --tracking-uri`) at the store "
            "to use"
        )
    schema.metadata.create_all(connection)
    connection.execute(
        # The first row: id DEFAULT_PROJECT_ID (1) on SQLite and PostgreSQL alike,
        # and PostgreSQL's sequence moves past it.
        schema.projects.insert().values(
            name="default",
            description="",
            created_time=time.time_ns() // 1_000_000,
        )
    )
    _version_table.create(connection)
    connection.execute(_version_table.insert().values(version_num=schema.HEAD_REVISION))
    return _write_store_id(connection)
