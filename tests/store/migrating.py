"""Run one Alembic command of mloop's migrations on an engine (tests of single migrations)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from mloop.store.migrate import MIGRATIONS_DIR


def migrate(engine: sa.Engine, action: str, revision: str) -> None:
    """``upgrade`` or ``downgrade`` the store at ``engine`` to ``revision``, in one transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)
