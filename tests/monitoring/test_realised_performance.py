"""Realised performance: equal to scikit-learn's metrics, missing labels, windows, and bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm  # type: ignore[import-untyped]

import mloop.monitoring
from mloop.errors import InvalidInput
from mloop.monitoring.realised_performance import (
    PerformanceReport,
    performance,
    windowed_performance,
)

TOLERANCE = 1e-9


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


@pytest.mark.parametrize("seed", range(5))
def test_binary_metrics_equal_scikit_learns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300), 1)  # ties between positives and negatives
    predicted = (scores >= 0.5).astype(int)
    report = performance(truth, predicted, scores=scores)
    assert report.average == "binary" and report.positive == 1
    assert close(report.accuracy, skm.accuracy_score(truth, predicted))
    assert close(report.precision, skm.precision_score(truth, predicted))
    assert close(report.recall, skm.recall_score(truth, predicted))
    assert close(report.f1, skm.f1_score(truth, predicted))
    assert close(report.roc_auc, skm.roc_auc_score(truth, scores))
    assert close(report.log_loss, skm.log_loss(truth, scores))
    assert report.labelled == 300 and report.missing == 0


def test_a_named_positive_class_of_text_labels() -> None:
    rng = np.random.default_rng(3)
    truth = rng.choice(["churn", "stay"], 200)
    predicted = rng.choice(["churn", "stay"], 200)
    scores = rng.random(200)
    report = performance(truth, predicted, scores=scores, positive="churn")
    assert close(report.precision, skm.precision_score(truth, predicted, pos_label="churn"))
    assert close(report.recall, skm.recall_score(truth, predicted, pos_label="churn"))
    assert close(report.f1, skm.f1_score(truth, predicted, pos_label="churn"))
    assert close(report.roc_auc, skm.roc_auc_score(truth == "churn", scores))
    expected = skm.log_loss(truth == "churn", scores)
    assert close(report.log_loss, expected)


def test_labels_read_back_as_floats_are_binary() -> None:
    report = performance(pd.Series([1.0, 0.0, None, 1.0]), [1, 0, 1, 0])
    assert report.average == "binary" and report.positive == 1
    assert report.recall == 0.5 and report.labelled == 3 and report.missing == 1


@pytest.mark.parametrize("seed", range(3))
def test_multiclass_macro_metrics_equal_scikit_learns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.choice(["a", "b", "c"], 400)
    probabilities = rng.dirichlet([1.0, 1.0, 1.0], 400)
    predicted = np.array(["a", "b", "c"])[probabilities.argmax(axis=1)]
    report = performance(truth, predicted, scores=probabilities)
    assert report.average == "macro" and report.classes == ("a", "b", "c")
    assert close(report.accuracy, skm.accuracy_score(truth, predicted))
    macro = {"average": "macro", "zero_division": 0}
    assert close(report.precision, skm.precision_score(truth, predicted, **macro))
    assert close(report.recall, skm.recall_score(truth, predicted, **macro))
    assert close(report.f1, skm.f1_score(truth, predicted, **macro))
    expected_auc = skm.roc_auc_score(truth, probabilities, multi_class="ovr", average="macro")
    assert close(report.roc_auc, expected_auc)
    assert close(report.log_loss, skm.log_loss(truth, probabilities))


def test_a_class_never_predicted_counts_zero_precision_as_scikit_learn() -> None:
    truth = [0, 1, 2, 2, 1, 0]
    predicted = [0, 1, 1, 1, 1, 0]
    report = performance(truth, predicted)
    macro = {"average": "macro", "zero_division": 0}
    assert close(report.precision, skm.precision_score(truth, predicted, **macro))
    assert close(report.f1, skm.f1_score(truth, predicted, **macro))
    assert close(report.recall, 2 / 3)


def test_multiclass_scores_follow_the_given_class_order() -> None:
    truth = ["b", "a", "c", "a"]
    scores = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    in_order = performance(truth, ["b", "a", "c", "a"], scores=scores)
    swapped = performance(
        truth, ["b", "a", "c", "a"], scores=scores[:, [1, 0, 2]], classes=["b", "a", "c"]
    )
    assert in_order.roc_auc == swapped.roc_auc == 1.0
    assert close(swapped.log_loss, in_order.log_loss or 0.0)


def test_regression_metrics_equal_scikit_learns() -> None:
    rng = np.random.default_rng(5)
    truth = rng.normal(100, 20, 500)
    predicted = truth + rng.normal(0, 5, 500)
    report = performance(truth, predicted, task="regression")
    assert close(report.mae, skm.mean_absolute_error(truth, predicted))
    assert close(report.rmse, skm.root_mean_squared_error(truth, predicted))
    assert close(report.mape, skm.mean_absolute_percentage_error(truth, predicted))
    assert close(report.r2, skm.r2_score(truth, predicted))
    assert report.accuracy is None and report.average is None


def test_mape_leaves_zero_targets_out() -> None:
    report = performance([0.0, 2.0, 4.0], [1.0, 1.0, 5.0], task="regression")
    assert report.mape == pytest.approx((0.5 + 0.25) / 2)
    assert report.mae == pytest.approx(1.0)
    only_zeros = performance([0.0, 0.0], [1.0, 0.0], task="regression")
    assert only_zeros.mape is None and "mape" not in only_zeros.metrics()


def test_r2_is_unknown_when_the_targets_are_all_equal() -> None:
    report = performance([3.0, 3.0, 3.0], [3.0, 2.0, 4.0], task="regression")
    assert report.r2 is None and report.rmse == pytest.approx(math.sqrt(2 / 3))


def test_missing_labels_are_left_out_and_counted() -> None:
    truth = pd.Series([1, None, 0, float("nan"), pd.NA, 1], dtype=object)
    predicted = [1, 0, 1, 1, 0, 0]
    report = performance(truth, predicted, scores=[0.9, 0.2, 0.6, 0.7, 0.1, 0.4])
    assert report.labelled == 3 and report.missing == 3
    assert report.accuracy == pytest.approx(1 / 3)
    assert report.roc_auc == skm.roc_auc_score([1, 0, 1], [0.9, 0.6, 0.4])


def test_no_labelled_row_gives_only_the_count() -> None:
    report = performance([None, None], [1, 0])
    assert report.metrics() == {"labelled": 0.0} and report.missing == 2
    regression = performance([None], [1.0], task="regression")
    assert regression.metrics() == {"labelled": 0.0}


def test_roc_auc_needs_both_classes_among_the_labels() -> None:
    report = performance([1, 1, 1], [1, 0, 1], scores=[0.9, 0.4, 0.8])
    assert report.roc_auc is None and "roc_auc" not in report.metrics()
    assert report.log_loss == pytest.approx(skm.log_loss([1, 1, 1], [0.9, 0.4, 0.8], labels=[0, 1]))


def test_scores_that_are_not_probabilities_give_roc_auc_without_log_loss() -> None:
    margins = [2.5, -1.0, 0.3, -0.2]
    report = performance([1, 0, 1, 1], [1, 0, 1, 0], scores=margins)
    assert report.roc_auc == skm.roc_auc_score([1, 0, 1, 1], margins)
    assert report.log_loss is None


def test_metrics_have_the_flat_keys_of_alert_rules() -> None:
    report = performance([1, 0, 1], [1, 1, 1], scores=[0.8, 0.6, 0.7])
    assert list(report.metrics()) == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "labelled",
    ]
    regression = performance([1.0, 2.0], [1.5, 2.0], task="regression")
    assert list(regression.metrics()) == ["mae", "rmse", "mape", "r2", "labelled"]


def test_to_dict_is_json_ready() -> None:
    report = performance(np.array([1, 0, 1]), np.array([1, 1, 1]))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["classes"] == [0, 1] and data["positive"] == 1
    assert data["roc_auc"] is None and data["labelled"] == 3 and data["task"] == "classification"


def test_the_names_are_exported_lazily() -> None:
    # The module's import has set no package attribute named after the function.
    assert mloop.monitoring.performance is performance
    assert mloop.monitoring.PerformanceReport is PerformanceReport
    assert mloop.monitoring.windowed_performance is windowed_performance
    assert "join_labels" in dir(mloop.monitoring)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "options", "message"),
    [
        ([1], [1], {"task": "ranking"}, "task must be"),
        ([1, 0], [1], {}, "one label per prediction"),
        ([1, 0], [1, None], {}, "every row needs a prediction"),
        ("10", "10", {}, "must be a sequence"),
        ([[1, 0]], [[1, 0]], {}, "one-dimensional"),
        (["a"], ["b"], {"task": "regression"}, "must be numbers"),
        ([1.0], [float("inf")], {"task": "regression"}, "infinite"),
        ([1.0], [1.0], {"task": "regression", "scores": [0.5]}, "classification only"),
        ([1, 0], [1, 0], {"scores": [0.5]}, "one entry per prediction"),
        ([1, 0], [1, 0], {"scores": [0.5, float("nan")]}, "NaN"),
        ([1, 0], [1, 0], {"scores": ["high", "low"]}, "must be numbers"),
        ([1, 0], [1, 0], {"scores": [[0.5, 0.5], [0.1, 0.9]]}, "one score per row"),
        (["yes", "no"], ["yes", "yes"], {}, "give positive="),
        ([1, 2, 3], [1, 2, 3], {"positive": 1}, "more than two classes"),
        (["a", "b"], ["a", "b"], {"positive": "c", "classes": ["a", "b"]}, "not one of"),
        ([0, 1, 2], [0, 1, 2], {"scores": [0.1, 0.2, 0.3]}, "one column per class"),
        (["a", "b", "d"], ["a", "b", "c"], {"classes": ["a", "b", "c"]}, "'d' is a label"),
        (["a", "b"], ["a", "b"], {"positive": "a", "classes": ["a", "b", "c"]}, "more than two"),
        ([0, 1, 2], [0, 1, 2], {"scores": np.full((3, 2), 0.5)}, "give classes="),
    ],
)
def test_bad_input_is_refused(y_true: Any, y_pred: Any, options: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        performance(y_true, y_pred, **options)


def window_table() -> pd.DataFrame:
    times = pd.to_datetime(
        [
            "2026-12-05T10:05",
            "2026-12-05T10:20",
            "2026-12-05T10:40",
            "2026-12-05T10:50",
            "2026-12-05T12:10",
            "2026-12-05T12:30",
        ],
        utc=True,
    )
    return pd.DataFrame(
        {
            "time": times,
            "version": ["1", "2", "1", "2", "1", "1"],
            "prediction": [1, 0, 0, 1, 1, 1],
            "label": [1, 0, 1, None, 0, 1],
            "score": [0.9, 0.2, 0.4, 0.7, 0.8, 0.6],
        }
    )


def test_windows_per_version_hold_their_rows_metrics() -> None:
    table = window_table()
    windows = windowed_performance(table, score_column="score")
    found = [(w.start.isoformat(), w.end.hour, w.version, w.rows, w.labelled) for w in windows]
    assert found == [
        ("2026-12-05T10:00:00+00:00", 11, "1", 2, 2),
        ("2026-12-05T10:00:00+00:00", 11, "2", 2, 1),
        ("2026-12-05T12:00:00+00:00", 13, "1", 2, 2),
    ]
    first = table.iloc[[0, 2]]
    expected = performance(first["label"], first["prediction"], scores=first["score"])
    assert windows[0].report == expected
    assert windows[2].metrics()["accuracy"] == 0.5
    assert json.loads(json.dumps(windows[0].to_dict()))["end"] == "2026-12-05T11:00:00+00:00"


def test_longer_windows_and_no_versions() -> None:
    windows = windowed_performance(window_table(), window="1D", version_column=None)
    assert len(windows) == 1 and windows[0].version is None and windows[0].rows == 6
    assert windows[0].labelled == 5
    assert windows[0].end - windows[0].start == pd.Timedelta(days=1)


def test_windows_take_multiclass_scores_as_lists() -> None:
    table = window_table().assign(
        prediction=["a", "b", "c", "a", "b", "c"],
        label=["a", "b", "c", "b", "b", "a"],
        score=[[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]] * 2,
    )
    windows = windowed_performance(table, score_column="score", version_column=None, window="3h")
    assert windows[0].report.average == "macro" and windows[0].report.roc_auc is not None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"version_column": "model_version"}, "no column 'model_version'"),
        ({"window": "fortnightly"}, "not a pandas frequency"),
        ({"score_column": "label"}, "score column must hold"),
    ],
)
def test_bad_windows_are_refused(options: Any, message: str) -> None:
    table = window_table().assign(label=["x", None, "y", "x", "y", "x"])
    with pytest.raises(InvalidInput, match=message):
        windowed_performance(table, **options)


def test_times_must_be_datetimes() -> None:
    table = window_table().assign(time="2026-12-05T10:00")
    with pytest.raises(InvalidInput, match="must hold datetimes"):
        windowed_performance(table)
    with pytest.raises(InvalidInput, match="must be a pandas DataFrame"):
        windowed_performance(table.to_dict("list"))  # type: ignore[arg-type]
