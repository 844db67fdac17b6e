"""Training images, drawn without pyplot."""

from __future__ import annotations

import pandas as pd
from sklearn.linear_model import LogisticRegression

from mloop.autologging.plots import classifier_figures, importance_figure

Data = tuple[pd.DataFrame, pd.Series]


def test_a_binary_classifier_gets_three_figures(binary: Data) -> None:
    model = LogisticRegression().fit(*binary)
    assert sorted(classifier_figures(model, *binary)) == [
        "training_confusion_matrix.png",
        "training_precision_recall_curve.png",
        "training_roc_curve.png",
    ]


def test_more_classes_get_only_the_confusion_matrix(multiclass: Data) -> None:
    model = LogisticRegression().fit(*multiclass)
    (figure,) = classifier_figures(model, *multiclass).values()
    assert figure.axes[0].get_xlabel() == "Predicted label"


def test_importance_bars_put_the_largest_on_top() -> None:
    figure = importance_figure({"a": 3.0, "b": 1.0, "c": 2.0}, "split")
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == ["b", "c", "a"]
