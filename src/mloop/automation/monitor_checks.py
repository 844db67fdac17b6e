"""The checks a monitor runs on a window, the metrics each gives, and their options.

A monitor's ``checks`` is a list of mappings, each with a ``kind``:

- ``drift``: options ``columns``, ``method``, ``threshold``, ``share`` and
  ``prediction`` (a reference column to compare the model's outputs with);
  metrics ``drift_share``, ``drifted_columns``, ``drift(COL)``,
  ``p_value(COL)``, ``ks(COL)``, ``psi(COL)``..., ``prediction_drift``.
- ``quality``: options ``expected_rows``, ``missing_tolerance``,
  ``volume_tolerance``, ``suite`` (an expectation suite's YAML file, kept
  with the monitor); metrics ``rows``, ``missing(COL)``,
  ``out_of_range(COL)``, ``unseen(COL)``, ``type_changed(COL)``,
  ``missing_columns``, ``new_columns``, ``failed_expectations``.
- ``performance``: options ``task`` (``classification`` or ``regression``),
  ``positive``, ``labels`` (a dataset version of ``request_id`` and
  ``label_column``, ``label`` by default, over the server's feedback);
  metrics ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``,
  ``log_loss``, ``mae``, ``rmse``, ``mape``, ``r2``, ``labelled``.
- ``estimated_performance``: options ``target`` (the reference's label
  column) and ``positive``; metrics ``estimated_accuracy``,
  ``estimated_roc_auc``... with their ``_lower`` and ``_upper`` bounds.

``ks(COL)``, ``chi2(COL)``, ``z(COL)``, ``psi(COL)``, ``jensenshannon(COL)`` and
``wasserstein(COL)`` are that method's statistic on the column, computed
when a rule reads it; ``drift(COL)`` is the statistic of the method drift
chose. Rules may also read ``champion.NAME``: the metrics recorded on the
model version the deployment's primary names.

Example:
    >>> checks = parse_checks([{"kind": "drift", "share": 0.3}, {"kind": "quality"}])
    >>> [c["kind"] for c in checks]
    ['drift', 'quality']
    >>> known_metric("psi(income)", checks, ["income", "age"])
    True
    >>> known_metric("accuracy", checks, ["income"])
    False
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from mloop.errors import InvalidInput
from mloop.monitoring.cbpe_estimates import ESTIMATED
from mloop.monitoring.realised_performance import METRICS as PERFORMANCE_METRICS
from mloop.monitoring.table_drift import METHODS, check_threshold

KINDS: Mapping[str, frozenset[str]] = {
    "drift": frozenset({"columns", "method", "threshold", "share", "prediction"}),
    "quality": frozenset({"expected_rows", "missing_tolerance", "volume_tolerance", "suite"}),
    "performance": frozenset({"task", "positive", "labels", "label_column"}),
    "estimated_performance": frozenset({"target", "positive"}),
}
"""Each check kind and the options it takes."""

PLAIN_METRICS: Mapping[str, frozenset[str]] = {
    "drift": frozenset({"drift_share", "drifted_columns", "prediction_drift"}),
    "quality": frozenset({"rows", "missing_columns", "new_columns", "failed_expectations"}),
    "performance": frozenset({*PERFORMANCE_METRICS, "labelled"}),
    "estimated_performance": frozenset(
        f"estimated_{metric}{bound}" for metric in ESTIMATED for bound in ("", "_lower", "_upper")
    ),
}
"""The metrics without a column each check kind gives."""

COLUMN_METRICS: Mapping[str, frozenset[str]] = {
    "drift": frozenset({"drift", "p_value", *METHODS}),
    "quality": frozenset({"missing", "out_of_range", "unseen", "type_changed"}),
}
"""The per-column metrics (``NAME(COLUMN)``) each check kind gives."""

ALWAYS = frozenset({"rows"})
"""Metrics every run gives, whatever its checks."""

_COLUMN_METRIC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$")


def parse_checks(items: Any) -> list[dict[str, Any]]:
    """Check a monitor's checks: known kinds, known options of the right types.

    Raises:
        InvalidInput: not a list of mappings, an unknown kind or option, a
            kind twice, an option of the wrong type.
    """
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)) or not items:
        raise InvalidInput("checks must be a non-empty list such as [{'kind': 'drift'}]")
    checks, seen = [], set()
    for given in items:
        item = {"kind": given} if isinstance(given, str) else given
        if not isinstance(item, Mapping) or "kind" not in item:
            raise InvalidInput(f"each check must be a mapping with a 'kind', got {item!r}")
        kind = item["kind"]
        if kind not in KINDS:
            raise InvalidInput(f"unknown check kind {kind!r}; use one of {', '.join(KINDS)}")
        if kind in seen:
            raise InvalidInput(f"check {kind!r} is given twice; give each kind once")
        seen.add(kind)
        unknown = sorted(set(item) - KINDS[kind] - {"kind"})
        if unknown:
            raise InvalidInput(
                f"check {kind!r} has no option {unknown[0]!r}; "
                f"its options are {', '.join(sorted(KINDS[kind])) or 'none'}"
            )
        checks.append(_checked_options(kind, dict(item)))
    return checks


def _checked_options(kind: str, check: dict[str, Any]) -> dict[str, Any]:
    def fail(option: str, wanted: str) -> None:
        raise InvalidInput(f"check {kind!r}: {option} must be {wanted}, got {check[option]!r}")

    columns = check.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns)
    ):
        fail("columns", "a non-empty list of column names")
    if "method" in check and check["method"] not in ("auto", *METHODS):
        fail("method", f"'auto' or one of {', '.join(METHODS)}")
    for option in ("threshold", "share", "missing_tolerance", "volume_tolerance"):
        value = check.get(option)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            fail(option, "a number")
    share = check.get("share")
    if share is not None and not 0 < share <= 1:
        fail("share", "in (0, 1]")
    method, threshold = check.get("method", "auto"), check.get("threshold")
    if threshold is not None and method != "auto":
        check_threshold("every column", method, threshold)
    elif threshold is not None and not 0 < threshold < float("inf"):
        fail("threshold", "a positive number")
    expected = check.get("expected_rows")
    if expected is not None and (
        isinstance(expected, bool) or not isinstance(expected, int) or expected < 1
    ):
        fail("expected_rows", "a positive whole number")
    if "task" in check and check["task"] not in ("classification", "regression"):
        fail("task", "'classification' or 'regression'")
    for option in ("prediction", "target", "labels", "label_column"):
        if option in check and (not isinstance(check[option], str) or not check[option]):
            fail(option, "a column name")
    suite = check.get("suite")
    if suite is not None and not isinstance(suite, (str, Mapping)):
        fail("suite", "the path of an expectation suite's YAML file, or the suite")
    if kind == "estimated_performance" and "target" not in check:
        raise InvalidInput(
            "check 'estimated_performance' needs 'target': the reference's column of labels "
            "its calibration is fitted on"
        )
    return check


def split_metric(name: str) -> tuple[str, str | None]:
    """``psi(income)`` as ``("psi", "income")``; ``drift_share`` as ``("drift_share", None)``.

    A quoted column (``missing("annual income")``) is given without its quotes.
    """
    found = _COLUMN_METRIC.match(name)
    if not found:
        return name, None
    column = found.group(2).strip()
    if len(column) >= 2 and column[0] == column[-1] and column[0] in "\"'":
        column = column[1:-1]
    return found.group(1), column


def known_metric(
    name: str, checks: Sequence[Mapping[str, Any]], columns: Sequence[Hashable]
) -> bool:
    """Whether some check of ``checks`` gives the metric ``name`` (``champion.X`` always may)."""
    if name.startswith("champion.") or name in ALWAYS:
        return True
    kinds = [check["kind"] for check in checks]
    function, column = split_metric(name)
    if column is None:
        return any(name in PLAIN_METRICS.get(kind, ()) for kind in kinds)
    if column not in {str(c) for c in columns}:
        return False
    return any(function in COLUMN_METRICS.get(kind, ()) for kind in kinds)


def metric_help(checks: Sequence[Mapping[str, Any]]) -> str:
    """The metrics the checks give, for an error message."""
    names: list[str] = sorted(ALWAYS)
    for check in checks:
        names += sorted(PLAIN_METRICS.get(check["kind"], ()))
        names += [f"{name}(COLUMN)" for name in sorted(COLUMN_METRICS.get(check["kind"], ()))]
    return ", ".join(dict.fromkeys(names)) + ", champion.NAME"
