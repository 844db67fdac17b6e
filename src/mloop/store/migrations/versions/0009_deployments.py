"""Deployments: named endpoints, their traffic split and history; protections may allow canaries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("deployment_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("project_id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("primary_ref", sa.String(length=600), nullable=False),
        sa.Column("canary_ref", sa.String(length=600), nullable=True),
        sa.Column("canary_percent", sa.Integer(), nullable=False),
        sa.Column("shadow_ref", sa.String(length=600), nullable=True),
        sa.Column("sticky_header", sa.String(length=128), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.project_id"],
            name=op.f("fk_deployments_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("deployment_id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_deployments_project_id_name")),
    )
    op.create_table(
        "deployment_history",
        sa.Column("change_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("project_id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("alias_move", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.project_id"],
            name=op.f("fk_deployment_history_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_deployment_history")),
    )
    op.create_index(
        op.f("ix_deployment_history_project_id_name"),
        "deployment_history",
        ["project_id", "name"],
        unique=False,
    )
    with op.batch_alter_table("alias_protections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_canary", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("alias_protections", schema=None) as batch_op:
        batch_op.drop_column("allow_canary")
    op.drop_index(op.f("ix_deployment_history_project_id_name"), table_name="deployment_history")
    op.drop_table("deployment_history")
    op.drop_table("deployments")
