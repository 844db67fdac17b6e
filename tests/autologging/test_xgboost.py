"""XGBoost autologging: ``xgboost.train`` and ``XGBClassifier.fit``, checked on the stored runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import mloop
from mloop.autologging import state
from mloop.autologging import xgboost as xgb_autolog
from mloop.entities import RunStatus
from mloop.errors import InvalidInput, MloopWarning
from tests.autologging.conftest import runs

Data = tuple[pd.DataFrame, pd.Series]


def history(run_id: str, key: str) -> list[tuple[int, float]]:
    return [(p.step, p.value) for p in mloop.get_metric_history(run_id, key)]


def assert_history(run_id: str, key: str, expected: list[float]) -> None:
    points = history(run_id, key)
    assert [step for step, _ in points] == list(range(len(expected)))
    assert [value for _, value in points] == pytest.approx(expected)


def importance(run_id: str, kind: str) -> dict[str, float]:
    text = mloop.Client().load_text(run_id, f"feature_importance_{kind}.json")
    return dict(json.loads(text))


def test_train_logs_params_metrics_per_iteration_importance_and_booster(
    home: Path, binary: Data
) -> None:
    x, y = binary
    xgb_autolog.autolog(importance_types=["weight", "gain"])
    train, valid = xgb.DMatrix(x[:40], label=y[:40]), xgb.DMatrix(x[40:], label=y[40:])
    seen: dict[str, dict[str, list[float]]] = {}
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 2},
        train,
        num_boost_round=3,
        evals=[(train, "train"), (valid, "valid")],
        evals_result=seen,
        verbose_eval=False,
    )
    (run,) = runs()
    run_id = run.info.run_id
    assert run.info.status == RunStatus.FINISHED
    assert run.data.tags["mloop.autologging"] == "xgboost"
    assert run.data.params["objective"] == "binary:logistic"
    assert run.data.params["max_depth"] == "2"
    assert run.data.params["num_boost_round"] == "3"
    assert run.data.params["early_stopping_rounds"] == "None"
    assert "dtrain" not in run.data.params and "callbacks" not in run.data.params
    assert_history(run_id, "train-logloss", seen["train"]["logloss"])
    assert_history(run_id, "valid-logloss", seen["valid"]["logloss"])
    assert "stopped_iteration" not in run.data.metrics
    assert importance(run_id, "weight") == booster.get_score(importance_type="weight")
    assert importance(run_id, "gain") == pytest.approx(booster.get_score(importance_type="gain"))
    loaded = mloop.models.load(f"runs:/{run_id}/model")
    np.testing.assert_allclose(loaded.predict(x), booster.predict(xgb.DMatrix(x)))
    inputs = mloop.get_run(run_id).inputs
    assert sorted(i.context for i in inputs) == ["eval", "eval", "train"]


def test_early_stopping_logs_stopped_and_best_iteration(home: Path, binary: Data) -> None:
    x, y = binary
    xgb_autolog.autolog(log_models=False)
    valid = xgb.DMatrix(x[40:], label=1 - y[40:])  # the opposite labels: it gets worse at once
    booster = xgb.train(
        {"objective": "binary:logistic"},
        xgb.DMatrix(x[:40], label=y[:40]),
        num_boost_round=50,
        evals=[(valid, "valid")],
        early_stopping_rounds=2,
        verbose_eval=False,
    )
    run_id = runs()[0].info.run_id
    points = history(run_id, "valid-logloss")
    metrics = mloop.get_run(run_id).data.metrics
    assert metrics["stopped_iteration"] == len(points) - 2  # the extra point is the best's
    assert metrics["best_iteration"] == booster.best_iteration
    assert points[-1] == (len(points) - 1, pytest.approx(points[booster.best_iteration][1]))


def test_the_sklearn_api_logs_once_with_the_estimator(home: Path, binary: Data) -> None:
    x, y = binary
    xgb_autolog.autolog()
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2, early_stopping_rounds=2)
    model.fit(x[:40], y[:40], eval_set=[(x[:40], y[:40]), (x[40:], y[40:])], verbose=False)
    (run,) = runs()
    run_id = run.info.run_id
    assert run.data.tags["estimator_name"] == "XGBClassifier"
    assert run.data.params["n_estimators"] == "4"
    assert run.data.params["num_boost_round"] == "4"
    assert len(history(run_id, "validation_0-logloss")) >= 4
    assert {"best_iteration", "stopped_iteration", "validation_1-logloss"} <= set(run.data.metrics)
    assert {"feature_importance_weight.json", "feature_importance_weight.png"} <= {
        a.path for a in mloop.Client().list_artifacts(run_id)
    }
    loaded = mloop.models.load(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert type(loaded.model).__name__ == "XGBClassifier"


def test_disable_restores_train_and_fit(home: Path, binary: Data) -> None:
    train, fit = xgb.train, xgb.XGBClassifier.__dict__["fit"]
    init, inner = xgb.DMatrix.__dict__["__init__"], xgb.sklearn.train
    xgb_autolog.autolog()
    assert xgb.train is not train and xgb.sklearn.train is not inner
    xgb_autolog.autolog(disable=True)
    assert xgb.train is train and xgb.XGBClassifier.__dict__["fit"] is fit
    assert xgb.DMatrix.__dict__["__init__"] is init and xgb.sklearn.train is inner
    xgb.XGBClassifier(n_estimators=2).fit(*binary)
    assert runs() == []


def test_a_user_error_fails_the_run(home: Path, binary: Data) -> None:
    xgb_autolog.autolog()
    with pytest.raises(xgb.core.XGBoostError, match="no_such_objective"):
        xgb.train({"objective": "no_such_objective"}, xgb.DMatrix(*binary), num_boost_round=2)
    assert runs()[0].info.status == RunStatus.FAILED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"importance_types": ["weight", "size"]}, "unknown importance type"),
        ({"importance_types": "weight"}, "must be a list"),
        ({"model_format": "bin"}, "UBJSON"),
        ({"max_tuning_runs": 3}, "unknown argument 'max_tuning_runs'"),
    ],
)
def test_bad_arguments_are_refused(home: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        xgb_autolog.autolog(**kwargs)  # type: ignore[arg-type]
    assert not state.is_patched("xgboost")


def test_a_logging_failure_warns_and_the_rest_is_logged(home: Path, binary: Data) -> None:
    x, y = binary
    xgb_autolog.autolog()
    data = xgb.DMatrix(x, label=y)
    with mloop.start_run() as run:
        mloop.log_param("max_depth", "9")  # the booster's max_depth=2 cannot join it
        with pytest.warns(MloopWarning, match="could not log the params"):
            booster = xgb.train(
                {"max_depth": 2}, data, 2, evals=[(data, "train")], verbose_eval=False
            )
    assert booster.num_boosted_rounds() == 2
    stored = mloop.get_run(run.info.run_id)
    assert stored.data.params["max_depth"] == "9"
    assert "train-rmse" in stored.data.metrics
    assert mloop.models.load(f"runs:/{run.info.run_id}/model") is not None
