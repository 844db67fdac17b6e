"""Pipeline step cache: successful step runs by cache key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "step_cache",
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cache_key", name=op.f("pk_step_cache")),
    )
    with op.batch_alter_table("step_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_step_cache_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("step_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_cache_run_id"))
    op.drop_table("step_cache")
