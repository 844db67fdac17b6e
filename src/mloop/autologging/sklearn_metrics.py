"""The training metrics scikit-learn autologging logs, under MLflow's names.

Classifiers get ``training_precision_score``, ``training_recall_score``,
``training_f1_score`` and ``training_accuracy_score`` (weighted averages for
more than two classes) and, with ``predict_proba``, ``training_log_loss`` and
``training_roc_auc``; regressors ``training_mean_squared_error``,
``training_root_mean_squared_error``, ``training_mean_absolute_error`` and
``training_r2_score``; any estimator with a ``score`` method
``training_score``.

Example:
    >>> from sklearn.linear_model import LinearRegression
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0.0, 2.0, 4.0, 6.0]
    >>> metrics, failures = training_metrics(LinearRegression().fit(X, y), X, y)
    >>> for name in sorted(metrics):
    ...     print(name)
    training_mean_absolute_error
    training_mean_squared_error
    training_r2_score
    training_root_mean_squared_error
    training_score
    >>> failures
    []
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from mloop.models.flavors import require

PREFIX = "training_"

Metric = tuple[str, Callable[[], float]]


def training_metrics(
    estimator: Any, features: Any, y: Any, sample_weight: Any = None, pos_label: Any = None
) -> tuple[dict[str, float], list[str]]:
    """The metrics of a fitted estimator on its training data, and those that could not be had.

    Each metric is computed on its own: one that fails (string labels with no
    ``pos_label``, a single class ...) is named in the second list with why.
    """
    base = require("sklearn.base", "sklearn", "scikit-learn")

    metrics: list[Metric] = []
    if y is not None and base.is_classifier(estimator):
        metrics += _classifier(estimator, features, y, sample_weight, pos_label)
    elif y is not None and base.is_regressor(estimator):
        metrics += _regressor(estimator, features, y, sample_weight)
    if hasattr(estimator, "score"):
        metrics.append((PREFIX + "score", lambda: _score(estimator, features, y, sample_weight)))
    values: dict[str, float] = {}
    failures: list[str] = []
    for name, compute in metrics:
        try:
            value = float(compute())
        except Exception as err:  # one metric that cannot be had must not cost the others
            failures.append(f"{name}: {err}")
            continue
        if not math.isnan(value):
            values[name] = value
    return values, failures


def is_classifier(estimator: Any) -> bool:
    """Whether scikit-learn takes ``estimator`` for a classifier."""
    return bool(require("sklearn.base", "sklearn", "scikit-learn").is_classifier(estimator))


def _classifier(estimator: Any, features: Any, y: Any, weight: Any, pos_label: Any) -> list[Metric]:
    import numpy as np

    m = require("sklearn.metrics", "sklearn", "scikit-learn")

    average = "weighted" if len(np.unique(np.asarray(y))) > 2 else "binary"
    labels = {"pos_label": pos_label} if pos_label is not None and average == "binary" else {}
    predicted: list[Any] = []

    def y_pred() -> Any:
        if not predicted:  # predicted once, on first use
            predicted.append(estimator.predict(features))
        return predicted[0]

    def averaged(function: Callable[..., float]) -> Callable[[], float]:
        return lambda: function(y, y_pred(), average=average, sample_weight=weight, **labels)

    found: list[Metric] = [
        (PREFIX + "precision_score", averaged(m.precision_score)),
        (PREFIX + "recall_score", averaged(m.recall_score)),
        (PREFIX + "f1_score", averaged(m.f1_score)),
        (PREFIX + "accuracy_score", lambda: m.accuracy_score(y, y_pred(), sample_weight=weight)),
    ]
    if hasattr(estimator, "predict_proba"):
        proba: list[Any] = []

        def y_proba() -> Any:
            if not proba:
                proba.append(estimator.predict_proba(features))
            return proba[0]

        def roc_auc() -> float:
            scores = y_proba()
            scores = scores[:, 1] if scores.shape[1] == 2 else scores
            return float(
                m.roc_auc_score(
                    y, scores, average="weighted", sample_weight=weight, multi_class="ovo"
                )
            )

        found += [
            (PREFIX + "log_loss", lambda: m.log_loss(y, y_proba(), sample_weight=weight)),
            (PREFIX + "roc_auc", roc_auc),
        ]
    return found


def _regressor(estimator: Any, features: Any, y: Any, weight: Any) -> list[Metric]:
    m = require("sklearn.metrics", "sklearn", "scikit-learn")
    predicted: list[Any] = []

    def y_pred() -> Any:
        if not predicted:
            predicted.append(estimator.predict(features))
        return predicted[0]

    def mse() -> float:
        return float(m.mean_squared_error(y, y_pred(), sample_weight=weight))

    return [
        (PREFIX + "mean_squared_error", mse),
        (PREFIX + "root_mean_squared_error", lambda: math.sqrt(mse())),
        (
            PREFIX + "mean_absolute_error",
            lambda: m.mean_absolute_error(y, y_pred(), sample_weight=weight),
        ),
        (PREFIX + "r2_score", lambda: m.r2_score(y, y_pred(), sample_weight=weight)),
    ]


def _score(estimator: Any, features: Any, y: Any, weight: Any) -> float:
    # score(X, y=None, sample_weight=None) in most estimators; some take fewer arguments.
    accepted = inspect.signature(estimator.score).parameters
    kwargs = {"sample_weight": weight} if weight is not None and "sample_weight" in accepted else {}
    if "y" in accepted or "Y" in accepted or len(accepted) > 1:
        return float(estimator.score(features, y, **kwargs))
    return float(estimator.score(features, **kwargs))
