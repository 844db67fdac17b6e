"""Running a monitor's checks on one window: results to store, metrics for the rules.

Each check adds its figures to ``results`` (JSON-ready, kept in the report)
and its metrics to one flat mapping the alert rules read
(:mod:`mloop.automation.monitor_checks` lists them). A check that cannot
say anything about the window (performance without labels) gives only what
it can; a rule reading a metric that is absent sees no data.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from mloop.automation.monitor_checks import split_metric
from mloop.automation.traffic import Window
from mloop.data.expectations import ExpectationSuite
from mloop.errors import InvalidInput
from mloop.monitoring.cbpe_estimates import ESTIMATED
from mloop.monitoring.json_values import jsonable
from mloop.monitoring.label_join import join_labels
from mloop.monitoring.profiles import TableProfile
from mloop.monitoring.quality import data_quality
from mloop.monitoring.quality_baseline import QualityBaseline
from mloop.monitoring.realised_performance import performance
from mloop.monitoring.table_drift import METHODS, ColumnDrift, drift

Metrics = dict[str, float]


@dataclasses.dataclass
class CheckInputs:
    """What the checks of one run read besides the window.

    ``estimator`` gives the estimated performance of the window's rows a
    version answered (``None`` when there is nothing to estimate);
    ``labels`` reads a labels table (a dataset version) by its reference.
    """

    reference: TableProfile
    baseline: QualityBaseline | None
    wanted: Sequence[str]
    estimator: Callable[[Mapping[str, Any], Window], tuple[dict[str, Any], Metrics]] | None = None
    labels: Callable[[str], pd.DataFrame] | None = None


def run_checks(
    checks: Sequence[Mapping[str, Any]], window: Window, inputs: CheckInputs
) -> tuple[dict[str, Any], Metrics]:
    """Each check's results, and the metrics of them all."""
    results: dict[str, Any] = {}
    metrics: Metrics = {"rows": float(window.rows)}
    for check in checks:
        kind = check["kind"]
        if kind == "drift":
            results[kind], found = _drift(check, window, inputs)
        elif kind == "quality":
            results[kind], found = _quality(check, window, inputs)
        elif kind == "performance":
            labels = None
            if "labels" in check and inputs.labels is not None:
                labels = inputs.labels(check["labels"])
            results[kind], found = _performance(check, window, labels)
        else:
            if inputs.estimator is None:
                raise InvalidInput("estimated performance needs a deployment's traffic")
            results[kind], found = inputs.estimator(check, window)
        metrics.update(found)
    judged = estimate_against_realised(metrics)
    if judged:
        results["estimate_against_realised"] = judged
    return results, {k: v for k, v in metrics.items() if _finite(v)}


def estimate_against_realised(metrics: Mapping[str, float]) -> dict[str, Any]:
    """Each estimate (CBPE) beside the realised metric the labels of the window give.

    Example:
        >>> judged = estimate_against_realised({"accuracy": 0.8, "estimated_accuracy": 0.82,
        ...     "estimated_accuracy_lower": 0.75, "estimated_accuracy_upper": 0.89})
        >>> judged["accuracy"]["realised"], judged["accuracy"]["inside"]
        (0.8, True)
    """
    judged = {}
    for name in ESTIMATED:
        estimate, realised = metrics.get(f"estimated_{name}"), metrics.get(name)
        if estimate is None or realised is None:
            continue
        lower, upper = metrics[f"estimated_{name}_lower"], metrics[f"estimated_{name}_upper"]
        judged[name] = {
            "estimated": estimate,
            "lower": lower,
            "upper": upper,
            "realised": realised,
            "inside": bool(lower <= realised <= upper),
        }
    return judged


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _drift(
    check: Mapping[str, Any], window: Window, inputs: CheckInputs
) -> tuple[dict[str, Any], Metrics]:
    reference, features = inputs.reference, window.answered
    if features.empty:
        return {"note": "no answered requests"}, {}
    columns = check.get("columns") or [
        name for name in reference.columns if name in features.columns
    ]
    absent = [name for name in columns if name not in features.columns]
    if absent:
        raise InvalidInput(f"the window has no column(s) {absent} to compare for drift")
    report = drift(
        reference,
        features,
        columns,
        check.get("method", "auto"),
        check.get("threshold"),
        share=check.get("share", 0.5),
    )
    metrics: Metrics = {
        "drift_share": report.drift_share,
        "drifted_columns": float(len(report.drifted_columns)),
    }
    for result in report.columns:
        _column_metrics(metrics, result)
    for name in inputs.wanted:  # a method's statistic a rule reads: ks(age), psi(income)
        method, column = split_metric(name)
        if method in METHODS and column in features.columns and column in reference.columns:
            one = drift(reference, features, [column], method).columns[0]
            if one.statistic is not None:
                metrics[name] = one.statistic
    results: dict[str, Any] = {
        "drift_share": report.drift_share,
        "share": report.share,
        "dataset_drifted": report.dataset_drifted,
        "columns": [_column_result(result) for result in report.columns],
    }
    target = check.get("prediction")
    if target is not None and window.log is not None:
        results["prediction"], metrics_of_outputs = _prediction_drift(target, window, reference)
        metrics.update(metrics_of_outputs)
    return results, metrics


def _column_metrics(metrics: Metrics, result: ColumnDrift) -> None:
    if result.statistic is None:
        return
    name = str(result.column)
    metrics[f"drift({name})"] = result.statistic
    metrics[f"{result.method}({name})"] = result.statistic
    if result.p_value is not None:
        metrics[f"p_value({name})"] = result.p_value


def _column_result(result: ColumnDrift) -> dict[str, Any]:
    return {
        "column": str(result.column),
        "kind": result.kind,
        "method": result.method,
        "statistic": result.statistic,
        "p_value": result.p_value,
        "threshold": result.threshold,
        "drifted": result.drifted,
        "reference_missing": result.reference_missing,
        "current_missing": result.current_missing,
        "details": jsonable(dict(result.details)),
        "note": result.note,
    }


def _prediction_drift(
    target: str, window: Window, reference: TableProfile
) -> tuple[dict[str, Any], Metrics]:
    if target not in reference.columns:
        raise InvalidInput(f"the reference has no column {target!r} to compare predictions with")
    assert window.log is not None
    answered = window.log[window.log["status"] == 200]
    if answered.empty:
        return {"note": "no answered requests"}, {}
    # The outputs come back from JSON as Python values: numbers read as numbers again.
    predicted = pd.Series(join_labels(answered)["prediction"].tolist()).infer_objects()
    result = drift(reference, pd.DataFrame({target: predicted}), [target]).columns[0]
    metrics: Metrics = {}
    if result.statistic is not None:
        metrics["prediction_drift"] = result.statistic
    return _column_result(result), metrics


def _quality(
    check: Mapping[str, Any], window: Window, inputs: CheckInputs
) -> tuple[dict[str, Any], Metrics]:
    if inputs.baseline is None:
        raise InvalidInput("the quality check has no baseline: create the monitor again")
    suite = check.get("suite")
    report = data_quality(
        window.features,
        inputs.baseline,
        suite=None if suite is None else ExpectationSuite.from_dict(suite),
        expected_rows=check.get("expected_rows"),
        **{
            option: check[option]
            for option in ("missing_tolerance", "volume_tolerance")
            if option in check
        },
    )
    return jsonable(report.to_dict()), report.metrics()


def _performance(
    check: Mapping[str, Any], window: Window, labels: pd.DataFrame | None
) -> tuple[dict[str, Any], Metrics]:
    if window.log is None or window.log.empty:
        return {"labelled": 0, "note": "no traffic with labels"}, {"labelled": 0.0}
    answered = window.log[window.log["status"] == 200]
    rows = join_labels(answered, labels, label_column=check.get("label_column", "label"))
    labelled = rows[rows["label"].map(lambda value: value is not None)]
    if labelled.empty:
        return {"labelled": 0, "note": "no labels yet"}, {"labelled": 0.0}
    task = check.get("task", "classification")
    overall = performance(
        labelled["label"].to_numpy(),
        labelled["prediction"].to_numpy(),
        task=task,
        positive=check.get("positive"),
    )
    versions = {
        f"{model}/{version}": performance(
            group["label"].to_numpy(),
            group["prediction"].to_numpy(),
            task=task,
            positive=check.get("positive"),
        ).to_dict()
        for (model, version), group in labelled.groupby(["model", "version"], sort=True)
    }
    return {**jsonable(overall.to_dict()), "versions": jsonable(versions)}, overall.metrics()
