"""Runs and what is logged to them, over SQL."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mloop.entities import (
    RUN_NAME_TAG,
    LifecycleStage,
    Metric,
    PagedList,
    Run,
    RunInfo,
    RunIO,
    RunStatus,
    RunTable,
    ViewType,
)
from mloop.errors import Conflict, InvalidInput, NotFound
from mloop.store import schema
from mloop.store.database import Database, chunks, experiment_pk, now_millis
from mloop.store.protocols.tracking import Batch, Environment, NewRun, Termination
from mloop.store.sql.loading import load_runs, row_to_info
from mloop.store.sql.run_table import RUN_FIELDS, run_table_from_rows
from mloop.store.sql.search import search_run_ids, search_run_rows, unknown_filter_keys

_R = schema.runs
_HEX = re.compile(r"[0-9a-f]{1,32}")
_LM = schema.latest_metrics
_METRIC_FIELDS = ("run_id", "key", "value", "timestamp", "step")
_CHILD_TABLES = (
    schema.metrics,
    schema.latest_metrics,
    schema.params,
    schema.tags,
    schema.artifacts,
    schema.run_io,
)


def _first(item: tuple[tuple[str, str], object]) -> tuple[str, str]:
    return item[0]


def _is_foreign_key(err: IntegrityError) -> bool:
    # PostgreSQL's SQLSTATE for a foreign-key violation; SQLite only says it in words.
    return getattr(err.orig, "sqlstate", None) == "23503" or "FOREIGN KEY" in str(err.orig)


class SqlRunStore:
    """:class:`~mloop.store.protocols.tracking.RunStore` over SQL."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # Statements are built once: building SQLAlchemy constructs per call
        # costs more than executing them on the hot paths.
        tags = database.upsert(schema.tags)
        self._upsert_tags = tags.on_conflict_do_update(
            index_elements=["run_id", "key"], set_={"value": tags.excluded.value}
        )
        latest = database.upsert(_LM)
        new = latest.excluded
        self._upsert_latest = latest.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={"value": new.value, "timestamp": new.timestamp, "step": new.step},
            where=sa.or_(
                new.step > _LM.c.step,
                sa.and_(new.step == _LM.c.step, new.timestamp >= _LM.c.timestamp),
            ),
        )
        self._insert_env = database.upsert(schema.environments).on_conflict_do_nothing(
            index_elements=["digest"]
        )
        self._insert_params = schema.params.insert()
        artifacts = database.upsert(schema.artifacts)
        self._upsert_artifacts = artifacts.on_conflict_do_update(
            index_elements=["run_id", "path"],
            set_={
                "digest": artifacts.excluded.digest,
                "size": artifacts.excluded.size,
                "created_time": artifacts.excluded.created_time,
            },
        )
        self._insert_io = database.upsert(schema.run_io).on_conflict_do_nothing()
        prepare = database.prepare
        self._fast = {
            "env": prepare(self._insert_env),
            "run": prepare(_R.insert()),
            "tags": prepare(schema.tags.insert()),
            "params": prepare(self._insert_params),
            "upsert_tags": prepare(self._upsert_tags),
            "upsert_latest": prepare(self._upsert_latest),
            "artifacts": prepare(self._upsert_artifacts),
            "io": prepare(self._insert_io),
            "metrics": prepare(
                schema.metrics.insert().values(
                    {name: sa.bindparam(name) for name in _METRIC_FIELDS}
                )
            ),
        }
        self._select_params = sa.select(schema.params.c.key, schema.params.c.value).where(
            schema.params.c.run_id == sa.bindparam("run_id"),
            schema.params.c.key.in_(sa.bindparam("keys", expanding=True)),
        )
        self._end_run = (
            _R.update()
            .where(_R.c.run_id == sa.bindparam("end_run_id"))
            .values(
                status=sa.bindparam("status"),
                end_time=sa.bindparam("end_time"),
                error=sa.bindparam("error"),
            )
        )

    def create_run(
        self,
        experiment_id: str,
        run_name: str,
        start_time: int,
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
        environment: Environment | None = None,
    ) -> RunInfo:
        """Create a RUNNING run with its tags (and environment) in one transaction."""
        new = NewRun.build(experiment_id, run_name, start_time, tags, parent_run_id, environment)
        try:
            self.write_batch(Batch(runs=[new]))
        except NotFound:
            raise NotFound(f"experiment {experiment_id!r} not found") from None
        return new.info

    def get_run(self, run_id: str) -> Run:
        """The run with this id; NotFound otherwise."""
        with self._db.connect() as conn:
            found = load_runs(self._db, conn, [run_id])
        if not found:
            raise NotFound(f"run {run_id!r} not found")
        return found[0]

    def get_run_info(self, run_id: str) -> RunInfo:
        """Only the info part of a run; NotFound otherwise."""
        with self._db.connect() as conn:
            row = conn.execute(sa.select(_R).where(_R.c.run_id == run_id)).first()
        if row is None:
            raise NotFound(f"run {run_id!r} not found")
        return row_to_info(row._mapping)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change a run's status, end time or name; NotFound for an unknown id."""
        values: dict[str, object] = {}
        if status is not None:
            values["status"] = RunStatus(status).value
        if end_time is not None:
            values["end_time"] = end_time
        if run_name is not None:
            values["name"] = run_name
        if values:
            with self._db.begin() as conn:
                changed = conn.execute(_R.update().where(_R.c.run_id == run_id).values(values))
                if run_name is not None and changed.rowcount:  # the name's tag follows it
                    conn.execute(
                        self._upsert_tags,
                        {"run_id": run_id, "key": RUN_NAME_TAG, "value": run_name},
                    )
        return self.get_run_info(run_id)

    def set_run_stage(self, run_id: str, stage: LifecycleStage) -> None:
        """Soft-delete or restore a run; NotFound for an unknown id."""
        stage = LifecycleStage(stage)
        deleted_time = now_millis() if stage == LifecycleStage.DELETED else None
        with self._db.begin() as conn:
            result = conn.execute(
                _R.update()
                .where(_R.c.run_id == run_id)
                .values(lifecycle_stage=stage.value, deleted_time=deleted_time)
            )
        if result.rowcount == 0:
            raise NotFound(f"run {run_id!r} not found")

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Write params; Conflict (writing nothing) when a key already holds another value."""
        if not params:
            return
        with self._db.begin() as conn:
            existing = dict(
                conn.execute(self._select_params, {"run_id": run_id, "keys": list(params)}).all()
            )
            changed = {k: (existing[k], v) for k, v in params.items() if existing.get(k, v) != v}
            if changed:
                key, (old, new) = next(iter(changed.items()))
                raise Conflict(
                    f"param {key!r} of run {run_id} is already {old!r}; it cannot become "
                    f"{new!r} (params are immutable: log a new run, or use a tag or metric)"
                )
            fresh = [
                {"run_id": run_id, "key": k, "value": v}
                for k, v in params.items()
                if k not in existing
            ]
            if fresh:
                try:
                    conn.execute(self._insert_params, fresh)
                except IntegrityError:
                    raise NotFound(f"run {run_id!r} not found") from None

    def write_batch(self, batch: Batch) -> None:
        """Apply buffered tags, metrics and run ends in one transaction.

        Every statement writes its rows in key order, and the tables always in
        the same order, so concurrent writers of the same run and keys wait for
        each other instead of deadlocking (PostgreSQL).
        """
        conflicts: list[str] = []
        ends = {end.run_id: end for end in batch.terminations}
        try:
            with self._db.begin() as conn:
                if batch.runs:
                    self._insert_runs(conn, batch.runs, ends)
                if batch.params:
                    created = {new.info.run_id for new in batch.runs}
                    conflicts = self._write_params(conn, batch.params, created)
                if batch.tags:
                    self._write_tags(conn, batch.tags)
                if batch.metrics:
                    self._write_metrics(conn, batch)
                if batch.artifacts:
                    self._write_artifacts(conn, batch.artifacts)
                if batch.io:
                    self._write_io(conn, batch.io)
                if ends:
                    conn.execute(
                        self._end_run,
                        [
                            {
                                "end_run_id": end.run_id,
                                "status": end.status.value,
                                "end_time": end.end_time,
                                "error": end.error,
                            }
                            for _, end in sorted(ends.items())
                        ],
                    )
        except IntegrityError as err:
            if not _is_foreign_key(err):
                raise InvalidInput(f"the metadata store refused a row: {err.orig}") from None
            raise NotFound(f"a run written to does not exist ({err.orig})") from None
        if conflicts:
            raise Conflict(
                "params are immutable; these were already stored with other values and "
                f"were not changed: {'; '.join(conflicts)}"
            )

    def _write_artifacts(
        self, conn: sa.Connection, entries: list[tuple[str, str, str, int]]
    ) -> None:
        # The last write of a path wins, as in ArtifactIndex.record_artifacts.
        now = now_millis()
        latest = {(run_id, path): (digest, size) for run_id, path, digest, size in entries}
        rows = [
            {"run_id": r, "path": p, "digest": d, "size": n, "created_time": now}
            for (r, p), (d, n) in sorted(latest.items())
        ]
        self._db.run_many(conn, self._fast["artifacts"], rows)

    def _write_io(self, conn: sa.Connection, items: list[tuple[str, RunIO]]) -> None:
        rows = [
            {
                "run_id": run_id,
                "direction": i.direction,
                "digest": i.digest,
                "context": i.context,
                "name": i.name,
                "kind": i.kind,
                "source": i.source,
            }
            for run_id, i in sorted(items, key=lambda x: (x[0], x[1].direction, x[1].digest))
        ]
        self._db.run_many(conn, self._fast["io"], rows)

    def _insert_runs(
        self, conn: sa.Connection, runs: list[NewRun], ends: dict[str, Termination]
    ) -> None:
        environments = {new.environment.digest: new.environment for new in runs if new.environment}
        if environments:
            self._db.run_many(
                conn,
                self._fast["env"],
                [
                    {
                        "digest": env.digest,
                        "python_version": env.python_version,
                        "platform": env.platform,
                        "packages": env.packages,
                        "created_time": runs[0].info.start_time,
                    }
                    for _, env in sorted(environments.items())
                ],
            )
        rows = []
        for new in runs:
            info = new.info
            # A run that starts and ends within one batch is written ended: no UPDATE needed.
            end = ends.pop(info.run_id, None)
            rows.append(
                {
                    "run_id": info.run_id,
                    "experiment_id": experiment_pk(info.experiment_id),
                    "name": info.run_name,
                    "status": end.status.value if end else info.status.value,
                    "start_time": info.start_time,
                    "end_time": end.end_time if end else None,
                    "lifecycle_stage": info.lifecycle_stage.value,
                    "deleted_time": None,
                    "artifact_uri": info.artifact_uri,
                    "parent_run_id": info.parent_run_id,
                    "error": end.error if end else None,
                    "env_digest": new.environment.digest if new.environment else None,
                    "owner": info.owner,
                    "heartbeat_time": info.heartbeat_time,
                }
            )
        self._db.run_many(conn, self._fast["run"], rows)
        tags = [
            {"run_id": new.info.run_id, "key": k, "value": v}
            for new in runs
            for k, v in new.tags.items()
        ]
        self._db.run_many(conn, self._fast["tags"], tags)

    def _write_params(
        self, conn: sa.Connection, rows: list[tuple[str, str, str]], created: set[str]
    ) -> list[str]:
        wanted: dict[str, dict[str, str]] = {}
        for run_id, key, value in rows:
            wanted.setdefault(run_id, {}).setdefault(key, value)
        conflicts: list[str] = []
        fresh: list[dict[str, str]] = []
        for run_id, params in wanted.items():
            # A run created in this very batch has no stored params to contradict.
            stored = (
                {}
                if run_id in created
                else dict(
                    conn.execute(
                        self._select_params, {"run_id": run_id, "keys": list(params)}
                    ).all()
                )
            )
            for key, value in params.items():
                if key not in stored:
                    fresh.append({"run_id": run_id, "key": key, "value": value})
                elif stored[key] != value:
                    conflicts.append(
                        f"run {run_id} param {key!r} is {stored[key]!r}, not {value!r}"
                    )
        fresh.sort(key=lambda row: (row["run_id"], row["key"]))
        self._db.run_many(conn, self._fast["params"], fresh)
        return conflicts

    def _write_tags(self, conn: sa.Connection, rows: list[tuple[str, str, str]]) -> None:
        last = {(run_id, key): value for run_id, key, value in rows}
        latest = [(r, k, v) for (r, k), v in sorted(last.items())]
        self._db.run_many_tuples(
            conn, self._fast["upsert_tags"], ("run_id", "key", "value"), latest
        )

    def _write_metrics(self, conn: sa.Connection, batch: Batch) -> None:
        # NaN is stored as NULL (SQLite has no NaN); inf is stored as itself.
        self._db.run_many_tuples(
            conn,
            self._fast["metrics"],
            _METRIC_FIELDS,
            [(r, k, v if v == v else None, ts, s) for r, k, v, ts, s in batch.metrics],
        )
        newest: dict[tuple[str, str], tuple[int, int, float]] = {}
        for run_id, key, value, timestamp, step in batch.metrics:
            current = newest.get((run_id, key))
            if current is None or (step, timestamp) >= (current[0], current[1]):
                newest[(run_id, key)] = (step, timestamp, value)
        self._db.run_many_tuples(
            conn,
            self._fast["upsert_latest"],
            _METRIC_FIELDS,
            [
                (r, k, v if v == v else None, ts, s)
                for (r, k), (s, ts, v) in sorted(newest.items(), key=_first)
            ],
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; NotFound when the run has no such tag."""
        with self._db.begin() as conn:
            result = conn.execute(
                schema.tags.delete().where(schema.tags.c.run_id == run_id, schema.tags.c.key == key)
            )
        if result.rowcount == 0:
            raise NotFound(f"run {run_id!r} has no tag {key!r}")

    def log_io(self, run_id: str, items: Sequence[RunIO]) -> None:
        """Record inputs and outputs by digest; logging the same one again changes nothing."""
        if not items:
            return
        for item in items:
            if item.direction not in ("input", "output"):
                raise InvalidInput(f"direction must be 'input' or 'output', got {item.direction!r}")
        try:
            with self._db.begin() as conn:
                self._write_io(conn, [(run_id, item) for item in items])
        except IntegrityError:
            raise NotFound(f"run {run_id!r} not found") from None

    def find_io(self, digest: str) -> list[tuple[str, RunIO]]:
        """Every ``(run_id, input or output)`` that names ``digest``, oldest run first."""
        io = schema.run_io
        query = (
            sa.select(io)
            .join(_R, _R.c.run_id == io.c.run_id)
            .where(io.c.digest == digest)
            .order_by(_R.c.start_time, io.c.run_id)
        )
        with self._db.connect() as conn:
            rows = conn.execute(query).all()
        return [
            (r.run_id, RunIO(r.digest, r.name, r.kind, r.direction, r.source, r.context))
            for r in rows
        ]

    def find_run_ids(self, prefix: str, limit: int) -> list[str]:
        """The run ids starting with a hex ``prefix``, sorted, at most ``limit``.

        Example:
            >>> store.find_run_ids("3f2a", 10)  # doctest: +SKIP
            ['3f2a0c9d1e8b4f6a9c7d2e1f0a3b5c7d']
        """
        prefix = prefix.lower()
        if not _HEX.fullmatch(prefix):
            raise InvalidInput(f"{prefix!r} is not the start of a run id (hex digits 0-9, a-f)")
        # Hex digits only, so the pattern holds no LIKE wildcard to escape.
        query = (
            sa.select(_R.c.run_id)
            .where(_R.c.run_id.like(f"{prefix}%"))
            .order_by(_R.c.run_id)
            .limit(max(0, limit))
        )
        with self._db.connect() as conn:
            return list(conn.execute(query).scalars())

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step then timestamp, in logging order on ties."""
        m = schema.metrics
        query = (
            sa.select(m.c.key, m.c.value, m.c.timestamp, m.c.step)
            .where(m.c.run_id == run_id, m.c.key == key)
            .order_by(m.c.step, m.c.timestamp, m.c.id)
        )
        with self._db.connect() as conn:
            rows = conn.execute(query).all()
        return [Metric(k, math.nan if v is None else v, ts, s) for k, v, ts, s in rows]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs matching a filter, ordered, one page at a time."""
        with self._db.connect() as conn:
            ids, token = search_run_ids(
                conn,
                [experiment_pk(e) for e in experiment_ids],
                filter_string,
                ViewType(view_type),
                max_results,
                order_by,
                page_token,
            )
            return PagedList(load_runs(self._db, conn, ids, with_io=False), token)

    def search_run_table(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunTable:
        """The page :meth:`search_runs` would return, as columns, in a fixed number of queries."""
        with self._db.connect() as conn:
            rows, token = search_run_rows(
                conn,
                [experiment_pk(e) for e in experiment_ids],
                filter_string,
                ViewType(view_type),
                max_results,
                order_by,
                page_token,
                RUN_FIELDS,
            )
            return run_table_from_rows(self._db, conn, rows, token)

    def unknown_filter_keys(
        self, experiment_ids: Sequence[str], filter_string: str | None
    ) -> dict[str, list[str]]:
        """Fields of a filter no run of the experiments has, with their close matches."""
        with self._db.connect() as conn:
            return unknown_filter_keys(
                conn, [experiment_pk(e) for e in experiment_ids], filter_string
            )

    def heartbeat(self, run_ids: Sequence[str], owner: str, time: int) -> None:
        """Record that ``owner`` is alive and runs those of ``run_ids`` still RUNNING.

        Runs are touched in id order, so two writers never lock them in opposite orders.
        """
        for part in chunks(sorted(run_ids)):
            with self._db.begin() as conn:
                conn.execute(
                    _R.update()
                    .where(_R.c.run_id.in_(part), _R.c.status == RunStatus.RUNNING.value)
                    .values(owner=owner, heartbeat_time=time)
                )

    def claim_run(
        self,
        run_id: str,
        seen_status: RunStatus,
        seen_owner: str | None,
        owner: str,
        now: int,
    ) -> bool:
        """Take a run over as seen: set it RUNNING for ``owner``; False if it changed since.

        One UPDATE compares and sets, so of two processes claiming the same state one wins.
        """
        same_owner = _R.c.owner.is_(None) if seen_owner is None else _R.c.owner == seen_owner
        with self._db.begin() as conn:
            changed = conn.execute(
                _R.update()
                .where(
                    _R.c.run_id == run_id,
                    _R.c.status == RunStatus(seen_status).value,
                    same_owner,
                )
                .values(status=RunStatus.RUNNING.value, owner=owner, heartbeat_time=now)
            ).rowcount
        return bool(changed)

    def purge_runs(self, deleted_before: int, *, dry_run: bool = False) -> list[str]:
        """Remove runs deleted before ``deleted_before`` (ms); only list them if ``dry_run``."""
        with self._db.begin() as conn:
            ids = list(
                conn.execute(
                    sa.select(_R.c.run_id).where(
                        _R.c.lifecycle_stage == LifecycleStage.DELETED.value,
                        _R.c.deleted_time <= deleted_before,
                    )
                ).scalars()
            )
            if dry_run:
                return ids
            for part in chunks(ids):
                for table in _CHILD_TABLES:
                    conn.execute(table.delete().where(table.c.run_id.in_(part)))
                conn.execute(
                    _R.update().where(_R.c.parent_run_id.in_(part)).values(parent_run_id=None)
                )
                conn.execute(_R.delete().where(_R.c.run_id.in_(part)))
        return ids
