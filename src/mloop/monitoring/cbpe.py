"""Confidence-based performance estimation (CBPE): a classifier's performance before labels arrive.

A classifier's score says how sure it is. Once the scores are calibrated
(a score ``s`` becomes ``p(s)``, the share of the reference's rows scored
``s`` that were positive), each row of a window without labels is a coin:
its label is positive with probability ``p``, so its prediction is right
with probability ``p`` when it predicted positive and ``1 - p`` when it
predicted negative. Summed over the window, these give the expected
confusion matrix and so the expected metrics; this is NannyML's CBPE. The
formulas and their standard errors are in :mod:`mloop.monitoring.cbpe_estimates`.

:meth:`CBPE.fit` calibrates the scores on a labelled reference by isotonic
regression (``scipy.optimize.isotonic_regression`` over the reference's
distinct scores, ties averaged; between two of them the map is linear, and
beyond the reference's range it is the end's value: scikit-learn's
``IsotonicRegression(out_of_bounds="clip")``). A binary classifier gives
the probability of its positive class, one score per row; a multiclass one
(three classes or more) one column per class, each calibrated one-vs-rest
and the calibrated row then divided by its sum.

The intervals hold the sampling noise of the window, not the calibration's
own error (a small reference adds to it) nor concept drift: CBPE assumes
that ``P(label | score)`` is the reference's. Covariate shift (the inputs,
so the scores, move) is what it is built for; a change in the relation
between inputs and labels makes the estimate wrong, confidently.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mloop.errors import InvalidInput
from mloop.monitoring.cbpe_estimates import Comparison as Comparison
from mloop.monitoring.cbpe_estimates import Estimate as Estimate
from mloop.monitoring.cbpe_estimates import Estimates as Estimates
from mloop.monitoring.cbpe_estimates import binary_estimates, multiclass_estimates
from mloop.monitoring.cbpe_estimates import compare as compare
from mloop.monitoring.json_values import scalar

FloatArray = npt.NDArray[np.float64]

MIN_REFERENCE = 100
"""The fewest labelled reference rows :meth:`CBPE.fit` calibrates on."""

FORMAT = 1
"""The version of :meth:`CBPE.to_dict`'s layout."""


@dataclass(frozen=True)
class IsotonicMap:
    """A non-decreasing map from scores to probabilities, kept as its knots.

    Between two knots the map is linear; below the first and above the last
    it is the end's value.
    """

    scores: FloatArray
    probabilities: FloatArray

    @classmethod
    def fit(cls, scores: FloatArray, hits: npt.NDArray[np.bool_]) -> IsotonicMap:
        """The isotonic regression of ``hits`` (0 or 1) on ``scores``, ties averaged."""
        from scipy.optimize import isotonic_regression  # type: ignore[import-untyped]

        order = np.argsort(scores, kind="stable")
        distinct, first, counts = np.unique(scores[order], return_index=True, return_counts=True)
        means = np.add.reduceat(hits[order].astype(np.float64), first) / counts
        fitted = isotonic_regression(means, weights=counts.astype(np.float64)).x
        keep = np.ones(len(distinct), dtype=bool)  # only where the map bends
        keep[1:-1] = (fitted[:-2] != fitted[1:-1]) | (fitted[1:-1] != fitted[2:])
        return cls(distinct[keep], np.asarray(fitted[keep], dtype=np.float64))

    def __call__(self, scores: FloatArray) -> FloatArray:
        """The calibrated probability of each score."""
        return np.interp(scores, self.scores, self.probabilities)

    def to_dict(self) -> dict[str, list[float]]:
        """The knots as lists of floats (exact in JSON)."""
        return {"scores": self.scores.tolist(), "probabilities": self.probabilities.tolist()}

    @classmethod
    def from_dict(cls, data: Any) -> IsotonicMap:
        """The map :meth:`to_dict` gave, checked."""
        try:
            scores = np.asarray(data["scores"], dtype=np.float64)
            probabilities = np.asarray(data["probabilities"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"stored CBPE is incomplete or malformed: {err!r}") from None
        valid = (
            scores.ndim == 1
            and scores.shape == probabilities.shape
            and len(scores) > 0
            and bool(np.all(np.diff(scores) > 0))
            and bool(np.all(np.diff(probabilities) >= 0))
            and bool(np.all((probabilities >= 0) & (probabilities <= 1)))
        )
        if not valid:
            raise InvalidInput(
                "stored CBPE calibration must map increasing scores to non-decreasing "
                "probabilities in [0, 1], as many of each"
            )
        return cls(scores, probabilities)


def _score_array(scores: Any, name: str, columns: int | None) -> FloatArray:
    """Scores as probabilities: one per row (``columns`` None) or ``columns`` per row."""
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be numbers (probabilities)") from None
    if columns is None and array.ndim != 1:
        raise InvalidInput(
            f"{name} must be one probability per row (the positive class's) for a binary "
            f"classifier, got shape {array.shape}"
        )
    if columns is not None and (array.ndim != 2 or array.shape[1] != columns):
        raise InvalidInput(
            f"{name} must have one column per class ({columns}), got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise InvalidInput(f"{name} hold NaN or infinite values")
    if array.size and (array.min() < 0 or array.max() > 1):
        raise InvalidInput(
            f"{name} must be probabilities in [0, 1]; found {array.min()!r} to {array.max()!r}"
        )
    return array


def _reference_labels(labels: Any, rows: int) -> npt.NDArray[Any]:
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        raise InvalidInput(f"reference_labels must be a sequence, got {type(labels).__name__}")
    found = np.asarray([scalar(value) for value in labels], dtype=object)
    if len(found) != rows:
        raise InvalidInput(
            f"reference_scores has {rows} rows and reference_labels {len(found)}; "
            "give one label per score"
        )
    if any(value is None or (isinstance(value, float) and math.isnan(value)) for value in found):
        raise InvalidInput("reference_labels hold missing values; leave those rows out")
    if rows < MIN_REFERENCE:
        raise InvalidInput(
            f"the reference has {rows} rows; calibration needs at least {MIN_REFERENCE}"
        )
    return found


def _binary_classes(
    labels: npt.NDArray[Any], positive: Hashable | None, classes: Sequence[Hashable] | None
) -> tuple[Hashable, Hashable]:
    """The (negative, positive) classes of a binary reference."""
    seen = list(dict.fromkeys(labels))
    known = list(classes) if classes is not None else seen
    if classes is not None and (absent := [c for c in seen if c not in known]):
        raise InvalidInput(f"reference labels hold {absent[0]!r}, not one of classes {known}")
    if len(set(known)) > 2 or len(seen) > 2:
        raise InvalidInput(
            f"one score per row is for a binary classifier; the reference has classes {known}: "
            "give one column of scores per class"
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
    return negative, scalar(positive)


def _multiclass_classes(
    labels: npt.NDArray[Any], columns: int, positive: Hashable | None, classes: Any
) -> tuple[Hashable, ...]:
    """The classes of a multiclass reference, in the order of the score columns."""
    if positive is not None:
        raise InvalidInput("positive= is for binary classifiers (one score per row)")
    if columns < 3:
        raise InvalidInput(
            f"scores have {columns} columns; for two classes give the positive class's "
            "probability, one per row"
        )
    seen = list(dict.fromkeys(labels))
    if classes is None:
        try:
            classes = sorted(seen)
        except TypeError:
            classes = sorted(seen, key=str)
    known = tuple(scalar(c) for c in classes)
    if len(known) != columns or len(set(known)) != columns:
        raise InvalidInput(
            f"scores have {columns} columns for the classes {list(known)}; "
            "give classes= in the order of the columns"
        )
    if absent := [c for c in seen if c not in known]:
        raise InvalidInput(f"reference labels hold {absent[0]!r}, not one of classes {list(known)}")
    if missing := [c for c in known if c not in seen]:
        raise InvalidInput(
            f"class {missing[0]!r} never occurs in the reference labels; calibration needs "
            "each class"
        )
    return known


class CBPE:
    """Calibration maps, fitted on a labelled reference, that estimate performance from scores.

    Build it with :meth:`fit` (or :meth:`from_dict`). Each map is kept as its
    knots (the reference scores where the calibrated value changes, and
    those values), so it is small and stored exactly by :meth:`to_dict`.

    Attributes:
        maps: one :class:`IsotonicMap` (binary: the positive class's) or one per class.
        classes: binary: ``(negative, positive)``; multiclass: the classes
            in the order of the score columns.
        positive: the positive class of a binary classifier, else ``None``.
        reference_rows: the reference's size.

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
        maps: Sequence[IsotonicMap],
        *,
        classes: Sequence[Hashable],
        positive: Hashable | None,
        reference_rows: int,
    ) -> None:
        self.maps = tuple(maps)
        self.classes = tuple(classes)
        self.positive = positive
        self.reference_rows = reference_rows

    def __repr__(self) -> str:
        return (
            f"CBPE(classes={list(self.classes)!r}, positive={self.positive!r}, "
            f"reference_rows={self.reference_rows})"
        )

    @property
    def binary(self) -> bool:
        """Whether the classifier is binary (one score per row)."""
        return self.positive is not None

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
            reference_scores: the model's probability of the positive class for
                each reference row (binary), or one column per class (three or more).
            reference_labels: the rows' true classes; every class must occur.
            positive: the positive class of a binary classifier (default 1,
                when the classes are 0 and 1).
            classes: binary: the model's two classes, to check the labels
                against; multiclass: the classes in the order of the columns
                (default: sorted).

        Raises:
            InvalidInput: scores that are not probabilities or not one per
                label, missing labels, fewer than :data:`MIN_REFERENCE` rows,
                a class that never occurs (one class only), classes that do
                not match the columns, an unknown positive class.
        """
        scores = np.asarray(reference_scores, dtype=object)
        columns = scores.shape[1] if scores.ndim == 2 else None
        array = _score_array(reference_scores, "reference_scores", columns)
        labels = _reference_labels(reference_labels, len(array))
        if columns is None:
            negative, chosen = _binary_classes(labels, positive, classes)
            only = IsotonicMap.fit(array, labels == chosen)
            return cls(
                [only], classes=(negative, chosen), positive=chosen, reference_rows=len(array)
            )
        known = _multiclass_classes(labels, columns, positive, classes)
        maps = [IsotonicMap.fit(array[:, i], labels == c) for i, c in enumerate(known)]
        return cls(maps, classes=known, positive=None, reference_rows=len(array))

    def calibrate(self, scores: Any) -> FloatArray:
        """The calibrated probabilities: of the positive class (binary), or one column per class.

        A multiclass row is divided by its sum (a row all of whose calibrated
        values are 0 becomes uniform).

        Raises:
            InvalidInput: scores that are not probabilities, or not one per row
                (binary) or one column per class (multiclass).
        """
        columns = None if self.binary else len(self.classes)
        return self._calibrated(_score_array(scores, "scores", columns))

    def _calibrated(self, array: FloatArray) -> FloatArray:
        if self.binary:
            return self.maps[0](array)
        found = np.column_stack([fit(array[:, i]) for i, fit in enumerate(self.maps)])
        found = found.reshape(len(array), len(self.maps))
        totals = found.sum(axis=1, keepdims=True)
        uniform = np.full_like(found, 1 / len(self.maps))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, found / totals, uniform)

    def estimate(self, scores: Any, *, threshold: float | None = None) -> Estimates:
        """The expected performance of a window of scores, each metric with its 95% interval.

        Args:
            scores: as the reference's: the probability of the positive class
                for each row, or one column per class.
            threshold: binary: the score at and above which the model predicts
                the positive class (default 0.5). Multiclass predicts the
                highest score's class and takes no threshold.

        Raises:
            InvalidInput: scores that are not probabilities or of the wrong
                shape, a threshold outside [0, 1] or given for multiclass.
        """
        if not self.binary:
            if threshold is not None:
                raise InvalidInput("a multiclass model predicts its highest score: no threshold")
            array = _score_array(scores, "scores", len(self.classes))
            return multiclass_estimates(array, self._calibrated(array))
        cut = 0.5 if threshold is None else threshold
        if isinstance(cut, bool) or not isinstance(cut, (int, float)) or not 0 <= cut <= 1:
            raise InvalidInput(f"threshold must be a number in [0, 1], got {threshold!r}")
        array = _score_array(scores, "scores", None)
        return binary_estimates(array, self._calibrated(array), float(cut))

    def to_dict(self) -> dict[str, Any]:
        """The fitted maps as JSON-ready values; :meth:`from_dict` gives them back exactly.

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
            "classes": [scalar(c) for c in self.classes],
            "positive": scalar(self.positive),
            "reference_rows": self.reference_rows,
            "calibration": [fit.to_dict() for fit in self.maps],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CBPE:
        """The CBPE :meth:`to_dict` gave.

        Raises:
            InvalidInput: a mapping that is not a stored CBPE, or maps that are
                not increasing scores to probabilities, one per class.
        """
        if not isinstance(data, Mapping) or data.get("method") != "cbpe":
            raise InvalidInput("not a stored CBPE: expected a mapping with method 'cbpe'")
        if data.get("format") != FORMAT:
            raise InvalidInput(
                f"stored CBPE format {data.get('format')!r}; this mloop reads {FORMAT}"
            )
        try:
            classes, positive = list(data["classes"]), data["positive"]
            rows = int(data["reference_rows"])
            stored = list(data["calibration"])
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"stored CBPE is incomplete or malformed: {err!r}") from None
        maps = [IsotonicMap.from_dict(item) for item in stored]
        binary = positive is not None and len(classes) == 2 and classes[1] == positive
        if not (binary and len(maps) == 1) and not (
            positive is None and len(classes) >= 3 and len(maps) == len(classes)
        ):
            raise InvalidInput(
                "stored CBPE must hold [negative, positive] classes and one map, or three "
                "classes or more, no positive and a map per class"
            )
        return cls(maps, classes=classes, positive=positive, reference_rows=rows)
