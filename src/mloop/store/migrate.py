"""Bring a metadata database to the current schema, safely when processes race.

A brand-new database gets the whole schema in one transaction and is stamped
with :data:`~mloop.store.schema.HEAD_REVISION`; an older one is upgraded by
Alembic. Both happen under a lock (SQLite's write lock, a PostgreSQL advisory
lock) so two processes opening the same store at once do the work once.

Example:
    >>> from mloop.store.engine import create_engine
    >>> engine = create_engine("sqlite:///:memory:")
    >>> ensure_schema(engine)
    >>> current_revision(engine) == schema.HEAD_REVISION
    True
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from mloop.errors import StoreError
from mloop.store import schema

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_ADVISORY_LOCK_KEY = 0x6D6C6F6F70  # "mloop"

_version_table = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), primary_key=True),
)


def _read_revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.select(_version_table.c.version_num)).scalar()


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


def ensure_schema(engine: sa.Engine) -> None:
    """Create or upgrade the schema to the head revision; a no-op when already there.

    Raises:
        StoreError: the database was written by a newer mloop.
    """
    with engine.connect() as connection:
        if _read_revision(connection) == schema.HEAD_REVISION:
            return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
        revision = _read_revision(connection)
        if revision == schema.HEAD_REVISION:
            return
        if revision is None:
            if sa.inspect(connection).get_table_names():
                raise StoreError(
                    "the database has tables but no mloop schema revision; point the tracking "
                    "URI at an empty database or an existing mloop store"
                )
            schema.metadata.create_all(connection)
            _version_table.create(connection)
            connection.execute(_version_table.insert().values(version_num=schema.HEAD_REVISION))
            return
        if not any((MIGRATIONS_DIR / "versions").glob(f"{revision}_*.py")):
            raise StoreError(
                f"the metadata store is at schema revision {revision!r}, which this mloop "
                "does not know; upgrade mloop"
            )
        _alembic_upgrade(connection)
