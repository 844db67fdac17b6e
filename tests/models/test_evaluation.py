from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import mloop
from mloop.errors import InvalidInput, NotFound
from mloop.models import metrics
from tests.models.conftest import FEATURES, log_and_register


class Fixed:
    """A 'model' whose predictions are given: for checking the arithmetic by hand."""

    def __init__(self, predictions: list[Any], proba: list[list[float]] | None = None) -> None:
        self.predictions = np.asarray(predictions)
        self.proba = None if proba is None else np.asarray(proba)

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return self.predictions[: len(data)]


class FixedClassifier(Fixed):
    def predict_proba(self, data: pd.DataFrame) -> np.ndarray:
        assert self.proba is not None
        return self.proba[: len(data)]


def test_classification_metrics_match_scikit_learn(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    result = mloop.evaluate(classifier, credit, targets="label", importance=False)
    y, x = credit["label"], credit[FEATURES]
    predicted, proba = classifier.predict(x), classifier.predict_proba(x)
    assert result.task == "classification"
    assert result.metrics == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y, predicted),
            "precision": skm.precision_score(y, predicted),
            "recall": skm.recall_score(y, predicted),
            "f1": skm.f1_score(y, predicted),
            "roc_auc": skm.roc_auc_score(y, proba[:, 1]),
            "log_loss": skm.log_loss(y, proba),
            "brier": skm.brier_score_loss(y, proba[:, 1]),
        }
    )
    assert result.confusion_matrix == skm.confusion_matrix(y, predicted).tolist()
    assert result.labels == [0, 1]
    assert result.n_rows == len(credit)


def test_regression_metrics(home: Path) -> None:
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 5.0]})
    result = mloop.evaluate(Fixed([1.0, 2.0, 3.0, 4.0]), data, targets="y", importance=False)
    assert result.task == "regression"
    assert result.metrics == pytest.approx(
        {"mae": 0.25, "mse": 0.25, "rmse": 0.5, "r2": skm.r2_score(data.y, [1, 2, 3, 4])}
    )


def test_multiclass_uses_macro_averages(home: Path) -> None:
    data = pd.DataFrame({"x": range(6), "y": ["a", "b", "c", "a", "b", "c"]})
    proba = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]] * 2
    model = FixedClassifier(["a", "b", "c", "a", "c", "c"], proba)
    result = mloop.evaluate(model, data, targets="y", importance=False)
    assert result.labels == ["a", "b", "c"]
    assert result.metrics["f1"] == pytest.approx(
        skm.f1_score(data.y, model.predictions, average="macro")
    )
    assert "brier" not in result.metrics
    assert result.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(data.y, np.asarray(proba), multi_class="ovr")
    )


def test_fairness_gaps_by_hand(home: Path) -> None:
    # group f: 4 rows, predicted positive 3 (rate .75); group m: 4 rows, positive 1 (.25)
    data = pd.DataFrame(
        {
            "x": range(8),
            "sex": ["f", "f", "f", "f", "m", "m", "m", "m"],
            "label": [1, 1, 0, 0, 1, 1, 0, 0],
        }
    )
    model = Fixed([1, 1, 1, 0, 1, 0, 0, 0])
    result = mloop.evaluate(model, data, targets="label", sensitive=["sex"], importance=False)
    groups = result.fairness["sex"]["groups"]
    assert groups["f"] == {"count": 4, "selection_rate": 0.75, "tpr": 1.0, "fpr": 0.5}
    assert groups["m"] == {"count": 4, "selection_rate": 0.25, "tpr": 0.5, "fpr": 0.0}
    assert result.metrics["dp_diff"] == pytest.approx(0.5)
    assert result.metrics["eo_diff"] == pytest.approx(0.5)


def test_regression_fairness_is_the_spread_of_errors(home: Path) -> None:
    data = pd.DataFrame({"x": range(4), "g": ["a", "a", "b", "b"], "y": [1.0, 1.0, 1.0, 1.0]})
    result = mloop.evaluate(
        Fixed([1.0, 1.0, 2.0, 3.0]), data, targets="y", sensitive=["g"], importance=False
    )
    assert result.fairness["g"]["groups"]["b"]["mae"] == 1.5
    assert result.metrics["mae_diff"] == 1.5


def test_slices_get_their_own_metrics(home: Path, credit: pd.DataFrame, classifier: Any) -> None:
    result = mloop.evaluate(
        classifier, credit, targets="label", slices=["region", "income"], importance=False
    )
    north = credit[credit.region == "north"]
    assert result.slices["region"]["north"]["accuracy"] == pytest.approx(
        skm.accuracy_score(north.label, classifier.predict(north[FEATURES]))
    )
    assert result.slices["region"]["north"]["count"] == len(north)
    assert len(result.slices["income"]) == 4  # a many-valued number is cut into quartiles


def test_permutation_importance_ranks_the_feature_the_label_follows(home: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    data = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    data["label"] = (data.signal > 0).astype(int)
    model = LogisticRegression().fit(data[["signal", "noise"]], data.label)
    importance = mloop.evaluate(model, data, targets="label").feature_importance
    assert importance["signal"] > 0.3
    assert abs(importance["noise"]) < 0.05


def test_an_evaluation_inside_a_run_is_logged_to_it(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    info = log_and_register(classifier, credit)
    with mloop.start_run() as run:
        result = mloop.evaluate(info.model_uri, credit, targets="label", importance=False)
    logged = mloop.get_run(run.info.run_id)
    assert logged.data.metrics["accuracy"] == result.metrics["accuracy"]
    [artifact] = mloop.Client().list_artifacts(run.info.run_id, "evaluation")
    stored = json.loads(mloop.Client().load_text(run.info.run_id, artifact.path))
    assert stored["metrics"]["accuracy"] == result.metrics["accuracy"]


def test_a_registered_version_keeps_its_evaluations(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    log_and_register(classifier, credit)
    mloop.evaluate("models:/credit/1", credit, targets="label", slices=["region"])
    card = mloop.models.model_card("credit/1")
    assert card["evaluation"]["slices"]["region"]
    assert set(card["feature_importance"]) == set(FEATURES)  # the signature's columns only


def test_data_from_a_dataset_version_or_a_file(
    home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    credit.to_csv(tmp_path / "credit.csv", index=False)
    credit.to_parquet(tmp_path / "credit.parquet")
    version = mloop.data.add(tmp_path / "credit.csv", name="credit-data")
    by_ref = mloop.evaluate(classifier, "credit-data@1", targets="label", importance=False)
    by_object = mloop.evaluate(classifier, version, targets="label", importance=False)
    by_file = mloop.evaluate(
        classifier, tmp_path / "credit.parquet", targets="label", importance=False
    )
    assert by_ref.data == "credit-data@1" == by_object.data
    assert by_file.data.startswith("file:")
    assert by_ref.metrics == pytest.approx(by_file.metrics)


def test_an_undefined_metric_is_nan_not_an_error(home: Path) -> None:
    data = pd.DataFrame({"x": [1, 2], "label": [1, 1]})
    result = mloop.evaluate(
        FixedClassifier([1, 0], [[0.2, 0.8], [0.6, 0.4]]), data, targets="label", importance=False
    )
    assert math.isnan(result.metrics["roc_auc"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"targets": "nope"}, InvalidInput, "target column 'nope'"),
        ({"targets": "label", "slices": ["nope"]}, InvalidInput, r"slice column\(s\) \['nope'\]"),
        ({"targets": "label", "sensitive": ["z"]}, InvalidInput, "sensitive column"),
        ({"targets": "label", "task": "ranking"}, InvalidInput, "task must be"),
    ],
)
def test_bad_evaluation_input(
    home: Path,
    credit: pd.DataFrame,
    classifier: Any,
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        mloop.evaluate(classifier, credit, **kwargs)


def test_bad_models_and_data(home: Path, credit: pd.DataFrame, classifier: Any) -> None:
    with pytest.raises(InvalidInput, match="object with predict"):
        mloop.evaluate(object(), credit, targets="label")
    with pytest.raises(InvalidInput, match="evaluation data must be"):
        mloop.evaluate(classifier, 42, targets="label")
    with pytest.raises(InvalidInput, match="empty table"):
        mloop.evaluate(classifier, credit.iloc[:0], targets="label")
    with pytest.raises(NotFound):
        mloop.evaluate(classifier, "no-such-dataset@1", targets="label")
    with pytest.raises(NotFound):
        mloop.evaluate("models:/none/1", credit, targets="label")


def test_group_keys_bin_many_valued_numbers() -> None:
    keys, names = metrics.group_keys(pd.Series(range(100)))
    assert len(names) == 4
    keys, names = metrics.group_keys(pd.Series(["a", "b", "a"]))
    assert names == ["a", "b"]
    assert keys.tolist() == ["a", "b", "a"]
