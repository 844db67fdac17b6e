"""The images autologging adds when matplotlib is installed (``mloop[plot]``).

Classifiers get ``training_confusion_matrix.png`` and, for two classes with
``predict_proba``, ``training_roc_curve.png`` and
``training_precision_recall_curve.png``; boosters a
``feature_importance_<type>.png`` beside each importance JSON. Figures are
drawn on ``matplotlib.figure.Figure`` objects, never through pyplot, so no
window opens and no global state changes.

Example:
    >>> figure = importance_figure({"a": 3.0, "b": 1.0}, "gain")
    >>> figure is None or figure.axes[0].get_title()
    'Feature importance (gain)'
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from mloop.autologging.session import Session
from mloop.models.flavors import require


def available() -> bool:
    """Whether matplotlib is installed (without importing it)."""
    return importlib.util.find_spec("matplotlib") is not None


def _figure(height: float = 4.8) -> Any:
    figure_module = require("matplotlib.figure", "plot", "matplotlib")
    return figure_module.Figure(figsize=(6.4, height))


def classifier_figures(
    estimator: Any, features: Any, y: Any, sample_weight: Any = None
) -> dict[str, Any]:
    """The training images of a fitted classifier, by artifact file name."""
    if not available():
        return {}
    metrics = require("sklearn.metrics", "sklearn", "scikit-learn")
    figures: dict[str, Any] = {}
    figure = _figure()
    metrics.ConfusionMatrixDisplay.from_estimator(
        estimator, features, y, sample_weight=sample_weight, ax=figure.subplots()
    )
    figures["training_confusion_matrix.png"] = figure
    if hasattr(estimator, "predict_proba") and len(getattr(estimator, "classes_", ())) == 2:
        for name, display in (
            ("training_roc_curve.png", metrics.RocCurveDisplay),
            ("training_precision_recall_curve.png", metrics.PrecisionRecallDisplay),
        ):
            figure = _figure()
            display.from_estimator(
                estimator, features, y, sample_weight=sample_weight, ax=figure.subplots()
            )
            figures[name] = figure
    return figures


def importance_figure(values: Mapping[str, float], kind: str) -> Any:
    """A horizontal bar chart of feature importance, largest on top (None without matplotlib)."""
    if not available():
        return None
    ordered = sorted(values.items(), key=lambda item: item[1])
    figure = _figure(4.8 + 0.1 * max(0, len(ordered) - 10))
    axes = figure.subplots()
    axes.barh([name for name, _ in ordered], [value for _, value in ordered])
    axes.set_xlabel("Importance")
    axes.set_title(f"Feature importance ({kind})")
    figure.tight_layout()
    return figure


def log_figures(session: Session, figures: Mapping[str, Any]) -> None:
    """Store each figure as an image artifact of the session's run."""
    for name, figure in figures.items():
        session.client.log_figure(session.run_id, figure, name)
