"""Deployments keep a canary analysis policy; their history keeps each decision's evidence.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", sa.Text(), nullable=True))
    with op.batch_alter_table("deployment_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployment_history", schema=None) as batch_op:
        batch_op.drop_column("evidence")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("policy")
