"""Estimated performance of a deployment's traffic before labels arrive (CBPE per version).

For each model version that answered in the window, a calibration is fitted
once on the monitor's reference (the version's probabilities for the
reference rows against the reference's labels, the check's ``target``
column) and kept in the monitor's state under the version's package
digest; the window's rows that version answered are then scored with its
probabilities and their performance estimated
(:class:`mloop.monitoring.cbpe.CBPE`). The metrics are those of the version
that answered the most rows; every version's estimate is in the results.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, MutableMapping
from typing import Any

import numpy as np
import pandas as pd

from mloop import models
from mloop.automation.check_runs import Metrics
from mloop.automation.traffic import Window
from mloop.context.context import Context
from mloop.data import api as data
from mloop.errors import InvalidInput
from mloop.monitoring.cbpe import CBPE
from mloop.monitoring.json_values import jsonable

Estimator = Callable[[Mapping[str, Any], Window], tuple[dict[str, Any], Metrics]]


def make_estimator(reference: str, state: MutableMapping[str, Any], context: Context) -> Estimator:
    """An estimator of a window's performance, keeping fitted calibrations in ``state``."""
    frames: dict[str, pd.DataFrame] = {}

    def reference_rows() -> pd.DataFrame:
        if "rows" not in frames:
            frames["rows"] = data.get(reference, context=context).to_pandas()
        return frames["rows"]

    def estimate(check: Mapping[str, Any], window: Window) -> tuple[dict[str, Any], Metrics]:
        fitted: MutableMapping[str, Any] = state.setdefault("cbpe", {})
        versions = np.asarray(window.row_versions, dtype=object)
        results: dict[str, Any] = {}
        best: tuple[int, Metrics] = (0, {})
        for version in window.model_versions:
            rows = window.features[versions == version]
            if rows.empty:
                continue
            model = models.load(f"models:/{version}", context=context)
            key = model.digest
            if key not in fitted:
                fitted[key] = _fit(model, reference_rows(), check).to_dict()
            cbpe = CBPE.from_dict(fitted[key])
            scores = _positive_scores(model, rows, cbpe.positive, cbpe.classes)
            estimates = cbpe.estimate(scores)
            results[version] = jsonable(estimates.to_dict())
            if len(rows) > best[0]:
                best = (len(rows), estimates.metrics())
        return {"versions": results}, best[1]

    return estimate


def _fit(model: Any, reference: pd.DataFrame, check: Mapping[str, Any]) -> CBPE:
    target = check["target"]
    if target not in reference.columns:
        raise InvalidInput(f"the reference has no label column {target!r} to calibrate on")
    labels = reference[target].to_numpy()
    features = reference.drop(columns=[target])
    positive = check.get("positive")
    classes = _classes(model, labels)
    if len(classes) != 2:
        raise InvalidInput(
            f"estimated performance needs a binary classifier; the reference's {target!r} "
            f"has {len(classes)} classes"
        )
    chosen = classes[1] if positive is None else positive
    scores = _positive_scores(model, features, chosen, classes)
    return CBPE.fit(scores, labels, positive=chosen, classes=classes)


def _classes(model: Any, labels: Any) -> list[Hashable]:
    known = getattr(getattr(model, "model", None), "classes_", None)
    if known is not None:
        return [value.item() if isinstance(value, np.generic) else value for value in known]
    return sorted({value.item() if isinstance(value, np.generic) else value for value in labels})


def _positive_scores(
    model: Any, rows: pd.DataFrame, positive: Hashable, classes: Any
) -> np.ndarray[Any, Any]:
    if not hasattr(model, "predict_proba"):
        raise InvalidInput(
            f"model {model.uri} gives no class probabilities (predict_proba): its performance "
            "cannot be estimated"
        )
    probabilities = np.asarray(model.predict_proba(rows))
    order = list(classes)
    if positive not in order:
        raise InvalidInput(f"positive class {positive!r} is not one of the model's {order}")
    column: np.ndarray[Any, Any] = probabilities[:, order.index(positive)]
    return column
