"""Monitors and their reports over SQL; reports go with their monitor (ON DELETE CASCADE).

Example:
    >>> from mloop.store.database import Database
    >>> store = SqlMonitorStore(Database.open("sqlite://"))
    >>> m = store.create_monitor(Monitor("drift", "deployment:api", "credit@train", "1h", "1d"))
    >>> report = store.add_report(MonitorReport("drift", 0, 3_600_000, "ok"))
    >>> [r.report_id for r in store.list_reports("drift")] == [report.report_id]
    True
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mloop.entities import Monitor, MonitorReport
from mloop.errors import AlreadyExists, InvalidInput, NotFound
from mloop.store import schema
from mloop.store.database import Database, now_millis
from mloop.store.loop_checks import dump_json, monitor_columns, report_columns
from mloop.store.sql.projects import ProjectScope

_M = schema.monitors
_R = schema.monitor_reports


class SqlMonitorStore:
    """:class:`~mloop.store.protocols.monitors.MonitorStore` over SQL."""

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)

    def create_monitor(self, monitor: Monitor) -> Monitor:
        """Store a new monitor.

        Raises:
            InvalidInput: a bad value, or a secret in a notifier spec; nothing is written.
            AlreadyExists: the project has a monitor of that name.
        """
        columns = monitor_columns(monitor)
        now = now_millis()
        try:
            with self._db.begin() as conn:
                conn.execute(
                    _M.insert().values(
                        project_id=self._scope.write_id(conn),
                        name=monitor.name,
                        created_time=now,
                        updated_time=now,
                        **columns,
                    )
                )
                created = self._read(conn, monitor.name)
        except SqlIntegrityError:
            raise AlreadyExists(
                f"monitor {monitor.name!r} already exists{self._scope.shown}; "
                "change it, or pick another name"
            ) from None
        assert created is not None
        return created

    def get_monitor(self, name: str) -> Monitor:
        """The monitor called ``name``; NotFound otherwise."""
        with self._db.connect() as conn:
            found = self._read(conn, name)
        if found is None:
            raise self._missing(name)
        return found

    def list_monitors(self) -> list[Monitor]:
        """Every monitor of the project, by name."""
        return self._select(sa.true())

    def due_monitors(self, now: int) -> list[Monitor]:
        """Monitors not paused whose next run is at or before ``now``, or not planned yet."""
        return self._select(
            _M.c.paused == sa.false(),
            sa.or_(_M.c.next_run_time.is_(None), _M.c.next_run_time <= now),
        )

    def update_monitor(self, monitor: Monitor) -> Monitor:
        """Replace the settings of ``monitor.name``; its state and run times stay.

        Raises:
            InvalidInput: a bad value; nothing is changed.
            NotFound: no such monitor.
        """
        columns = monitor_columns(monitor)
        columns.pop("state")
        return self._change(monitor.name, updated_time=now_millis(), **columns)

    def record_run(
        self,
        name: str,
        *,
        state: Mapping[str, Any],
        last_run_time: int,
        next_run_time: int | None,
    ) -> Monitor:
        """Keep the state a run left and when the monitor ran and runs next.

        Raises:
            InvalidInput: a state that is not a JSON mapping, or a time that is not an int.
            NotFound: no such monitor.
        """
        if not isinstance(state, Mapping):
            raise InvalidInput(f"monitor state must be a mapping, got {type(state).__name__}")
        for what, value in (("last run", last_run_time), ("next run", next_run_time)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInput(f"{what} time must be milliseconds (an int), got {value!r}")
        return self._change(
            name,
            state=dump_json(state, "monitor state"),
            last_run_time=last_run_time,
            next_run_time=next_run_time,
        )

    def delete_monitor(self, name: str) -> None:
        """Remove a monitor and its reports; NotFound if there is none."""
        with self._db.begin() as conn:
            removed = conn.execute(_M.delete().where(self._named(name)))
        if not removed.rowcount:
            raise self._missing(name)

    def add_report(self, report: MonitorReport) -> MonitorReport:
        """Store a report of ``report.monitor``, with a new id and its creation time.

        Raises:
            InvalidInput: a bad status, window or value; nothing is written.
            NotFound: no such monitor.
        """
        columns = report_columns(report)
        report_id = uuid.uuid4().hex
        with self._db.begin() as conn:
            key = conn.execute(sa.select(_M.c.monitor_id).where(self._named(report.monitor)))
            monitor_id = key.scalar()
            if monitor_id is None:
                raise self._missing(report.monitor)
            conn.execute(
                _R.insert().values(
                    report_id=report_id,
                    monitor_id=monitor_id,
                    created_time=now_millis(),
                    **columns,
                )
            )
        return self.get_report(report_id)

    def get_report(self, report_id: str) -> MonitorReport:
        """The report with this id (of a monitor of this project); NotFound otherwise."""
        found = self._reports(_R.c.report_id == report_id, limit=1)
        if not found:
            raise NotFound(f"monitor report {report_id!r} not found{self._scope.shown}")
        return found[0]

    def list_reports(
        self,
        name: str,
        *,
        limit: int = 100,
        since: int | None = None,
        until: int | None = None,
    ) -> list[MonitorReport]:
        """Reports of a monitor, newest first; window ends in ``[since, until)`` when given.

        Raises:
            InvalidInput: a limit below 1.
            NotFound: no such monitor.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"report limit must be a positive number, got {limit!r}")
        self.get_monitor(name)
        where = [_M.c.name == name]
        if since is not None:
            where.append(_R.c.window_end >= since)
        if until is not None:
            where.append(_R.c.window_end < until)
        return self._reports(*where, limit=limit)

    # -- rows ------------------------------------------------------------
    def _named(self, name: str) -> sa.ColumnElement[bool]:
        return sa.and_(self._scope.owns(_M.c.project_id), _M.c.name == name)

    def _change(self, name: str, **values: Any) -> Monitor:
        with self._db.begin() as conn:
            changed = conn.execute(_M.update().where(self._named(name)).values(**values))
            if not changed.rowcount:
                raise self._missing(name)
            after = self._read(conn, name)
        assert after is not None
        return after

    def _read(self, conn: sa.Connection, name: str) -> Monitor | None:
        row = conn.execute(sa.select(_M).where(self._named(name))).first()
        return None if row is None else self._entity(row)

    def _select(self, *where: sa.ColumnElement[bool]) -> list[Monitor]:
        with self._db.connect() as conn:
            rows = conn.execute(
                sa.select(_M).where(self._scope.owns(_M.c.project_id), *where).order_by(_M.c.name)
            ).all()
        return [self._entity(r) for r in rows]

    def _entity(self, row: sa.Row[Any]) -> Monitor:
        return Monitor(
            name=row.name,
            target=row.target,
            reference=row.reference,
            schedule=row.schedule,
            window=row.run_window,
            checks=json.loads(row.checks),
            rules=json.loads(row.rules),
            notifiers=json.loads(row.notifiers),
            state=json.loads(row.state),
            paused=bool(row.paused),
            project=self._scope.name,
            created_time=row.created_time,
            updated_time=row.updated_time,
            last_run_time=row.last_run_time,
            next_run_time=row.next_run_time,
        )

    def _reports(self, *where: sa.ColumnElement[bool], limit: int) -> list[MonitorReport]:
        query = (
            sa.select(_R, _M.c.name)
            .join(_M, _M.c.monitor_id == _R.c.monitor_id)
            .where(self._scope.owns(_M.c.project_id), *where)
            .order_by(_R.c.window_end.desc(), _R.c.created_time.desc(), _R.c.report_id.desc())
            .limit(limit)
        )
        with self._db.connect() as conn:
            rows = conn.execute(query).all()
        return [
            MonitorReport(
                monitor=r.name,
                window_start=r.window_start,
                window_end=r.window_end,
                status=r.status,
                reference=r.reference,
                model_versions=json.loads(r.model_versions),
                results=json.loads(r.results),
                alerts=json.loads(r.alerts),
                error=r.error,
                report_id=r.report_id,
                created_time=r.created_time,
            )
            for r in rows
        ]

    def _missing(self, name: str) -> NotFound:
        return NotFound(f"monitor {name!r} not found{self._scope.shown}")
