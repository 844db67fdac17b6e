"""scikit-learn autologging, checked on the stored runs."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as m
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import mloop
from mloop.autologging import sklearn as sk
from mloop.autologging import state
from mloop.entities import RunStatus
from mloop.errors import InvalidInput, MloopWarning
from tests.autologging.conftest import children, runs

Data = tuple[pd.DataFrame, pd.Series]


def artifacts(run_id: str, path: str | None = None) -> set[str]:
    return {a.path for a in mloop.Client().list_artifacts(run_id, path)}


def test_autologging_is_off_by_default(home: Path, binary: Data) -> None:
    LogisticRegression().fit(*binary)
    assert runs() == []
    assert mloop.active_run() is None


def test_a_classifier_fit_logs_params_metrics_tags_and_model(home: Path, binary: Data) -> None:
    x, y = binary
    sk.autolog()
    model = LogisticRegression(C=0.5).fit(x, y)

    assert mloop.active_run() is None  # the run autologging started is ended
    (run,) = runs()
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["C"] == "0.5"
    assert run.data.params["solver"] == "lbfgs"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.data.tags["mloop.autologging"] == "sklearn"
    predicted, proba = model.predict(x), model.predict_proba(x)[:, 1]
    assert run.data.metrics == pytest.approx(
        {
            "training_accuracy_score": m.accuracy_score(y, predicted),
            "training_precision_score": m.precision_score(y, predicted),
            "training_recall_score": m.recall_score(y, predicted),
            "training_f1_score": m.f1_score(y, predicted),
            "training_log_loss": m.log_loss(y, model.predict_proba(x)),
            "training_roc_auc": m.roc_auc_score(y, proba),
            "training_score": model.score(x, y),
        }
    )
    loaded = mloop.models.load(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(x), predicted)
    info = mloop.models.get_model_info(f"runs:/{run.info.run_id}/model")
    assert info.signature is not None
    assert [c.name for c in info.signature.inputs] == ["a", "b"]  # type: ignore[union-attr]
    assert "model/input_example.json" not in artifacts(run.info.run_id, "model")
    assert {
        "training_confusion_matrix.png",
        "training_roc_curve.png",
        "training_precision_recall_curve.png",
    } <= artifacts(run.info.run_id)


def test_multiclass_metrics_are_weighted_averages(home: Path, multiclass: Data) -> None:
    x, y = multiclass
    sk.autolog(log_models=False)
    model = LogisticRegression().fit(x, y)
    metrics = runs()[0].data.metrics
    predicted = model.predict(x)
    assert metrics["training_f1_score"] == pytest.approx(
        m.f1_score(y, predicted, average="weighted")
    )
    assert metrics["training_roc_auc"] == pytest.approx(
        m.roc_auc_score(y, model.predict_proba(x), average="weighted", multi_class="ovo")
    )


def test_a_regressor_logs_regression_metrics(home: Path, binary: Data) -> None:
    x, _ = binary
    y = 2 * x.a - x.b
    sk.autolog(log_models=False)
    LinearRegression().fit(x, y)
    assert set(runs()[0].data.metrics) == {
        "training_mean_squared_error",
        "training_root_mean_squared_error",
        "training_mean_absolute_error",
        "training_r2_score",
        "training_score",
    }


def test_an_estimator_without_labels_logs_its_score(home: Path, binary: Data) -> None:
    sk.autolog(log_models=False)
    model = KMeans(n_clusters=2, n_init=1, random_state=0).fit(binary[0])
    assert runs()[0].data.metrics == {"training_score": pytest.approx(model.score(binary[0]))}


def test_the_active_run_is_used_and_left_running(home: Path, binary: Data) -> None:
    sk.autolog(log_models=False)
    with mloop.start_run() as run:
        LogisticRegression().fit(*binary)
        assert mloop.active_run() is not None
    stored = mloop.get_run(run.info.run_id)
    assert stored.data.params["C"] == "1.0"
    assert "mloop.autologging" not in stored.data.tags
    assert len(runs()) == 1


def test_a_pipeline_logs_once_with_its_steps_params(home: Path, binary: Data) -> None:
    x, y = binary
    sk.autolog()
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=2.0)).fit(x, y)
    (run,) = runs()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["logisticregression__C"] == "2.0"
    assert run.data.params["standardscaler__with_mean"] == "True"
    loaded = mloop.models.load(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(x), pipe.predict(x))


def test_fit_transform_of_a_pipeline_logs_once(home: Path, binary: Data) -> None:
    sk.autolog(log_models=False)
    Pipeline([("scale", StandardScaler())]).fit_transform(binary[0])
    (run,) = runs()
    assert run.data.tags["estimator_name"] == "Pipeline"


def test_a_preprocessing_estimator_alone_is_not_logged(home: Path, binary: Data) -> None:
    sk.autolog()
    StandardScaler().fit(binary[0])
    assert runs() == []


def test_grid_search_logs_best_params_results_and_child_runs(home: Path, binary: Data) -> None:
    x, y = binary
    sk.autolog(max_tuning_runs=2)
    grid = GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0]}, cv=3).fit(x, y)

    (parent,) = [run for run in runs() if run.info.parent_run_id is None]
    run_id = parent.info.run_id
    assert parent.data.params["best_C"] == str(grid.best_params_["C"])
    assert parent.data.params["cv"] == "3"
    assert "C" not in parent.data.params  # the seed's untuned params are not the search's
    assert parent.data.metrics["best_cv_score"] == pytest.approx(grid.best_score_)
    assert {"cv_results.csv", "model", "best_estimator"} <= artifacts(run_id)
    table = pd.read_csv(mloop.Client().download_artifacts(run_id, "cv_results.csv"))
    assert list(table["mean_test_score"]) == pytest.approx(
        list(grid.cv_results_["mean_test_score"])
    )
    best = mloop.models.load(f"runs:/{run_id}/best_estimator")
    np.testing.assert_array_equal(best.predict(x), grid.best_estimator_.predict(x))

    kids = sorted(children(run_id), key=lambda run: run.info.start_time)
    assert len(kids) == 2
    ranks = grid.cv_results_["rank_test_score"]
    order = sorted(range(3), key=lambda i: ranks[i])[:2]
    for kid, index in zip(kids, order, strict=True):
        assert kid.info.status == RunStatus.FINISHED
        assert kid.data.params["C"] == str(grid.cv_results_["params"][index]["C"])
        assert kid.data.params["solver"] == "lbfgs"  # the seed's full params
        assert kid.data.metrics["mean_test_score"] == pytest.approx(
            grid.cv_results_["mean_test_score"][index]
        )
        assert kid.data.metrics["rank_test_score"] == ranks[index]
        assert not any(key.startswith("split") for key in kid.data.metrics)
        assert kid.data.tags["estimator_name"] == "LogisticRegression"


def test_max_tuning_runs_none_logs_every_candidate(home: Path, binary: Data) -> None:
    sk.autolog(max_tuning_runs=None, log_models=False)
    search = RandomizedSearchCV(
        LogisticRegression(), {"C": [0.1, 0.5, 1.0, 2.0]}, n_iter=4, cv=2, random_state=0
    ).fit(*binary)
    parent = next(run for run in runs() if run.info.parent_run_id is None)
    assert len(children(parent.info.run_id)) == 4
    assert parent.data.tags["estimator_name"] == "RandomizedSearchCV"
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)


def test_disable_restores_every_original(home: Path, binary: Data) -> None:
    fit = LogisticRegression.__dict__["fit"]
    pipeline_fit_transform = Pipeline.__dict__["fit_transform"].fn
    inherited = "fit" in vars(RandomizedSearchCV)
    accuracy_score = m.accuracy_score
    sk.autolog()
    assert LogisticRegression.__dict__["fit"] is not fit
    assert Pipeline.__dict__["fit_transform"].fn is not pipeline_fit_transform
    assert m.accuracy_score is not accuracy_score
    sk.autolog(disable=True)
    assert m.accuracy_score is accuracy_score
    assert "predict" not in vars(LogisticRegression)  # inherited again, as before
    assert LogisticRegression.__dict__["fit"] is fit
    assert Pipeline.__dict__["fit_transform"].fn is pipeline_fit_transform
    assert ("fit" in vars(RandomizedSearchCV)) is inherited
    assert not state.is_patched("sklearn")
    LogisticRegression().fit(*binary)
    assert runs() == []


def test_a_logging_failure_warns_and_fit_returns(home: Path, binary: Data) -> None:
    sk.autolog(log_models=False)
    with mloop.start_run() as run:
        mloop.log_param("C", "5")  # autologging's C=1.0 cannot be stored next to it
        with pytest.warns(MloopWarning, match="could not log the params"):
            model = LogisticRegression().fit(*binary)
    assert hasattr(model, "coef_")
    stored = mloop.get_run(run.info.run_id)
    assert stored.data.params["C"] == "5"
    assert "training_accuracy_score" in stored.data.metrics  # the rest is still logged
    assert stored.data.tags["estimator_name"] == "LogisticRegression"


def test_silent_keeps_a_logging_failure_quiet(home: Path, binary: Data) -> None:
    sk.autolog(log_models=False, silent=True)
    with mloop.start_run():
        mloop.log_param("C", "5")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            LogisticRegression().fit(*binary)


def test_a_user_error_propagates_and_the_run_fails(home: Path, binary: Data) -> None:
    x, y = binary
    bad = x.copy()
    bad.iloc[0, 0] = np.nan
    sk.autolog()
    with pytest.raises(ValueError, match="NaN") as raised:
        LogisticRegression().fit(bad, y)
    with pytest.raises(ValueError) as plain:
        LogisticRegression.fit.__wrapped__(LogisticRegression(), bad, y)  # type: ignore[attr-defined]
    assert str(raised.value) == str(plain.value)
    (run,) = runs()
    assert run.info.status == RunStatus.FAILED
    assert "NaN" in (run.info.error or "")
    assert mloop.active_run() is None


def test_exclusive_keeps_out_of_the_users_run(home: Path, binary: Data) -> None:
    sk.autolog(exclusive=True)
    with mloop.start_run() as run:
        LogisticRegression().fit(*binary)
    assert mloop.get_run(run.info.run_id).data.params == {}
    LogisticRegression().fit(*binary)  # with no run active it logs as usual
    assert len(runs()) == 2


def test_input_examples_datasets_tags_and_registration(home: Path, binary: Data) -> None:
    x, y = binary
    sk.autolog(log_input_examples=True, registered_model_name="churn", extra_tags={"team": "risk"})
    LogisticRegression().fit(x, y)
    (run,) = runs()
    assert "model/input_example.json" in artifacts(run.info.run_id, "model")
    assert run.data.tags["team"] == "risk"
    (data,) = mloop.get_run(run.info.run_id).inputs
    assert (data.kind, data.context) == ("dataset", "train")
    version = mloop.models.get_version("churn", 1)
    assert version.run_id == run.info.run_id


def test_log_datasets_false_records_no_input(home: Path, binary: Data) -> None:
    sk.autolog(log_datasets=False, log_models=False)
    LogisticRegression().fit(*binary)
    assert mloop.get_run(runs()[0].info.run_id).inputs == ()


def test_pos_label_picks_the_positive_class(home: Path, binary: Data) -> None:
    x, y = binary
    labels = y.map({0: "no", 1: "yes"})
    sk.autolog(log_models=False, pos_label="no")
    model = LogisticRegression().fit(x, labels)
    metrics = runs()[0].data.metrics
    expected = m.precision_score(labels, model.predict(x), pos_label="no")
    assert metrics["training_precision_score"] == pytest.approx(expected)


def test_string_labels_without_pos_label_warn_and_log_the_rest(home: Path, binary: Data) -> None:
    x, y = binary
    sk.autolog(log_models=False)
    with pytest.warns(MloopWarning, match="training_precision_score"):
        LogisticRegression().fit(x, y.map({0: "no", 1: "yes"}))
    assert "training_accuracy_score" in runs()[0].data.metrics


def test_each_thread_logs_to_its_own_run(home: Path, binary: Data) -> None:
    sk.autolog(log_models=False)
    seen: list[str | None] = []

    def train() -> None:
        LogisticRegression().fit(*binary)
        seen.append(mloop.last_active_run().info.run_id)  # type: ignore[union-attr]

    with mloop.start_run() as run:
        worker = threading.Thread(target=train)
        worker.start()
        worker.join()
    assert seen and seen[0] != run.info.run_id
    assert mloop.get_run(run.info.run_id).data.params == {}
    assert mloop.get_run(seen[0]).data.params["C"] == "1.0"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"log_model": False}, "unknown argument 'log_model' (did you mean 'log_models'?)"),
        ({"max_tuning_runs": -1}, "max_tuning_runs must be"),
        ({"serialization_format": "joblib"}, "mloop never pickles"),
        ({"log_post_training_metrics": "yes"}, "log_post_training_metrics must be True or False"),
        ({"log_models": "yes"}, "log_models must be True or False"),
        ({"disable": 1}, "disable must be True or False"),
        ({"registered_model_name": "bad name!"}, "invalid model name"),
        ({"extra_tags": ["team"]}, "extra_tags must be a mapping"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_patched(
    home: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(
        InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
    ):
        sk.autolog(**kwargs)  # type: ignore[arg-type]
    assert not state.is_patched("sklearn")
