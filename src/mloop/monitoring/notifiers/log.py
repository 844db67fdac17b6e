"""Alerts written to mloop's log: a firing alert at WARNING, a resolved one at INFO.

The logger is ``mloop.alerts`` unless another is named; where the records go
is the application's logging configuration.

Example:
    >>> LogNotifier()
    LogNotifier(logger='mloop.alerts')
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mloop.monitoring.alerts import Alert


class LogNotifier:
    """Logs one record per alert; never fails.

    Each record carries the alert as ``record.alert`` (its ``to_dict()``), for
    handlers that write structured logs.
    """

    kind = "log"
    secret_options: tuple[str, ...] = ()

    def __init__(self, logger: str = "mloop.alerts") -> None:
        self.logger = logger
        self._log = logging.getLogger(logger)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(logger={self.logger!r})"

    def send(self, alerts: Sequence[Alert]) -> None:
        """Log each of ``alerts``."""
        for alert in alerts:
            level = logging.WARNING if alert.firing else logging.INFO
            values = ", ".join(f"{k}={v:g}" for k, v in sorted(alert.values.items()))
            labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
            self._log.log(
                level,
                "alert %s %s (%s) {%s} %s%s",
                alert.state.upper(),
                alert.name,
                alert.severity,
                labels,
                alert.summary,
                f" [{values}]" if values else "",
                extra={"alert": alert.to_dict()},
            )
