"""Metrics computed on an autologged model's predictions, logged to its run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn import metrics
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV

import mloop
from mloop.autologging import sklearn as sk
from mloop.autologging.post_training import LEDGER, variable_name
from mloop.errors import MloopWarning
from tests.autologging.conftest import runs, table

Data = tuple[pd.DataFrame, pd.Series]


def split() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    features, label = table(80)
    return features[:60], features[60:], label[:60], label[60:]


def test_metrics_on_predictions_are_logged_under_the_dataset_name(home: Path) -> None:
    x_train, x_test, y_train, y_test = split()
    sk.autolog(log_models=False)
    model = LogisticRegression().fit(x_train, y_train)
    predicted = model.predict(x_test)
    accuracy = metrics.accuracy_score(y_test, predicted)
    count = metrics.accuracy_score(y_test, predicted, normalize=False)
    proba = model.predict_proba(x_test)
    loss = metrics.log_loss(y_test, proba)
    score = model.score(x_test, y_test)

    run_id = runs()[0].info.run_id
    logged = mloop.get_run(run_id).data.metrics
    assert logged["accuracy_score_x_test"] == pytest.approx(accuracy)
    assert logged["accuracy_score-2_x_test"] == count
    assert logged["log_loss_x_test"] == pytest.approx(loss)
    assert logged["LogisticRegression_score_x_test"] == pytest.approx(score)
    info = json.loads(mloop.Client().load_text(run_id, "metric_info.json"))
    assert info["accuracy_score-2_x_test"] == (
        "accuracy_score(y_true=y_test, y_pred=predicted, normalize=False)"
    )
    assert info["LogisticRegression_score_x_test"] == "LogisticRegression.score(X=x_test, y=y_test)"


def test_another_object_under_the_same_name_gets_an_index(home: Path) -> None:
    x_train, x_test, y_train, y_test = split()
    sk.autolog(log_models=False)
    model = LinearRegression().fit(x_train, y_train)
    metrics.r2_score(y_test, model.predict(x_test))
    x_test = x_test.copy()
    metrics.mean_squared_error(y_test, model.predict(x_test))
    metrics.max_error(y_test[:5], model.predict(x_test[:5]))
    logged = set(mloop.get_run(runs()[0].info.run_id).data.metrics)
    assert {"r2_score_x_test", "mean_squared_error_x_test-2"} <= logged
    assert "max_error_unknown_dataset" in logged


def test_a_copy_of_a_prediction_or_a_model_not_autologged_logs_nothing(home: Path) -> None:
    x_train, x_test, y_train, y_test = split()
    plain = LogisticRegression().fit(x_train, y_train)
    sk.autolog(log_models=False)
    model = LogisticRegression().fit(x_train, y_train)
    metrics.accuracy_score(y_test, model.predict(x_test).copy())
    metrics.accuracy_score(y_test, plain.predict(x_test))
    assert not any(k.startswith("accuracy_score_") for k in runs()[0].data.metrics)


def test_metrics_inside_training_are_not_post_training_metrics(home: Path) -> None:
    x_train, _, y_train, _ = split()
    sk.autolog(log_models=False, max_tuning_runs=0)
    GridSearchCV(LogisticRegression(), {"C": [0.5, 1.0]}, cv=2, scoring="f1").fit(x_train, y_train)
    assert not any(k.startswith(("f1_score_", "accuracy_score_")) for k in runs()[0].data.metrics)


def test_switched_off_nothing_is_logged_after_training(home: Path) -> None:
    x_train, x_test, y_train, y_test = split()
    sk.autolog(log_models=False, log_post_training_metrics=False)
    model = LogisticRegression().fit(x_train, y_train)
    metrics.accuracy_score(y_test, model.predict(x_test))
    model.score(x_test, y_test)
    assert not any(k.endswith("x_test") for k in runs()[0].data.metrics)
    assert LEDGER.run_of(model) is None


def test_variable_name_finds_the_callers_name() -> None:
    data = [1, 2]
    assert variable_name(data) == "data"
    assert variable_name([3]) == "unknown_dataset"


def test_a_logging_failure_after_training_warns_and_returns_the_value(home: Path) -> None:
    x_train, x_test, y_train, y_test = split()
    sk.autolog(log_models=False)
    model = LogisticRegression().fit(x_train, y_train)
    other = home.parent / "other"
    mloop.set_tracking_uri(f"sqlite:///{other}.db", artifacts_uri=other)  # the run is not there
    predicted = model.predict(x_test)
    with pytest.warns(MloopWarning, match="could not log accuracy_score"):
        value = metrics.accuracy_score(y_test, predicted)
    assert value == pytest.approx((predicted == y_test).mean())
