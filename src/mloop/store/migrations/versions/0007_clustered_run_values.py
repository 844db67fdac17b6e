"""On SQLite, a run's params, tags and latest metrics are stored together.

``params``, ``tags`` and ``latest_metrics`` become ``WITHOUT ROWID`` tables:
their rows live in the primary key's ``(run_id, key)`` order, so reading a
run's values (a search's filters, its order and its result columns) is one
seek and a short scan instead of a lookup per value, and each write updates
one b-tree fewer. PostgreSQL has no such storage option; its schema does not
change.

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

_TABLES = ("params", "tags", "latest_metrics")


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        # Batch mode copies the table into a new one declared this way, then
        # recreates its indexes.
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
