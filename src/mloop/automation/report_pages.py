"""A stored monitor report as a self-contained HTML page, with the monitor's earlier runs.

The page is :func:`mloop.monitoring.html_report.render_html`'s: the drift of
the report's window (each column's distributions, reference against
window), its drift over the earlier reports, and tables of the run's
metrics and alerts.

Example:
    >>> from mloop.entities import MonitorReport
    >>> page = report_page(MonitorReport("m", 0, 3_600_000, "no-data", "credit@train"), [])
    >>> "no drift check ran" in page
    True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.entities import MonitorReport
from mloop.monitoring.html_report import HistoryPoint, Section, render_html
from mloop.monitoring.table_drift import ColumnDrift, DriftReport


def _when(millis: int) -> str:
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _drift(results: Mapping[str, Any]) -> DriftReport:
    found = results.get("drift")
    if not isinstance(found, Mapping) or not found.get("columns"):
        return DriftReport((), 0.0, 0.5, False)
    columns = tuple(
        ColumnDrift(
            column=item["column"],
            kind=item["kind"],
            method=item["method"],
            statistic=item["statistic"],
            p_value=item["p_value"],
            threshold=item["threshold"],
            drifted=item["drifted"],
            reference_missing=item["reference_missing"],
            current_missing=item["current_missing"],
            details=item.get("details") or {},
            note=item.get("note", ""),
        )
        for item in found["columns"]
    )
    return DriftReport(columns, found["drift_share"], found["share"], found["dataset_drifted"])


def _point(report: MonitorReport) -> HistoryPoint | None:
    found = report.results.get("drift")
    if not isinstance(found, Mapping) or "drift_share" not in found:
        return None
    statistics = {item["column"]: item["statistic"] for item in found.get("columns", [])}
    return HistoryPoint(_when(report.window_end), found["drift_share"], statistics)


def report_page(report: MonitorReport, earlier: Sequence[MonitorReport]) -> str:
    """The page of ``report``; ``earlier`` are the monitor's reports before it, any order."""
    drift = _drift(report.results)
    points = [_point(r) for r in sorted(earlier, key=lambda r: r.window_end)]
    history = [point for point in points if point is not None]
    now = _point(report)
    if history and now is not None:
        history.append(now)
    metrics = report.results.get("metrics") or {}
    sections = [
        Section(
            "Metrics of the window",
            ["metric", "value"],
            [[name, value] for name, value in sorted(metrics.items())],
        ),
        Section(
            "Alerts sent",
            ["alert", "state", "summary"],
            [[a.get("name"), a.get("state"), a.get("summary")] for a in report.alerts],
        ),
    ]
    facts: dict[str, object] = {
        "monitor": report.monitor,
        "status": report.status,
        "window": f"{_when(report.window_start)} to {_when(report.window_end)}",
        "reference": report.reference,
        "model versions": ", ".join(report.model_versions) or "-",
        "rows": report.results.get("source", "-"),
    }
    if not drift.columns:
        facts["drift"] = "no drift check ran on this window"
    if report.error:
        facts["error"] = report.error
    return render_html(
        drift,
        title=f"Monitor {report.monitor}: {_when(report.window_end)}",
        facts=facts,
        history=history,
        sections=sections,
    )
