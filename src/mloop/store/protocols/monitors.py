"""The storage seam of monitors: their settings, their state between runs, and their reports.

The SQL implementation is :class:`mloop.store.sql.monitors.SqlMonitorStore`;
the contract suite in ``tests/contracts/monitor_store_contract.py`` proves it
on SQLite and PostgreSQL. Reading a schedule, running checks and sending
alerts happen above this seam (:mod:`mloop.monitoring`); the store checks
what it can hold (:mod:`mloop.store.loop_checks`) and records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mloop.entities import Monitor, MonitorReport


class MonitorStore(Protocol):
    """Monitors of one project, unique by name, and the reports of their runs.

    Contract:
    - every value is checked before anything is written: a bad name, target or
      list, or a notifier spec holding a secret written out, raises InvalidInput
      and writes nothing;
    - ``create_monitor`` stores the settings with the creation time
      (AlreadyExists for a taken name); the store sets ``created_time`` and
      ``updated_time`` and ignores the entity's;
    - ``update_monitor`` replaces the settings (target, reference, schedule,
      window, checks, rules, notifiers, paused) and leaves the state and run
      times; ``record_run`` replaces the state and run times only;
    - reports are listed newest first (by window end, then by when they were
      stored), at most ``limit``, optionally inside ``[since, until)`` on the
      window end; deleting a monitor deletes its reports;
    - reads and changes of an unknown monitor or report raise NotFound.
    """

    def create_monitor(self, monitor: Monitor) -> Monitor:
        """Store a new monitor."""

    def get_monitor(self, name: str) -> Monitor:
        """The monitor called ``name``."""

    def list_monitors(self) -> list[Monitor]:
        """Every monitor of the project, by name."""

    def due_monitors(self, now: int) -> list[Monitor]:
        """Monitors not paused whose next run is at or before ``now``, or not planned yet."""

    def update_monitor(self, monitor: Monitor) -> Monitor:
        """Replace the settings of ``monitor.name``."""

    def record_run(
        self,
        name: str,
        *,
        state: Mapping[str, Any],
        last_run_time: int,
        next_run_time: int | None,
    ) -> Monitor:
        """Keep the state a run left and when the monitor ran and runs next."""

    def delete_monitor(self, name: str) -> None:
        """Remove a monitor and its reports."""

    def add_report(self, report: MonitorReport) -> MonitorReport:
        """Store a report of ``report.monitor``; give it an id and its creation time."""

    def get_report(self, report_id: str) -> MonitorReport:
        """The report with this id."""

    def list_reports(
        self,
        name: str,
        *,
        limit: int = 100,
        since: int | None = None,
        until: int | None = None,
    ) -> list[MonitorReport]:
        """Reports of a monitor, newest first; window ends in ``[since, until)`` when given."""
