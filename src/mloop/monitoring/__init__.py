"""Monitoring: how the data and the predictions of a served model move, and who is told.

Drift statistics per column and for a whole table, data quality against a
reference, performance once labels arrive, and the notifiers alerts go
through. It sits below serving (which reads its statistics) and above the
pipelines, and works on tables: what reads a deployment's prediction log
hands it the window.

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
    from mloop.monitoring.label_join import join_labels as join_labels
    from mloop.monitoring.realised_performance import PerformanceReport as PerformanceReport
    from mloop.monitoring.realised_performance import performance as performance
    from mloop.monitoring.realised_performance import windowed_performance as windowed_performance
    from mloop.monitoring.table_drift import ColumnDrift as ColumnDrift
    from mloop.monitoring.table_drift import DriftReport as DriftReport
    from mloop.monitoring.table_drift import drift as drift

_LAZY = {
    "Alert": "mloop.monitoring.alerts",
    "AlertBook": "mloop.monitoring.alerting",
    "CBPE": "mloop.monitoring.cbpe",
    "ColumnDrift": "mloop.monitoring.table_drift",
    "DriftReport": "mloop.monitoring.table_drift",
    "PerformanceReport": "mloop.monitoring.realised_performance",
    "drift": "mloop.monitoring.table_drift",
    "join_labels": "mloop.monitoring.label_join",
    "performance": "mloop.monitoring.realised_performance",
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
