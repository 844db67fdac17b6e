"""Parameter searches: best results on the parent, candidates as child runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import mloop
from mloop.autologging import search
from mloop.autologging import sklearn as sk
from tests.autologging.conftest import children, runs

Data = tuple[pd.DataFrame, pd.Series]


def test_estimator_tags_name_the_class_and_its_module() -> None:
    assert search.estimator_tags(LogisticRegression()) == {
        "estimator_name": "LogisticRegression",
        "estimator_class": "sklearn.linear_model._logistic.LogisticRegression",
    }


def test_max_tuning_runs_zero_logs_no_child_runs(home: Path, binary: Data) -> None:
    sk.autolog(max_tuning_runs=0, log_models=False)
    GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(*binary)
    (parent,) = runs()
    assert children(parent.info.run_id) == []
    assert "best_C" in parent.data.params


def test_a_pipeline_searched_logs_each_candidates_step_params(home: Path, binary: Data) -> None:
    sk.autolog(max_tuning_runs=None, log_models=False)
    pipe = make_pipeline(LogisticRegression())
    grid = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(*binary)
    parent = next(run for run in runs() if run.info.parent_run_id is None)
    assert parent.data.params["best_logisticregression__C"] == str(
        grid.best_params_["logisticregression__C"]
    )
    values = sorted(
        kid.data.params["logisticregression__C"] for kid in children(parent.info.run_id)
    )
    assert values == ["0.1", "1.0"]


@pytest.mark.postgres
def test_a_search_logs_the_same_on_postgresql(
    home: Path, binary: Data, postgres_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_TRACKING_URI", postgres_store)
    sk.autolog(max_tuning_runs=2)
    grid = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=2).fit(*binary)
    parent = next(run for run in runs() if run.info.parent_run_id is None)
    assert parent.data.metrics["best_cv_score"] == pytest.approx(grid.best_score_)
    assert len(children(parent.info.run_id)) == 2
    loaded = mloop.models.load(f"runs:/{parent.info.run_id}/model")
    assert list(loaded.predict(binary[0])) == list(grid.predict(binary[0]))
