"""Alembic environment: runs migrations on the connection mloop hands over."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from mloop.store.engine import create_engine
from mloop.store.schema import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        transaction_per_migration=False,
    )
    context.run_migrations()


connection: sa.Connection | None = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
