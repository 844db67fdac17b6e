"""LightGBM autologging: ``lightgbm.train`` and ``LGBMClassifier.fit``, checked on the stored runs."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.autologging import lightgbm as lgb_autolog
from mloop.autologging import state
from mloop.entities import RunStatus
from mloop.errors import InvalidInput
from tests.autologging.conftest import runs

Data = tuple[pd.DataFrame, pd.Series]
PARAMS = {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 5, "verbose": -1}


def history(run_id: str, key: str) -> list[tuple[int, float]]:
    return [(p.step, p.value) for p in mloop.get_metric_history(run_id, key)]


def assert_history(run_id: str, key: str, expected: list[float]) -> None:
    points = history(run_id, key)
    assert [step for step, _ in points] == list(range(len(expected)))
    assert [value for _, value in points] == pytest.approx(expected)


def test_train_logs_params_metrics_importance_and_booster(home: Path, binary: Data) -> None:
    x, y = binary
    lgb_autolog.autolog()
    train = lgb.Dataset(x[:40], label=y[:40])
    valid = lgb.Dataset(x[40:], label=y[40:], reference=train)
    seen: dict[str, dict[str, list[float]]] = {}
    booster = lgb.train(
        PARAMS,
        train,
        num_boost_round=3,
        valid_sets=[valid],
        callbacks=[lgb.record_evaluation(seen)],
    )
    (run,) = runs()
    run_id = run.info.run_id
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["num_leaves"] == "4"
    assert run.data.params["num_boost_round"] == "3"
    assert "train_set" not in run.data.params
    assert_history(run_id, "valid_0-binary_logloss", seen["valid_0"]["binary_logloss"])
    for kind in ("split", "gain"):
        logged = json.loads(mloop.Client().load_text(run_id, f"feature_importance_{kind}.json"))
        expected = booster.feature_importance(importance_type=kind).tolist()
        assert logged == pytest.approx(dict(zip(booster.feature_name(), expected, strict=True)))
    loaded = mloop.models.load(f"runs:/{run_id}/model")
    np.testing.assert_allclose(loaded.predict(x), booster.predict(x))
    assert sorted(i.context for i in mloop.get_run(run_id).inputs) == ["eval", "train"]


def test_early_stopping_logs_stopped_and_best_iteration(home: Path, binary: Data) -> None:
    x, y = binary
    lgb_autolog.autolog(log_models=False)
    train = lgb.Dataset(x[:40], label=y[:40])
    valid = lgb.Dataset(x[40:], label=1 - y[40:], reference=train)
    booster = lgb.train(
        PARAMS,
        train,
        num_boost_round=50,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(2, verbose=False)],
    )
    run_id = runs()[0].info.run_id
    points = history(run_id, "valid_0-binary_logloss")
    metrics = mloop.get_run(run_id).data.metrics
    assert metrics["stopped_iteration"] == len(points) - 1  # iterations run, counted from 1
    assert metrics["best_iteration"] == booster.best_iteration
    assert points[-1][1] == pytest.approx(points[booster.best_iteration - 1][1])


def test_the_sklearn_api_logs_once_with_the_estimator(home: Path, binary: Data) -> None:
    x, y = binary
    lgb_autolog.autolog()
    model = lgb.LGBMClassifier(n_estimators=3, num_leaves=4, min_child_samples=5, verbose=-1)
    model.fit(x[:40], y[:40], eval_X=(x[40:],), eval_y=(y[40:],))
    (run,) = runs()
    run_id = run.info.run_id
    assert run.data.tags["estimator_name"] == "LGBMClassifier"
    assert run.data.params["n_estimators"] == "3"
    assert len(history(run_id, "valid_0-binary_logloss")) == 3
    loaded = mloop.models.load(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_disable_restores_train_and_fit(home: Path, binary: Data) -> None:
    train, fit = lgb.train, lgb.LGBMClassifier.__dict__["fit"]
    lgb_autolog.autolog()
    lgb_autolog.autolog(disable=True)
    assert lgb.train is train and lgb.LGBMClassifier.__dict__["fit"] is fit
    lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(*binary)
    assert runs() == []


def test_an_unknown_argument_is_refused(home: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown argument 'importance_types'"):
        lgb_autolog.autolog(importance_types=["split"])
    assert not state.is_patched("lightgbm")
