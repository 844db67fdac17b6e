"""Projects: experiments, datasets and registered models belong to one.

Every existing row moves into project ``default``; names become unique within
a project instead of across the store.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NAMESPACED = ("experiments", "datasets", "registered_models")


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("project_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    now = time.time_ns() // 1_000_000
    op.bulk_insert(projects, [{"name": "default", "description": "", "created_time": now}])
    default = "(SELECT project_id FROM projects WHERE name = 'default')"
    for table in _NAMESPACED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("project_id", _BIG_ID, nullable=True))
        op.execute(f"UPDATE {table} SET project_id = {default}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("project_id", existing_type=_BIG_ID, nullable=False)
            batch_op.drop_constraint(f"uq_{table}_name", type_="unique")
            batch_op.create_unique_constraint(
                batch_op.f(f"uq_{table}_project_id_name"), ["project_id", "name"]
            )
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_project_id_projects"),
                "projects",
                ["project_id"],
                ["project_id"],
            )


def downgrade() -> None:
    for table in reversed(_NAMESPACED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_project_id_projects", type_="foreignkey")
            batch_op.drop_constraint(f"uq_{table}_project_id_name", type_="unique")
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_name"), ["name"])
            batch_op.drop_column("project_id")
    op.drop_table("projects")
