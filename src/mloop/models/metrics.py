"""The numbers an evaluation reports: standard metrics, per-group metrics and fairness gaps.

Metrics come from scikit-learn; fairness gaps follow their usual
definitions: the demographic-parity difference is the spread (max - min) of
the rate of positive predictions across groups, the equalized-odds
difference the larger of the spreads of true- and false-positive rates. For
more than two classes each class is taken as the positive one in turn and
the largest gap is reported.

Example:
    >>> import numpy as np
    >>> m = classification_metrics(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), None, [0, 1])
    >>> (m["accuracy"], m["recall"])
    (0.75, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mloop.models.flavors import require


def _sk() -> Any:
    return require("sklearn.metrics", "sklearn", "scikit-learn")


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, labels: Sequence[Any]
) -> dict[str, float]:
    """Accuracy, precision, recall, F1; with probabilities ROC AUC, log loss and Brier.

    Precision, recall and F1 are macro averages for more than two classes; the
    Brier score is for two classes only. Undefined values are NaN.
    """
    sk = _sk()
    labels = list(labels)
    binary = len(labels) == 2
    average = "binary" if binary else "macro"
    options: dict[str, Any] = {"average": average, "zero_division": 0, "labels": labels}
    if binary:
        options["pos_label"] = labels[1]
        del options["labels"]
    out = {
        "accuracy": float(sk.accuracy_score(y_true, y_pred)),
        "precision": float(sk.precision_score(y_true, y_pred, **options)),
        "recall": float(sk.recall_score(y_true, y_pred, **options)),
        "f1": float(sk.f1_score(y_true, y_pred, **options)),
    }
    if proba is None or proba.ndim != 2 or proba.shape[1] != len(labels):
        return out
    present = set(np.unique(y_true).tolist())
    if len(present) < 2:
        out.update(roc_auc=math.nan, log_loss=math.nan)
    elif binary:
        positive = (y_true == labels[1]).astype(int)
        out["roc_auc"] = float(sk.roc_auc_score(positive, proba[:, 1]))
        out["log_loss"] = float(sk.log_loss(y_true, proba, labels=labels))
    else:
        out["log_loss"] = float(sk.log_loss(y_true, proba, labels=labels))
        out["roc_auc"] = (
            float(sk.roc_auc_score(y_true, proba, multi_class="ovr", labels=labels))
            if present == set(labels)
            else math.nan
        )
    if binary:
        out["brier"] = float(sk.brier_score_loss((y_true == labels[1]).astype(int), proba[:, 1]))
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, MSE, RMSE and R² (NaN with fewer than two rows)."""
    sk = _sk()
    mse = float(sk.mean_squared_error(y_true, y_pred))
    r2 = float(sk.r2_score(y_true, y_pred)) if len(y_true) >= 2 else math.nan
    return {
        "mae": float(sk.mean_absolute_error(y_true, y_pred)),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": r2,
    }


def confusion(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[Any]) -> list[list[int]]:
    """The confusion matrix: rows are true labels, columns predicted, both in ``labels`` order."""
    matrix = _sk().confusion_matrix(y_true, y_pred, labels=list(labels))
    return [[int(v) for v in row] for row in matrix]


def group_keys(column: Any, max_groups: int = 10) -> tuple[np.ndarray, list[str]]:
    """Group labels for a slice column: its values, or quartile bins for a many-valued number."""
    import pandas as pd

    series = pd.Series(column).reset_index(drop=True)
    if series.dtype.kind in "if" and series.nunique() > max_groups:
        binned = pd.qcut(series, q=4, duplicates="drop")
        keys = binned.astype(str).to_numpy()
    else:
        keys = series.astype(str).to_numpy()
    return keys, sorted(set(keys.tolist()))


def _rate(mask: np.ndarray, condition: np.ndarray) -> float:
    chosen = condition.sum()
    return float((mask & condition).sum() / chosen) if chosen else math.nan


def _spread(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) - min(finite) if len(finite) >= 2 else 0.0


def fairness(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, labels: Sequence[Any]
) -> dict[str, Any]:
    """Per-group selection and error rates, and the demographic-parity and equalized-odds gaps."""
    names = sorted(set(groups.tolist()))
    positives = [labels[1]] if len(labels) == 2 else list(labels)
    dp = eo = 0.0
    per_group: dict[str, dict[str, float]] = {}
    for positive in positives:
        predicted = y_pred == positive
        actual = y_true == positive
        selection, tpr, fpr = [], [], []
        for name in names:
            member = groups == name
            selection.append(_rate(predicted, member))
            tpr.append(_rate(predicted, member & actual))
            fpr.append(_rate(predicted, member & ~actual))
            if len(positives) == 1:
                per_group[name] = {
                    "count": int(member.sum()),
                    "selection_rate": selection[-1],
                    "tpr": tpr[-1],
                    "fpr": fpr[-1],
                }
        dp = max(dp, _spread(selection))
        eo = max(eo, _spread(tpr), _spread(fpr))
    if len(positives) > 1:
        per_group = {name: {"count": int((groups == name).sum())} for name in names}
    return {"dp_diff": dp, "eo_diff": eo, "groups": per_group}


def regression_fairness(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray
) -> dict[str, Any]:
    """Per-group mean absolute error and the spread of it across groups (``mae_diff``)."""
    per_group = {}
    for name in sorted(set(groups.tolist())):
        member = groups == name
        per_group[name] = {
            "count": int(member.sum()),
            "mae": float(np.abs(y_true[member] - y_pred[member]).mean()),
        }
    return {"mae_diff": _spread([g["mae"] for g in per_group.values()]), "groups": per_group}
