"""CBPE: calibration, estimates against the realised metrics on synthetic data, intervals, bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped]

import mloop.monitoring
from mloop.errors import InvalidInput
from mloop.monitoring.cbpe import CBPE, MIN_REFERENCE, Estimate, Estimates, IsotonicMap, compare
from mloop.monitoring.cbpe_estimates import ESTIMATED, expected_roc_auc
from mloop.monitoring.realised_performance import PerformanceReport, performance


def sigmoid(z: Any) -> Any:
    return 1 / (1 + np.exp(-z))


def population(seed: int, rows: int, shift: float = 0.0, spread: float = 1.0) -> tuple[Any, Any]:
    """Inputs and labels where P(label = 1 | x) = sigmoid(2x): a model scoring that is calibrated."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, spread, rows)
    labels = (rng.random(rows) < sigmoid(2 * x)).astype(int)
    return x, labels


@pytest.fixture(scope="module")
def calibrated() -> CBPE:
    x, labels = population(0, 5000)
    return CBPE.fit(sigmoid(2 * x), labels)


def test_the_calibration_is_scikit_learns_isotonic_regression() -> None:
    rng = np.random.default_rng(4)
    scores = np.round(rng.random(1000), 2)  # many ties
    labels = (rng.random(1000) < scores**2).astype(int)
    cbpe = CBPE.fit(scores, labels)
    isotonic = IsotonicRegression(out_of_bounds="clip").fit(scores, labels)
    probe = np.r_[rng.random(500), 0.0, 1.0]
    assert np.allclose(cbpe.calibrate(probe), isotonic.predict(probe), rtol=0, atol=1e-9)
    assert len(cbpe.maps[0].scores) < len(np.unique(scores))  # kept only where the map bends


def test_estimates_hold_the_realised_metrics_in_most_shifted_windows(calibrated: CBPE) -> None:
    inside = dict.fromkeys(ESTIMATED, 0)
    gaps: dict[str, list[float]] = {name: [] for name in ESTIMATED}
    for seed in range(50):
        x, labels = population(100 + seed, 500, shift=0.7, spread=1.2)  # covariate shift
        scores = sigmoid(2 * x)
        estimates = calibrated.estimate(scores)
        realised = performance(labels, (scores >= 0.5).astype(int), scores=scores)
        for name, row in compare(estimates, realised).items():
            inside[name] += bool(row.inside)
            gaps[name].append(abs((row.realised or 0.0) - (row.estimate or 0.0)))
    for name in ESTIMATED:
        assert inside[name] / 50 >= 0.85, (name, inside[name])
        assert np.mean(gaps[name]) < 0.03, (name, np.mean(gaps[name]))


def test_an_uncalibrated_model_is_fixed_by_the_calibration() -> None:
    x, labels = population(1, 5000)
    overconfident = sigmoid(6 * x)  # the right order, far too sure of itself
    cbpe = CBPE.fit(overconfident, labels)
    x, labels = population(2, 5000, shift=-0.5)
    scores = sigmoid(6 * x)
    realised = performance(labels, (scores >= 0.5).astype(int), scores=scores)
    estimates = cbpe.estimate(scores)
    naive = np.mean(np.where(scores >= 0.5, scores, 1 - scores))  # taking the scores at their word
    assert estimates.accuracy is not None and realised.accuracy is not None
    assert abs(estimates.accuracy.value - realised.accuracy) < 0.02
    assert abs(naive - realised.accuracy) > 0.1
    assert estimates.accuracy.lower <= realised.accuracy <= estimates.accuracy.upper


def small() -> CBPE:
    """A map that makes every score its own probability, so a small window is computed by hand."""
    identity = IsotonicMap(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    return CBPE([identity], classes=(0, 1), positive=1, reference_rows=100)


def test_a_small_window_by_hand() -> None:
    estimates = small().estimate([0.9, 0.6, 0.2, 0.4])
    # predicted positive: 0.9 and 0.6; TP = 1.5, FP = 0.5, FN = 0.6, TN = 1.4
    assert estimates.rows == 4 and estimates.threshold == 0.5
    assert estimates.accuracy is not None and estimates.precision is not None
    assert estimates.recall is not None and estimates.f1 is not None
    assert estimates.accuracy.value == pytest.approx(2.9 / 4)
    assert estimates.precision.value == pytest.approx(1.5 / 2)
    assert estimates.recall.value == pytest.approx(1.5 / 2.1)
    assert estimates.f1.value == pytest.approx(3.0 / (3.0 + 0.5 + 0.6))
    # correctness probabilities 0.9, 0.6, 0.8, 0.6: variance 0.09 + 0.24 + 0.16 + 0.24
    assert estimates.accuracy.standard_error == pytest.approx(math.sqrt(0.73) / 4)
    assert estimates.precision.standard_error == pytest.approx(math.sqrt(0.33) / 2)
    va, vb, a, b, m = 0.33, 0.40, 1.5, 0.6, 2.0
    recall_error = math.sqrt(b * b * va + a * a * vb) / (a + b) ** 2
    f1_error = 2 * math.sqrt((m + b) ** 2 * va + a * a * vb) / (a + m + b) ** 2
    assert estimates.recall.standard_error == pytest.approx(recall_error)
    assert estimates.f1.standard_error == pytest.approx(f1_error)
    half = 1.959963984540054 * estimates.accuracy.standard_error
    assert estimates.accuracy.lower == pytest.approx(2.9 / 4 - half)
    assert estimates.accuracy.upper == pytest.approx(min(1.0, 2.9 / 4 + half))


def test_the_expected_roc_curve_by_hand() -> None:
    # from the top: (0, 0) -> (0.9/2.1, 0.1/1.9) -> (1.5/2.1, 0.5/1.9) -> (1.9/2.1, 1.1/1.9) -> (1, 1)
    tpr = np.array([0, 0.9, 1.5, 1.9, 2.1]) / 2.1
    fpr = np.array([0, 0.1, 0.5, 1.1, 1.9]) / 1.9
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    scores = np.array([0.9, 0.6, 0.2, 0.4])
    assert expected_roc_auc(scores, scores) == pytest.approx(area)
    estimates = small().estimate(scores)
    assert estimates.roc_auc is not None and estimates.roc_auc.value == pytest.approx(area)
    assert expected_roc_auc(np.array([0.5, 0.5]), np.array([0.3, 0.6])) == pytest.approx(0.5)


def test_the_standard_errors_match_the_spread_of_simulated_windows(calibrated: CBPE) -> None:
    x, _ = population(7, 1000, shift=0.4)
    scores = sigmoid(2 * x)
    probabilities = calibrated.calibrate(scores)
    estimates = calibrated.estimate(scores)
    rng = np.random.default_rng(11)
    realised: dict[str, list[float]] = {name: [] for name in ESTIMATED}
    for _ in range(400):
        labels = (rng.random(len(scores)) < probabilities).astype(int)
        report = performance(labels, (scores >= 0.5).astype(int), scores=scores)
        for name in ESTIMATED:
            realised[name].append(getattr(report, name))
    for name in ESTIMATED:
        found: Estimate = getattr(estimates, name)
        spread = float(np.std(realised[name], ddof=1))
        assert found.standard_error == pytest.approx(spread, rel=0.15), name
        assert found.value == pytest.approx(float(np.mean(realised[name])), abs=0.01), name


def test_estimates_are_reproducible(calibrated: CBPE) -> None:
    x, _ = population(8, 300)
    first, again = calibrated.estimate(sigmoid(2 * x)), calibrated.estimate(sigmoid(2 * x))
    assert first == again


def test_undefined_metrics_are_none() -> None:
    nothing_positive = small().estimate([0.1, 0.2, 0.0])
    assert nothing_positive.precision is None and nothing_positive.accuracy is not None
    assert small().estimate([0.0, 0.0]).recall is None
    assert small().estimate([0.0, 0.0]).roc_auc is None
    empty = small().estimate([])
    assert empty.rows == 0 and empty.metrics() == {}


def test_metrics_have_flat_keys(calibrated: CBPE) -> None:
    metrics = calibrated.estimate([0.2, 0.7, 0.9, 0.4]).metrics()
    assert list(metrics)[:3] == [
        "estimated_accuracy",
        "estimated_accuracy_lower",
        "estimated_accuracy_upper",
    ]
    assert set(metrics) == {
        f"estimated_{name}{end}" for name in ESTIMATED for end in ("", "_lower", "_upper")
    }
    assert all(
        metrics[f"estimated_{n}_lower"]
        <= metrics[f"estimated_{n}"]
        <= metrics[f"estimated_{n}_upper"]
        for n in ESTIMATED
    )
    assert json.loads(json.dumps(calibrated.estimate([0.2, 0.7]).to_dict()))["rows"] == 2


def test_compare_says_which_realised_values_fall_inside() -> None:
    estimates = Estimates(
        10, 0.5, accuracy=Estimate(0.8, 0.05, 0.7, 0.9), precision=Estimate(0.6, 0.1, 0.4, 0.8)
    )
    realised = PerformanceReport("classification", 10, accuracy=0.95, precision=0.5, recall=0.4)
    rows = compare(estimates, realised)
    assert list(rows) == list(ESTIMATED)
    assert rows["accuracy"].inside is False and rows["accuracy"].realised == 0.95
    assert rows["precision"].inside is True and rows["precision"].lower == 0.4
    assert rows["recall"].inside is None and rows["recall"].estimate is None
    assert rows["roc_auc"].inside is None and rows["roc_auc"].realised is None


def test_the_stored_map_round_trips_exactly(calibrated: CBPE) -> None:
    stored = json.loads(json.dumps(calibrated.to_dict()))
    again = CBPE.from_dict(stored)
    assert again.to_dict() == calibrated.to_dict()
    probe = np.random.default_rng(3).random(1000)
    assert np.array_equal(again.calibrate(probe), calibrated.calibrate(probe))
    assert len(stored["calibration"][0]["scores"]) < 200  # compact: the knots, not the reference
    assert repr(again) == "CBPE(classes=[0, 1], positive=1, reference_rows=5000)"


def test_named_classes() -> None:
    rng = np.random.default_rng(6)
    scores = rng.random(400)
    labels = np.where(rng.random(400) < scores, "fraud", "ok")
    cbpe = CBPE.fit(scores, labels, positive="fraud", classes=["ok", "fraud"])
    assert (cbpe.classes, cbpe.positive) == (("ok", "fraud"), "fraud")
    assert CBPE.from_dict(json.loads(json.dumps(cbpe.to_dict()))).positive == "fraud"
    flipped = CBPE.fit(scores, (labels == "ok").astype(int), positive=0)
    assert flipped.positive == 0 and flipped.calibrate([0.99])[0] > 0.8


def test_the_package_exports_cbpe() -> None:
    assert mloop.monitoring.CBPE is CBPE


@pytest.mark.parametrize(
    ("scores", "labels", "options", "message"),
    [
        ([1.2] + [0.5] * 199, [0, 1] * 100, {}, r"probabilities in \[0, 1\]"),
        ([-0.1] + [0.5] * 199, [0, 1] * 100, {}, r"probabilities in \[0, 1\]"),
        ([float("nan")] + [0.5] * 199, [0, 1] * 100, {}, "NaN"),
        (["high"] * 200, [0, 1] * 100, {}, "must be numbers"),
        ([0.5] * 200, [0, 1] * 99, {}, "one label per score"),
        ([0.5] * 200, [1] * 200, {}, "one class only"),
        ([0.5] * 200, "01" * 100, {}, "must be a sequence"),
        ([0.5] * 50, [0, 1] * 25, {}, f"at least {MIN_REFERENCE}"),
        ([0.5] * 200, [0, 1] * 99 + [None, 1], {}, "missing values"),
        ([0.5] * 201, [0, 1, 2] * 67, {}, "one column of scores per class"),
        (np.full((200, 2), 0.5), [0, 1] * 100, {}, "for two classes give"),
        (np.full((201, 3), 0.3), [0, 1, 2] * 67, {"positive": 1}, "for binary classifiers"),
        (np.full((201, 3), 0.3), [0, 1] * 100 + [0], {}, "give classes="),
        (np.full((201, 3), 0.3), [0, 1] * 100 + [0], {"classes": [0, 1, 2]}, "never occurs"),
        (np.full((201, 3), 0.3), [0, 1, 3] * 67, {"classes": [0, 1, 2]}, "not one of classes"),
        (np.full((201, 3), 1.3), [0, 1, 2] * 67, {}, r"probabilities in \[0, 1\]"),
        ([0.5] * 200, ["a", "b"] * 100, {}, "give positive="),
        ([0.5] * 200, ["a", "b"] * 100, {"positive": "c"}, "not one of the reference's"),
        ([0.5] * 200, ["a", "b"] * 100, {"classes": ["a", "c"]}, "not one of classes"),
        ([0.5] * 200, ["a", "b"] * 100, {"classes": ["a", "b", "c"]}, "binary classifier"),
    ],
)
def test_bad_references_are_refused(scores: Any, labels: Any, options: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CBPE.fit(scores, labels, **options)


@pytest.mark.parametrize(
    ("scores", "options", "message"),
    [
        ([0.2, 1.5], {}, r"probabilities in \[0, 1\]"),
        ([[0.2, 0.8]], {}, "one probability per row"),
        ([0.2, 0.4], {"threshold": 1.5}, "threshold must be"),
        ([0.2, 0.4], {"threshold": "high"}, "threshold must be"),
        (0.3, {}, "one probability per row"),
    ],
)
def test_bad_windows_are_refused(scores: Any, options: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        small().estimate(scores, **options)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "dle"}, "not a stored CBPE"),
        ({"format": 9}, "format 9"),
        ({"calibration": [{"scores": [0.1, 0.2]}]}, "incomplete or malformed"),
        ({"calibration": [{"scores": [0.2, 0.1], "probabilities": [0.1, 0.2]}]}, "increasing"),
        ({"calibration": [{"scores": [0.1, 0.2], "probabilities": [0.3, 0.2]}]}, "increasing"),
        ({"calibration": [{"scores": [0.1, 0.2], "probabilities": [0.3, 1.2]}]}, "increasing"),
        ({"calibration": [{"scores": [], "probabilities": []}]}, "as many of each"),
        ({"calibration": 3}, "malformed"),
        ({"reference_rows": "many"}, "malformed"),
        ({"classes": [1, 0]}, "negative, positive"),
        ({"positive": None}, "a map per class"),
        ({"calibration": []}, "one map"),
    ],
)
def test_bad_stored_maps_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CBPE.from_dict({**small().to_dict(), **change})


def test_a_stored_map_must_be_a_mapping() -> None:
    with pytest.raises(InvalidInput, match="not a stored CBPE"):
        CBPE.from_dict([("method", "cbpe")])  # type: ignore[arg-type]


def three_classes(seed: int, rows: int, shift: float = 0.0) -> tuple[Any, Any]:
    """Softmax scores of three classes that are calibrated, and labels drawn from them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, (rows, 1))
    logits = np.hstack([2 * x, -2 * x, np.zeros((rows, 1))])
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    cumulative = scores.cumsum(axis=1)
    labels = (rng.random((rows, 1)) > cumulative).sum(axis=1)
    return scores, np.array(["up", "down", "flat"])[labels]


@pytest.fixture(scope="module")
def multiclass() -> CBPE:
    scores, labels = three_classes(0, 6000)
    return CBPE.fit(scores, labels, classes=["up", "down", "flat"])


def test_multiclass_estimates_hold_the_realised_macro_metrics(multiclass: CBPE) -> None:
    inside = dict.fromkeys(ESTIMATED, 0)
    for seed in range(30):
        scores, labels = three_classes(200 + seed, 600, shift=0.5)
        estimates = multiclass.estimate(scores)
        predicted = np.array(multiclass.classes)[scores.argmax(axis=1)]
        realised = performance(labels, predicted, scores=scores, classes=multiclass.classes)
        for name, row in compare(estimates, realised).items():
            inside[name] += bool(row.inside)
    assert estimates.average == "macro" and estimates.threshold is None
    for name in ESTIMATED:
        assert inside[name] / 30 >= 0.85, (name, inside[name])


def test_multiclass_calibration_is_per_class_then_normalised(multiclass: CBPE) -> None:
    reference, labels = three_classes(0, 6000)
    column = IsotonicRegression(out_of_bounds="clip").fit(reference[:, 0], labels == "up")
    scores, _ = three_classes(9, 1000)
    calibrated = multiclass.calibrate(scores)
    assert calibrated.shape == (1000, 3) and np.allclose(calibrated.sum(axis=1), 1.0)
    raw = np.column_stack([fit(scores[:, i]) for i, fit in enumerate(multiclass.maps)])
    assert np.allclose(raw[:, 0], column.predict(scores[:, 0]), atol=1e-9)
    assert np.allclose(calibrated, raw / raw.sum(axis=1, keepdims=True))


def test_multiclass_standard_errors_match_simulated_windows(multiclass: CBPE) -> None:
    scores, _ = three_classes(12, 800, shift=0.3)
    probabilities = multiclass.calibrate(scores)
    estimates = multiclass.estimate(scores)
    predicted = np.array(multiclass.classes)[scores.argmax(axis=1)]
    rng = np.random.default_rng(13)
    realised: dict[str, list[float]] = {name: [] for name in ESTIMATED}
    for _ in range(300):
        drawn = (rng.random((len(scores), 1)) > probabilities.cumsum(axis=1)).sum(axis=1)
        labels = np.array(multiclass.classes)[np.minimum(drawn, 2)]
        report = performance(labels, predicted, scores=scores, classes=multiclass.classes)
        for name in ESTIMATED:
            realised[name].append(getattr(report, name))
    for name in ESTIMATED:
        found: Estimate = getattr(estimates, name)
        assert found.standard_error == pytest.approx(np.std(realised[name], ddof=1), rel=0.2)
        assert found.value == pytest.approx(float(np.mean(realised[name])), abs=0.01), name


def test_a_small_multiclass_window_by_hand() -> None:
    identity = IsotonicMap(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    cbpe = CBPE([identity] * 3, classes=("a", "b", "c"), positive=None, reference_rows=100)
    p = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    estimates = cbpe.estimate(p)
    # predicted a, b, c, a; expected TP per class 1.3, 0.7, 0.6; predicted 2, 1, 1;
    # expected actual 1.6, 1.5, 0.9
    precision = (1.3 / 2 + 0.7 / 1 + 0.6 / 1) / 3
    recall = (1.3 / 1.6 + 0.7 / 1.5 + 0.6 / 0.9) / 3
    f1 = (2.6 / 3.6 + 1.4 / 2.5 + 1.2 / 1.9) / 3
    assert estimates.accuracy is not None and estimates.precision is not None
    assert estimates.accuracy.value == pytest.approx(2.6 / 4)
    assert estimates.accuracy.standard_error == pytest.approx(
        math.sqrt(0.16 + 0.21 + 0.24 + 0.25) / 4
    )
    assert estimates.precision.value == pytest.approx(precision)
    assert estimates.recall is not None and estimates.recall.value == pytest.approx(recall)
    assert estimates.f1 is not None and estimates.f1.value == pytest.approx(f1)
    areas = [expected_roc_auc(p[:, i], p[:, i]) for i in range(3)]
    assert estimates.roc_auc is not None
    assert estimates.roc_auc.value == pytest.approx(np.mean(areas))
    assert cbpe.estimate(np.zeros((0, 3))).metrics() == {}


def test_multiclass_round_trips_and_refuses_a_threshold(multiclass: CBPE) -> None:
    again = CBPE.from_dict(json.loads(json.dumps(multiclass.to_dict())))
    assert again.to_dict() == multiclass.to_dict() and again.classes == ("up", "down", "flat")
    scores, _ = three_classes(5, 50)
    assert again.estimate(scores) == multiclass.estimate(scores)
    with pytest.raises(InvalidInput, match="no threshold"):
        multiclass.estimate(scores, threshold=0.5)
    with pytest.raises(InvalidInput, match=r"one column per class \(3\)"):
        multiclass.estimate(scores[:, :2])
