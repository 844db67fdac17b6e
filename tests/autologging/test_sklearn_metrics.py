"""Training metrics under MLflow's names."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn import metrics as m
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVC

from mloop.autologging.sklearn_metrics import training_metrics

Data = tuple[pd.DataFrame, pd.Series]


def test_a_classifier_without_probabilities_has_no_log_loss(binary: Data) -> None:
    x, y = binary
    values, failures = training_metrics(SVC().fit(x, y), x, y)
    assert set(values) == {
        "training_precision_score",
        "training_recall_score",
        "training_f1_score",
        "training_accuracy_score",
        "training_score",
    }
    assert failures == []


def test_sample_weights_weigh_the_metrics(binary: Data) -> None:
    x, y = binary
    weight = [3.0 if label else 1.0 for label in y]
    model = LogisticRegression().fit(x, y, sample_weight=weight)
    values, _ = training_metrics(model, x, y, sample_weight=weight)
    expected = m.accuracy_score(y, model.predict(x), sample_weight=weight)
    assert values["training_accuracy_score"] == pytest.approx(expected)
    assert values["training_score"] == pytest.approx(expected)


def test_a_regressor_root_mean_squared_error_is_the_root_of_its_mse(binary: Data) -> None:
    x, _ = binary
    y = x.a * 3
    values, _ = training_metrics(Ridge().fit(x, y), x, y)
    assert values["training_root_mean_squared_error"] ** 2 == pytest.approx(
        values["training_mean_squared_error"]
    )


def test_a_metric_that_cannot_be_had_is_named_with_why(binary: Data) -> None:
    x, y = binary
    labels = y.map({0: "no", 1: "yes"})
    values, failures = training_metrics(LogisticRegression().fit(x, labels), x, labels)
    assert "training_accuracy_score" in values and "training_f1_score" not in values
    assert any(f.startswith("training_f1_score: ") and "pos_label" in f for f in failures)
