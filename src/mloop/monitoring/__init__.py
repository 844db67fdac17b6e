"""Monitoring: how the data and the predictions of a served model move, and who is told.

Drift statistics per column and for a whole table, data quality against a
reference, performance once labels arrive, the alert rules users write on
the resulting metrics, and the notifiers alerts go through. It sits below
serving (which reads its statistics) and above the pipelines, and works on
tables: what reads a deployment's prediction log hands it the window.

Example:
    >>> import mloop.monitoring
    >>> mloop.monitoring.drift.__name__
    'drift'
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from mloop.monitoring.alerting import AlertBook as AlertBook
    from mloop.monitoring.alerts import Alert as Alert
    from mloop.monitoring.cbpe import CBPE as CBPE
    from mloop.monitoring.html_report import HistoryPoint as HistoryPoint
    from mloop.monitoring.html_report import Section as Section
    from mloop.monitoring.html_report import render_html as render_html
    from mloop.monitoring.label_join import join_labels as join_labels
    from mloop.monitoring.profiles import TableProfile as TableProfile
    from mloop.monitoring.profiles import profile as profile
    from mloop.monitoring.quality import QualityReport as QualityReport
    from mloop.monitoring.quality import data_quality as data_quality
    from mloop.monitoring.quality_baseline import QualityBaseline as QualityBaseline
    from mloop.monitoring.realised_performance import PerformanceReport as PerformanceReport
    from mloop.monitoring.realised_performance import performance as performance
    from mloop.monitoring.realised_performance import windowed_performance as windowed_performance
    from mloop.monitoring.reference_profiles import reference_profile as reference_profile
    from mloop.monitoring.rules import AlertRule as AlertRule
    from mloop.monitoring.rules import RuleResult as RuleResult
    from mloop.monitoring.rules import RuleTracker as RuleTracker
    from mloop.monitoring.rules import rule_alerts as rule_alerts
    from mloop.monitoring.table_drift import ColumnDrift as ColumnDrift
    from mloop.monitoring.table_drift import DriftReport as DriftReport
    from mloop.monitoring.table_drift import drift as drift

_LAZY = {
    "Alert": "mloop.monitoring.alerts",
    "AlertBook": "mloop.monitoring.alerting",
    "AlertRule": "mloop.monitoring.rules",
    "CBPE": "mloop.monitoring.cbpe",
    "ColumnDrift": "mloop.monitoring.table_drift",
    "data_quality": "mloop.monitoring.quality",
    "drift": "mloop.monitoring.table_drift",
    "DriftReport": "mloop.monitoring.table_drift",
    "HistoryPoint": "mloop.monitoring.html_report",
    "join_labels": "mloop.monitoring.label_join",
    "performance": "mloop.monitoring.realised_performance",
    "PerformanceReport": "mloop.monitoring.realised_performance",
    "profile": "mloop.monitoring.profiles",
    "QualityBaseline": "mloop.monitoring.quality_baseline",
    "QualityReport": "mloop.monitoring.quality",
    "reference_profile": "mloop.monitoring.reference_profiles",
    "render_html": "mloop.monitoring.html_report",
    "rule_alerts": "mloop.monitoring.rules",
    "RuleResult": "mloop.monitoring.rules",
    "RuleTracker": "mloop.monitoring.rules",
    "Section": "mloop.monitoring.html_report",
    "TableProfile": "mloop.monitoring.profiles",
    "windowed_performance": "mloop.monitoring.realised_performance",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> object:
    # First use of a name imports its module (pandas, scipy), then keeps it.
    if name not in _LAZY:
        raise AttributeError(f"module 'mloop.monitoring' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
