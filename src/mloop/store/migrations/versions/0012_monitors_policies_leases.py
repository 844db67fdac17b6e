"""Monitors and their reports, policies and their runs, and the agent's leases on jobs.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _project(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"], ["projects.project_id"], name=op.f(f"fk_{table}_project_id_projects")
    )


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("monitor_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("project_id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("target", sa.String(length=600), nullable=False),
        sa.Column("reference", sa.String(length=600), nullable=False),
        sa.Column("schedule", sa.String(length=600), nullable=False),
        sa.Column("run_window", sa.String(length=600), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("notifiers", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("last_run_time", sa.BigInteger(), nullable=True),
        sa.Column("next_run_time", sa.BigInteger(), nullable=True),
        _project("monitors"),
        sa.PrimaryKeyConstraint("monitor_id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_monitors_project_id_name")),
    )
    op.create_index(
        op.f("ix_monitors_project_id_next_run_time"),
        "monitors",
        ["project_id", "next_run_time"],
        unique=False,
    )
    op.create_table(
        "monitor_reports",
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("monitor_id", _BIG_ID, nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=600), nullable=False),
        sa.Column("model_versions", sa.Text(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("alerts", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.monitor_id"],
            name=op.f("fk_monitor_reports_monitor_id_monitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_monitor_reports")),
    )
    op.create_index(
        op.f("ix_monitor_reports_monitor_id_window_end"),
        "monitor_reports",
        ["monitor_id", "window_end"],
        unique=False,
    )
    op.create_table(
        "policies",
        sa.Column("policy_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("project_id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("trigger_spec", sa.Text(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        _project("policies"),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_policies")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_policies_project_id_name")),
    )
    op.create_table(
        "policy_runs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("policy_id", _BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("trigger_event", sa.Text(), nullable=False),
        sa.Column("chain", sa.Text(), nullable=False),
        sa.Column("started_time", sa.BigInteger(), nullable=False),
        sa.Column("ended_time", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.policy_id"],
            name=op.f("fk_policy_runs_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_policy_runs")),
    )
    op.create_index(
        op.f("ix_policy_runs_policy_id_started_time"),
        "policy_runs",
        ["policy_id", "started_time"],
        unique=False,
    )
    op.create_table(
        "leases",
        sa.Column("project_id", _BIG_ID, nullable=False),
        sa.Column("job", sa.String(length=300), nullable=False),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("acquired_time", sa.BigInteger(), nullable=False),
        sa.Column("expires_time", sa.BigInteger(), nullable=False),
        _project("leases"),
        sa.PrimaryKeyConstraint("project_id", "job", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index(op.f("ix_policy_runs_policy_id_started_time"), table_name="policy_runs")
    op.drop_table("policy_runs")
    op.drop_table("policies")
    op.drop_index(op.f("ix_monitor_reports_monitor_id_window_end"), table_name="monitor_reports")
    op.drop_table("monitor_reports")
    op.drop_index(op.f("ix_monitors_project_id_next_run_time"), table_name="monitors")
    op.drop_table("monitors")
