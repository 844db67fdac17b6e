"""Confidence-based performance estimation (CBPE): a classifier's performance before labels arrive.

A binary classifier's score says how sure it is. Once the scores are
calibrated (a score ``s`` becomes ``p(s)``, the share of positives among
reference rows scored ``s``), each row of a window without labels is a
coin: its label is positive with probability ``p``, so its prediction
(positive when ``s >= threshold``) is right with probability ``c = p`` when
it predicted positive and ``c = 1 - p`` when it predicted negative. This is
NannyML's CBPE.

:meth:`CBPE.fit` calibrates the scores on a labelled reference by isotonic
regression (``scipy.optimize.isotonic_regression`` over the reference's
distinct scores, ties averaged; between two of them the map is linear, and
beyond the reference's range it is the end's value: scikit-learn's
``IsotonicRegression(out_of_bounds="clip")``). :meth:`CBPE.estimate` gives
the expected metrics of a window from the expected confusion matrix::

    TP = sum(p over predicted positives)    FP = sum(1 - p over predicted positives)
    FN = sum(p over predicted negatives)    TN = sum(1 - p over predicted negatives)

    accuracy = (TP + TN) / n      precision = TP / (TP + FP)
    recall = TP / (TP + FN)       f1 = 2 TP / (2 TP + FP + FN)

and ROC AUC as the area under the expected ROC curve: at each distinct
score, from the highest, TPR is the sum of ``p`` over the rows scored at or
above it over the sum of all ``p``, FPR likewise with ``1 - p``.

Each estimate has a standard error: how far the realised metric of this
window would fall from it if the calibration were exact, the labels being
independent Bernoulli draws of probability ``p``. With ``m`` the predicted
positives, ``A = TP`` and ``B = FN`` (sums of independent Bernoullis, of
variances ``VA = sum(p (1 - p))`` over the predicted positives and ``VB``
over the predicted negatives):

- accuracy: ``sqrt(sum(c (1 - c))) / n`` (exact);
- precision: ``sqrt(VA) / m`` (exact: ``m`` does not depend on the labels);
- recall ``A / (A + B)``: by the delta method,
  ``sqrt(B**2 VA + A**2 VB) / (A + B)**2``;
- F1 ``2 A / (A + m + B)``: by the delta method,
  ``2 sqrt((m + B)**2 VA + A**2 VB) / (A + m + B)**2``;
- ROC AUC: the standard deviation of the realised AUC over
  :data:`BOOTSTRAP_DRAWS` label draws from ``p`` (a parametric bootstrap
  with the fixed seed :data:`SEED`, so an estimate is reproducible).

The 95% interval is the estimate plus or minus 1.96 standard errors, clipped
to [0, 1]. It holds the sampling noise of the window, not the calibration's
own error (a small reference widens the latter) nor concept drift: CBPE
assumes that ``P(label | score)`` is the reference's. Covariate shift (the
inputs, so the scores, move) is what it is built for; a change in the
relation between inputs and labels makes the estimate wrong, confidently.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mloop.errors import InvalidInput
from mloop.monitoring.realised_performance import PerformanceReport

FloatArray = npt.NDArray[np.float64]

MIN_REFERENCE = 100
"""The fewest labelled reference rows :meth:`CBPE.fit` calibrates on."""

BOOTSTRAP_DRAWS = 200
"""Label draws of the parametric bootstrap of the ROC AUC's standard error."""

SEED = 0
"""The seed of that bootstrap."""

Z95 = 1.959963984540054
"""The standard normal's 97.5% quantile: the half-width of a 95% interval, in standard errors."""

ESTIMATED = ("accuracy", "precision", "recall", "f1", "roc_auc")
"""The metrics CBPE estimates."""

FORMAT = 1
"""The version of :meth:`CBPE.to_dict`'s layout."""

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

    A metric is ``None`` when it is undefined for the window: precision
    without a predicted positive, recall and ROC AUC when every calibrated
    probability is 0 (or, for ROC AUC, every one is 1), all of them for an
    empty window.

    Attributes:
        rows: the window's size.
        threshold: the score at and above which a row is predicted positive.
        accuracy, precision, recall, f1, roc_auc: the estimates.
    """

    rows: int
    threshold: float
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


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _probabilities(scores: Any, name: str) -> FloatArray:
    """Scores as a 1-D array of probabilities, or a clear refusal."""
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{name} must be numbers (probabilities of the positive class)"
        ) from None
    if array.ndim == 2:
        raise InvalidInput(
            f"{name} have one column per class (shape {array.shape}); CBPE estimates binary "
            "classifiers: give the positive class's probability, one per row"
        )
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one probability per row, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise InvalidInput(f"{name} hold NaN or infinite values")
    if len(array) and (array.min() < 0 or array.max() > 1):
        raise InvalidInput(
            f"{name} must be probabilities in [0, 1]; found {array.min()!r} to {array.max()!r}"
        )
    return array


def _classes(
    labels: npt.NDArray[Any], positive: Hashable | None, classes: Sequence[Hashable] | None
) -> tuple[Hashable, Hashable]:
    """The (negative, positive) classes of a binary reference."""
    seen = list(dict.fromkeys(_plain(value) for value in labels))
    known = list(classes) if classes is not None else seen
    if classes is not None and (absent := [c for c in seen if c not in known]):
        raise InvalidInput(f"reference labels hold {absent[0]!r}, not one of classes {known}")
    if len(set(known)) > 2 or len(seen) > 2:
        raise InvalidInput(
            "CBPE estimates binary classifiers; "
            f"the reference has classes {sorted(map(str, known))}"
        )
    if len(seen) < 2:
        raise InvalidInput(
            f"the reference labels hold one class only ({seen}); calibration needs both"
        )
    if positive is None:
        if not all(isinstance(c, (bool, int, float)) and c in (0, 1) for c in seen):
            raise InvalidInput(f"classes {seen} are not 0 and 1: give positive= (one of them)")
        positive = 1
    if positive not in seen:
        raise InvalidInput(f"positive={positive!r} is not one of the reference's classes {seen}")
    negative = next(c for c in seen if c != positive)
    return negative, _plain(positive)


class CBPE:
    """A calibration map, fitted on a labelled reference, that estimates performance from scores.

    Build it with :meth:`fit` (or :meth:`from_dict`); the map is kept as its
    knots (the reference scores where the calibrated value changes, and
    those values), so it is small and stored exactly by :meth:`to_dict`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> scores = rng.random(2000)
        >>> labels = (rng.random(2000) < scores).astype(int)  # calibrated scores
        >>> cbpe = CBPE.fit(scores, labels)
        >>> estimates = cbpe.estimate(rng.random(500) ** 2)  # a window of lower scores
        >>> round(estimates.accuracy.value, 2), estimates.rows
        (0.8, 500)
    """

    def __init__(
        self,
        knots: FloatArray,
        probabilities: FloatArray,
        *,
        positive: Hashable,
        negative: Hashable,
        reference_rows: int,
    ) -> None:
        self.knots = knots
        self.probabilities = probabilities
        self.positive = positive
        self.negative = negative
        self.reference_rows = reference_rows

    def __repr__(self) -> str:
        return (
            f"CBPE(positive={self.positive!r}, negative={self.negative!r}, "
            f"reference_rows={self.reference_rows}, knots={len(self.knots)})"
        )

    @classmethod
    def fit(
        cls,
        reference_scores: Any,
        reference_labels: Any,
        *,
        positive: Hashable | None = None,
        classes: Sequence[Hashable] | None = None,
    ) -> CBPE:
        """Calibrate the scores of a labelled reference.

        Args:
            reference_scores: the probability of the positive class the model
                gave each reference row (in [0, 1]).
            reference_labels: the rows' true classes; both must occur.
            positive: the positive class (default 1, when the classes are 0 and 1).
            classes: the model's two classes, when the labels are to be checked
                against them.

        Raises:
            InvalidInput: scores that are not probabilities or not one per
                label, missing labels, fewer than :data:`MIN_REFERENCE` rows,
                one class only, more than two classes, an unknown positive class.
        """
        from scipy.optimize import isotonic_regression  # type: ignore[import-untyped]

        scores = _probabilities(reference_scores, "reference_scores")
        labels = np.asarray(list(reference_labels), dtype=object)
        if len(labels) != len(scores):
            raise InvalidInput(
                f"reference_scores has {len(scores)} rows and reference_labels {len(labels)}; "
                "give one label per score"
            )
        if any(
            value is None or (isinstance(value, float) and math.isnan(value)) for value in labels
        ):
            raise InvalidInput("reference_labels hold missing values; leave those rows out")
        if len(scores) < MIN_REFERENCE:
            raise InvalidInput(
                f"the reference has {len(scores)} rows; calibration needs at least {MIN_REFERENCE}"
            )
        negative, chosen = _classes(labels, positive, classes)
        order = np.argsort(scores, kind="stable")
        ordered = scores[order]
        hits = (labels[order] == chosen).astype(np.float64)
        distinct, first, counts = np.unique(ordered, return_index=True, return_counts=True)
        means = np.add.reduceat(hits, first) / counts
        fitted = isotonic_regression(means, weights=counts.astype(np.float64), increasing=True).x
        keep = np.ones(len(distinct), dtype=bool)  # only where the map bends
        keep[1:-1] = (fitted[:-2] != fitted[1:-1]) | (fitted[1:-1] != fitted[2:])
        return cls(
            distinct[keep],
            np.asarray(fitted[keep], dtype=np.float64),
            positive=chosen,
            negative=negative,
            reference_rows=len(scores),
        )

    def calibrate(self, scores: Any) -> FloatArray:
        """The calibrated probability of the positive class of each score.

        Raises:
            InvalidInput: scores that are not probabilities.
        """
        return np.interp(_probabilities(scores, "scores"), self.knots, self.probabilities)

    def estimate(self, scores: Any, *, threshold: float = 0.5) -> Estimates:
        """The expected performance of a window of scores, each metric with its 95% interval.

        Args:
            scores: the model's probability of the positive class for each row.
            threshold: the score at and above which the model predicts the positive class.

        Raises:
            InvalidInput: scores that are not probabilities, a threshold outside [0, 1].
        """
        if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise InvalidInput(f"threshold must be a number in [0, 1], got {threshold!r}")
        raw = _probabilities(scores, "scores")
        rows = len(raw)
        if rows == 0:
            return Estimates(0, float(threshold))
        p = np.interp(raw, self.knots, self.probabilities)
        predicted = raw >= threshold
        correct = np.where(predicted, p, 1 - p)
        variance = p * (1 - p)
        m = float(predicted.sum())
        a, b = float(p[predicted].sum()), float(p[~predicted].sum())
        va, vb = float(variance[predicted].sum()), float(variance[~predicted].sum())
        accuracy = _estimate(
            float(correct.mean()), math.sqrt(float(np.sum(correct * (1 - correct)))) / rows
        )
        precision = _estimate(a / m, math.sqrt(va) / m) if m > 0 else None
        recall = None
        if a + b > 0:
            recall = _estimate(a / (a + b), math.sqrt(b * b * va + a * a * vb) / (a + b) ** 2)
        f1 = None
        if a + m + b > 0:
            spread = 2 * math.sqrt((m + b) ** 2 * va + a * a * vb) / (a + m + b) ** 2
            f1 = _estimate(2 * a / (a + m + b), spread)
        return Estimates(rows, float(threshold), accuracy, precision, recall, f1, _auc(raw, p))

    def to_dict(self) -> dict[str, Any]:
        """The fitted map as JSON-ready values; :meth:`from_dict` gives it back exactly.

        Example:
            >>> import json, numpy as np
            >>> rng = np.random.default_rng(1)
            >>> scores = rng.random(300)
            >>> cbpe = CBPE.fit(scores, (rng.random(300) < scores).astype(int))
            >>> again = CBPE.from_dict(json.loads(json.dumps(cbpe.to_dict())))
            >>> again.to_dict() == cbpe.to_dict()
            True
        """
        return {
            "method": "cbpe",
            "format": FORMAT,
            "positive": _plain(self.positive),
            "negative": _plain(self.negative),
            "reference_rows": self.reference_rows,
            "calibration": {
                "scores": self.knots.tolist(),
                "probabilities": self.probabilities.tolist(),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CBPE:
        """The CBPE :meth:`to_dict` gave.

        Raises:
            InvalidInput: a mapping that is not a stored CBPE, or a map that is
                not increasing scores to probabilities.
        """
        if not isinstance(data, Mapping) or data.get("method") != "cbpe":
            raise InvalidInput("not a stored CBPE: expected a mapping with method 'cbpe'")
        if data.get("format") != FORMAT:
            raise InvalidInput(
                f"stored CBPE format {data.get('format')!r}; this mloop reads {FORMAT}"
            )
        try:
            calibration = data["calibration"]
            knots = np.asarray(calibration["scores"], dtype=np.float64)
            probabilities = np.asarray(calibration["probabilities"], dtype=np.float64)
            positive, negative = data["positive"], data["negative"]
            rows = int(data["reference_rows"])
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"stored CBPE is incomplete or malformed: {err!r}") from None
        valid = (
            knots.ndim == 1
            and knots.shape == probabilities.shape
            and len(knots) > 0
            and bool(np.all(np.diff(knots) > 0))
            and bool(np.all(np.diff(probabilities) >= 0))
            and bool(np.all((probabilities >= 0) & (probabilities <= 1)))
        )
        if not valid:
            raise InvalidInput(
                "stored CBPE calibration must map increasing scores to non-decreasing "
                "probabilities in [0, 1], as many of each"
            )
        return cls(knots, probabilities, positive=positive, negative=negative, reference_rows=rows)


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


def _auc(scores: FloatArray, probabilities: FloatArray) -> Estimate | None:
    """The expected ROC AUC and its parametric-bootstrap standard error."""
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    value = expected_roc_auc(scores, probabilities)
    if value is None:
        return None
    rows = len(scores)
    ranks = rankdata(scores)
    rng = np.random.default_rng(SEED)
    chunk = max(1, _BOOTSTRAP_CELLS // rows)
    areas = []
    for start in range(0, BOOTSTRAP_DRAWS, chunk):
        draws = rng.random((min(chunk, BOOTSTRAP_DRAWS - start), rows)) < probabilities
        positives = draws.sum(axis=1).astype(np.float64)
        negatives = rows - positives
        usable = (positives > 0) & (negatives > 0)
        rank_sums = draws[usable] @ ranks
        n1, n0 = positives[usable], negatives[usable]
        areas.append((rank_sums - n1 * (n1 + 1) / 2) / (n1 * n0))
    found = np.concatenate(areas)
    error = float(np.std(found, ddof=1)) if len(found) > 1 else 0.0
    return _estimate(value, error)
