"""A run's name and parent as tags under MLflow's names: ``mloop.runName``, ``mloop.parentRunId``.

Runs written before get a ``mloop.runName`` tag holding their name, and the
tag ``mloop.parent_run_id`` becomes ``mloop.parentRunId``, so a search by
``tags.mloop.parentRunId`` finds old children as well as new ones. Where a
run already has a tag under the new key, that value is kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _rename(old: str, new: str) -> None:
    op.execute(
        "INSERT INTO tags (run_id, key, value)"
        f" SELECT t.run_id, '{new}', t.value FROM tags AS t WHERE t.key = '{old}'"
        f" AND NOT EXISTS (SELECT 1 FROM tags AS n WHERE n.run_id = t.run_id AND n.key = '{new}')"
    )
    op.execute(f"DELETE FROM tags WHERE key = '{old}'")


def upgrade() -> None:
    _rename("mloop.parent_run_id", "mloop.parentRunId")
    op.execute(
        "INSERT INTO tags (run_id, key, value)"
        " SELECT r.run_id, 'mloop.runName', r.name FROM runs AS r WHERE NOT EXISTS"
        " (SELECT 1 FROM tags AS n WHERE n.run_id = r.run_id AND n.key = 'mloop.runName')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM tags WHERE key = 'mloop.runName'")
    _rename("mloop.parentRunId", "mloop.parent_run_id")
