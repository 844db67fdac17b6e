"""Migration 0008: old runs get ``mloop.runName`` and their parent tag under ``mloop.parentRunId``."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mloop.store import schema
from mloop.store.engine import create_engine
from mloop.store.migrate import current_revision
from tests.store.migrating import migrate

BEFORE = {
    ("child", "mloop.parent_run_id", "parent"),
    ("child", "team", "risk"),
    # A run that already had a tag under the new key keeps that value.
    ("twin", "mloop.parent_run_id", "parent"),
    ("twin", "mloop.parentRunId", "set-by-hand"),
    ("twin", "mloop.runName", "named-by-tag"),
}
AFTER = {
    ("child", "mloop.parentRunId", "parent"),
    ("child", "team", "risk"),
    ("child", "mloop.runName", "child-run"),
    ("parent", "mloop.runName", "parent-run"),
    ("twin", "mloop.parentRunId", "set-by-hand"),
    ("twin", "mloop.runName", "named-by-tag"),
}


def _fill(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time,"
            " last_update_time, project_id) VALUES ('e', '', 'active', 0, 0, 1)"
        )
        for run_id in ("parent", "child", "twin"):
            conn.execute(
                schema.runs.insert().values(
                    run_id=run_id,
                    experiment_id=1,
                    name=f"{run_id}-run",
                    status="FINISHED",
                    start_time=1,
                    lifecycle_stage="active",
                    artifact_uri="a",
                    parent_run_id="parent" if run_id != "parent" else None,
                )
            )
        conn.execute(
            schema.tags.insert(),
            [dict(zip(("run_id", "key", "value"), t, strict=True)) for t in BEFORE],
        )


def _tags(engine: sa.Engine) -> set[tuple[str, str, str]]:
    with engine.connect() as conn:
        return {tuple(row) for row in conn.exec_driver_sql("SELECT run_id, key, value FROM tags")}


def _check(engine: sa.Engine) -> None:
    migrate(engine, "upgrade", "0007")
    _fill(engine)
    migrate(engine, "upgrade", "0008")
    assert current_revision(engine) == "0008"
    assert _tags(engine) == AFTER
    migrate(engine, "downgrade", "0007")
    back = {
        ("child", "mloop.parent_run_id", "parent"),
        ("child", "team", "risk"),
        ("twin", "mloop.parent_run_id", "set-by-hand"),
    }
    assert _tags(engine) == back
    engine.dispose()


def test_sqlite_old_runs_get_the_new_tags_and_the_downgrade_takes_them_back(
    tmp_path: Path,
) -> None:
    _check(create_engine(f"sqlite:///{tmp_path}/m.db"))


@pytest.mark.postgres
def test_postgres_old_runs_get_the_new_tags_and_the_downgrade_takes_them_back(
    postgres_store: str,
) -> None:
    _check(create_engine(postgres_store))
