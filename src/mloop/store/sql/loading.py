"""Reading whole runs (info, params, tags, latest metrics, inputs/outputs) in bulk."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from mloop.entities import LifecycleStage, Run, RunData, RunInfo, RunIO, RunStatus
from mloop.store import schema
from mloop.store.database import Database, chunks

_R = schema.runs


def row_to_info(m: Mapping[Any, Any]) -> RunInfo:
    """A RunInfo from a ``runs`` row mapping."""
    return RunInfo(
        run_id=m["run_id"],
        experiment_id=str(m["experiment_id"]),
        run_name=m["name"],
        status=RunStatus(m["status"]),
        start_time=m["start_time"],
        end_time=m["end_time"],
        lifecycle_stage=LifecycleStage(m["lifecycle_stage"]),
        artifact_uri=m["artifact_uri"],
        parent_run_id=m["parent_run_id"],
        error=m["error"],
        owner=m["owner"],
        heartbeat_time=m["heartbeat_time"],
    )


def _key_values(
    database: Database, conn: sa.Connection, table: str, ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for run_id, key, val in database.fetch_by_run(conn, table, "run_id, key, value", ids):
        out.setdefault(run_id, {})[key] = val
    return out


def load_runs(
    database: Database, conn: sa.Connection, ids: Sequence[str], *, with_io: bool = True
) -> list[Run]:
    """Runs for ``ids`` in the same order; unknown ids are skipped."""
    rows: dict[str, Any] = {}
    for part in chunks(ids):
        for row in conn.execute(sa.select(_R).where(_R.c.run_id.in_(part))).all():
            rows[row.run_id] = row
    params = _key_values(database, conn, "params", ids)
    tags = _key_values(database, conn, "tags", ids)
    metrics = _key_values(database, conn, "latest_metrics", ids)
    ios: dict[str, list[RunIO]] = {}
    if with_io:
        io = schema.run_io
        for part in chunks(ids):
            for r in conn.execute(sa.select(io).where(io.c.run_id.in_(part))).all():
                ios.setdefault(r.run_id, []).append(
                    RunIO(r.digest, r.name, r.kind, r.direction, r.source, r.context)
                )
    runs = []
    for run_id in ids:
        found = rows.get(run_id)
        if found is None:
            continue
        run_metrics = {
            k: (math.nan if v is None else float(v)) for k, v in metrics.get(run_id, {}).items()
        }
        run_io = ios.get(run_id, [])
        runs.append(
            Run(
                info=row_to_info(found._mapping),
                data=RunData(
                    metrics=run_metrics,
                    params=params.get(run_id, {}),
                    tags=tags.get(run_id, {}),
                ),
                inputs=tuple(i for i in run_io if i.direction == "input"),
                outputs=tuple(i for i in run_io if i.direction == "output"),
            )
        )
    return runs
