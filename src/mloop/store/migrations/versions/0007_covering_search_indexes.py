"""Search indexes that answer a metric or param filter on their own.

The ``(key, value)`` indexes of ``latest_metrics`` and ``params`` gain
``run_id``, so a filter such as ``metrics.auc > 0.9`` finds its runs in the
index alone (an index-only scan on both SQLite and PostgreSQL) instead of
visiting the table once per matching row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 00:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TABLES = ("latest_metrics", "params")


def upgrade() -> None:
    for table in _TABLES:
        op.create_index(f"ix_{table}_key_value_run_id", table, ["key", "value", "run_id"])
        op.drop_index(f"ix_{table}_key_value", table_name=table)


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.create_index(f"ix_{table}_key_value", table, ["key", "value"])
        op.drop_index(f"ix_{table}_key_value_run_id", table_name=table)
