"""The arithmetic of CBPE: expected metrics of a window from calibrated probabilities, with errors.

:class:`mloop.monitoring.cbpe.CBPE` calibrates; this module turns a window's
scores and their calibrated probabilities into :class:`Estimates`, and
:func:`compare` sets them beside the realised metrics once labels arrive.

Binary (``p`` the calibrated probability of the positive class, a row
predicted positive when its score is at or above the threshold)::

    TP = sum(p over predicted positives)    FP = sum(1 - p over predicted positives)
    FN = sum(p over predicted negatives)    TN = sum(1 - p over predicted negatives)

    accuracy = (TP + TN) / n      precision = TP / (TP + FP)
    recall = TP / (TP + FN)       f1 = 2 TP / (2 TP + FP + FN)

ROC AUC is the area under the expected ROC curve: at each distinct score,
from the highest, TPR is the sum of ``p`` over the rows scored at or above
it over the sum of all ``p``, FPR likewise with ``1 - p``.

Each estimate has a standard error: how far the realised metric of the
window would fall from it if the calibration were exact, each label an
independent Bernoulli draw of probability ``p``, so each prediction right
with probability ``c`` (``p`` when it predicted positive, ``1 - p`` when
negative). With ``m`` the predicted positives, ``A = TP`` and ``B = FN``
(sums of independent Bernoullis, of variances ``VA = sum(p (1 - p))`` over
the predicted positives and ``VB`` over the predicted negatives):

- accuracy: ``sqrt(sum(c (1 - c))) / n`` (exact);
- precision: ``sqrt(VA) / m`` (exact: ``m`` does not depend on the labels);
- recall ``A / (A + B)``: by the delta method,
  ``sqrt(B**2 VA + A**2 VB) / (A + B)**2``;
- F1 ``2 A / (A + m + B)``: by the delta method,
  ``2 sqrt((m + B)**2 VA + A**2 VB) / (A + m + B)**2``;
- ROC AUC: the standard deviation of the realised AUC over
  :data:`BOOTSTRAP_DRAWS` label draws from ``p`` (a parametric bootstrap
  with the fixed seed :data:`SEED`, so an estimate is reproducible).

Multiclass (``P`` the calibrated probabilities, one column per class, each
row summing to 1; a row predicted as its highest score's class): accuracy
is the mean of ``P`` at each row's predicted class (standard error as
above, exact); precision, recall and F1 are the unweighted means over the
classes of each class's one-vs-rest metric, from its expected counts as in
the binary case, 0 where a denominator is 0 (as the realised metrics); ROC
AUC the mean over classes of each class's expected one-vs-rest AUC. Their
standard errors come from the parametric bootstrap, labels drawn from each
row's ``P``.

The 95% interval is the estimate plus or minus 1.96 standard errors, clipped
to [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mloop.monitoring.realised_performance import PerformanceReport

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BOOTSTRAP_DRAWS = 200
"""Label draws of the parametric bootstrap of a standard error."""

SEED = 0
"""The seed of that bootstrap."""

Z95 = 1.959963984540054
"""The standard normal's 97.5% quantile: the half-width of a 95% interval, in standard errors."""

ESTIMATED = ("accuracy", "precision", "recall", "f1", "roc_auc")
"""The metrics CBPE estimates."""

_BOOTSTRAP_CELLS = 4_000_000  # draws x rows held in memory at once


@dataclass(frozen=True)
class Estimate:
    """One estimated metric: its value, standard error and 95% interval."""

    value: float
    standard_error: float
    lower: float
    upper: float


def _estimate(value: float, error: float) -> Estimate:
    return Estimate(value, error, max(0.0, value - Z95 * error), min(1.0, value + Z95 * error))


@dataclass(frozen=True)
class Estimates:
    """The estimated performance of one window of scores.

    A metric is ``None`` when it is undefined for the window: binary
    precision without a predicted positive, recall and ROC AUC when every
    calibrated probability is 0 (or, for ROC AUC, every one is 1), all of
    them for an empty window.

    Attributes:
        rows: the window's size.
        threshold: the score at and above which a row is predicted positive
            (binary); ``None`` for multiclass (the highest score's class).
        average: ``"binary"`` or ``"macro"``.
        accuracy, precision, recall, f1, roc_auc: the estimates.
    """

    rows: int
    threshold: float | None
    average: str = "binary"
    accuracy: Estimate | None = None
    precision: Estimate | None = None
    recall: Estimate | None = None
    f1: Estimate | None = None
    roc_auc: Estimate | None = None

    def metrics(self) -> dict[str, float]:
        """``estimated_<metric>`` and its ``_lower`` and ``_upper`` bounds, for each metric known.

        Example:
            >>> Estimates(10, 0.5, accuracy=Estimate(0.8, 0.1, 0.6, 1.0)).metrics()
            ... # doctest: +NORMALIZE_WHITESPACE
            {'estimated_accuracy': 0.8, 'estimated_accuracy_lower': 0.6,
             'estimated_accuracy_upper': 1.0}
        """
        values: dict[str, float] = {}
        for name in ESTIMATED:
            found: Estimate | None = getattr(self, name)
            if found is not None:
                values[f"estimated_{name}"] = found.value
                values[f"estimated_{name}_lower"] = found.lower
                values[f"estimated_{name}_upper"] = found.upper
        return values

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (an unknown metric is ``None``)."""
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """An estimated metric against the realised one, once labels arrived.

    ``inside`` is whether the realised value lies in the 95% interval;
    ``None`` when either side is unknown.
    """

    metric: str
    estimate: float | None
    lower: float | None
    upper: float | None
    realised: float | None
    inside: bool | None


def compare(estimates: Estimates, realised: PerformanceReport) -> dict[str, Comparison]:
    """Each estimated metric beside its realised value, by metric name.

    Example:
        >>> estimates = Estimates(4, 0.5, accuracy=Estimate(0.7, 0.1, 0.5, 0.9))
        >>> realised = PerformanceReport("classification", 4, accuracy=0.75)
        >>> compare(estimates, realised)["accuracy"].inside
        True
    """
    found = {}
    for name in ESTIMATED:
        guess: Estimate | None = getattr(estimates, name)
        truth: float | None = getattr(realised, name)
        inside = None if guess is None or truth is None else guess.lower <= truth <= guess.upper
        found[name] = Comparison(
            name,
            None if guess is None else guess.value,
            None if guess is None else guess.lower,
            None if guess is None else guess.upper,
            truth,
            inside,
        )
    return found


def _accuracy(correct: FloatArray) -> Estimate:
    """The mean of the rows' chances of being right; its exact standard error."""
    spread = math.sqrt(float(np.sum(correct * (1 - correct)))) / len(correct)
    return _estimate(float(correct.mean()), spread)


def binary_estimates(scores: FloatArray, probabilities: FloatArray, threshold: float) -> Estimates:
    """The estimates of a binary window: raw ``scores``, their calibrated ``probabilities``.

    Example:
        >>> import numpy as np
        >>> scores = np.array([0.9, 0.6, 0.2, 0.4])
        >>> binary_estimates(scores, scores, 0.5).accuracy.value
        0.725
    """
    rows = len(scores)
    if rows == 0:
        return Estimates(0, threshold)
    p = probabilities
    predicted = scores >= threshold
    variance = p * (1 - p)
    m = float(predicted.sum())
    a, b = float(p[predicted].sum()), float(p[~predicted].sum())
    va, vb = float(variance[predicted].sum()), float(variance[~predicted].sum())
    precision = _estimate(a / m, math.sqrt(va) / m) if m > 0 else None
    recall = None
    if a + b > 0:
        recall = _estimate(a / (a + b), math.sqrt(b * b * va + a * a * vb) / (a + b) ** 2)
    f1 = None
    if a + m + b > 0:
        spread = 2 * math.sqrt((m + b) ** 2 * va + a * a * vb) / (a + m + b) ** 2
        f1 = _estimate(2 * a / (a + m + b), spread)
    accuracy = _accuracy(np.where(predicted, p, 1 - p))
    auc = expected_roc_auc(scores, p)
    auc_estimate = None
    if auc is not None:
        ranks = _ranks(scores)
        areas = np.concatenate([_areas(draws, ranks) for draws in _bernoulli_draws(p)])
        auc_estimate = _estimate(auc, _spread(areas))
    return Estimates(rows, threshold, "binary", accuracy, precision, recall, f1, auc_estimate)


def expected_roc_auc(scores: FloatArray, probabilities: FloatArray) -> float | None:
    """The area under the expected ROC curve of ``scores``, positive with ``probabilities``.

    ``None`` when the expected positives or negatives are 0.

    Example:
        >>> import numpy as np
        >>> expected_roc_auc(np.array([0.9, 0.1]), np.array([1.0, 0.0]))
        1.0
    """
    order = np.argsort(-scores, kind="stable")
    ordered, p = scores[order], probabilities[order]
    ends = np.r_[np.nonzero(np.diff(ordered))[0], len(ordered) - 1]  # the last row of each tie
    tp = np.r_[0.0, np.cumsum(p)[ends]]
    fp = np.r_[0.0, np.cumsum(1 - p)[ends]]
    if tp[-1] <= 0 or fp[-1] <= 0:
        return None
    return float(np.trapezoid(tp / tp[-1], fp / fp[-1]))


def _ranks(scores: FloatArray) -> FloatArray:
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    return np.asarray(rankdata(scores), dtype=np.float64)


def _chunks(rows: int, width: int = 1) -> Iterator[int]:
    """The draws of each chunk of the bootstrap, so that a chunk holds few cells."""
    chunk = max(1, _BOOTSTRAP_CELLS // max(1, rows * width))
    for start in range(0, BOOTSTRAP_DRAWS, chunk):
        yield min(chunk, BOOTSTRAP_DRAWS - start)


def _bernoulli_draws(p: FloatArray) -> Iterator[npt.NDArray[np.bool_]]:
    rng = np.random.default_rng(SEED)
    for size in _chunks(len(p)):
        yield rng.random((size, len(p))) < p


def _areas(positive: npt.NDArray[np.bool_], ranks: FloatArray) -> FloatArray:
    """The realised ROC AUC of each draw (a row of ``positive``); NaN without both classes."""
    rows = positive.shape[1]
    n1 = positive.sum(axis=1).astype(np.float64)
    n0 = rows - n1
    with np.errstate(divide="ignore", invalid="ignore"):
        area = (positive @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0)
    return np.where((n1 > 0) & (n0 > 0), area, np.nan)


def _spread(values: FloatArray) -> float:
    """The standard deviation of the bootstrap's values that are known."""
    known = values[~np.isnan(values)]
    return float(np.std(known, ddof=1)) if len(known) > 1 else 0.0


def _class_metrics(tp: FloatArray, predicted: FloatArray, actual: FloatArray) -> FloatArray:
    """Precision, recall and F1 of each class (last axis) from counts; 0 where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(predicted + actual > 0, 2 * tp / (predicted + actual), 0.0)
    return np.stack([precision, recall, f1])


def multiclass_estimates(scores: FloatArray, probabilities: FloatArray) -> Estimates:
    """The macro estimates of a multiclass window: one column of scores and probabilities per class.

    Example:
        >>> import numpy as np
        >>> p = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
        >>> round(multiclass_estimates(p, p).accuracy.value, 4)
        0.7
    """
    rows, classes = probabilities.shape
    if rows == 0:
        return Estimates(0, None, "macro")
    predicted = scores.argmax(axis=1)
    chosen = predicted[:, None] == np.arange(classes)  # rows x classes
    tp = np.sum(probabilities * chosen, axis=0)
    expected = _class_metrics(tp, chosen.sum(axis=0).astype(np.float64), probabilities.sum(axis=0))
    per_class_auc = [expected_roc_auc(scores[:, c], probabilities[:, c]) for c in range(classes)]
    known_auc = [area for area in per_class_auc if area is not None]
    ranks = [_ranks(scores[:, c]) for c in range(classes)]
    drawn = [_draw_metrics(labels, chosen, ranks) for labels in _categorical_draws(probabilities)]
    spread = np.concatenate(drawn, axis=1)  # 4 x draws
    precision, recall, f1 = (
        _estimate(float(values.mean()), _spread(spread[i])) for i, values in enumerate(expected)
    )
    auc = _estimate(float(np.mean(known_auc)), _spread(spread[3])) if known_auc else None
    accuracy = _accuracy(probabilities[np.arange(rows), predicted])
    return Estimates(rows, None, "macro", accuracy, precision, recall, f1, auc)


def _categorical_draws(probabilities: FloatArray) -> Iterator[IntArray]:
    """Batches of label draws (class indices), each row's label from its probabilities."""
    rng = np.random.default_rng(SEED)
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative[:, -1] = 1.0  # rounding must not leave a draw past the last class
    for size in _chunks(*probabilities.shape):
        uniform = rng.random((size, len(probabilities)))
        yield (uniform[:, :, None] >= cumulative[None, :, :]).sum(axis=2)


def _draw_metrics(
    labels: IntArray, chosen: npt.NDArray[np.bool_], ranks: list[FloatArray]
) -> FloatArray:
    """Macro precision, recall, F1 and ROC AUC of each draw of labels: 4 x draws."""
    classes = chosen.shape[1]
    actual = labels[:, :, None] == np.arange(classes)  # draws x rows x classes
    tp = np.sum(actual & chosen[None, :, :], axis=1).astype(np.float64)
    counts = actual.sum(axis=1).astype(np.float64)
    predicted = np.broadcast_to(chosen.sum(axis=0).astype(np.float64), tp.shape)
    macro = _class_metrics(tp, predicted, counts).mean(axis=2)  # 3 x draws
    areas = np.stack([_areas(actual[:, :, c], ranks[c]) for c in range(classes)], axis=1)
    with np.errstate(invalid="ignore"):
        known = ~np.isnan(areas)
        auc = np.where(known.any(axis=1), np.nansum(areas, axis=1) / known.sum(axis=1), np.nan)
    return np.vstack([macro, auc])
