"""Realised performance: how good a model's predictions were, once their labels arrived.

:func:`join_labels` turns a prediction log table (the columns of
``mloop.serving.predictions``: ``request_id``, ``time``, ``version``,
``outputs``, ``label``, ...) into one row per prediction with its label;
:func:`performance` scores predictions against labels; and
:func:`windowed_performance` does it per model version and time window.

(The module is not named ``performance``: that is the function's name in
:mod:`mloop.monitoring`, and a submodule would take its place there.)

The metrics, with NumPy and SciPy (equal to scikit-learn's on the same data):

==============  ================================================================
metric          definition
==============  ================================================================
``accuracy``    share of predictions equal to their label
``precision``   ``tp / (tp + fp)`` of the positive class (binary), or the
                unweighted mean over classes (multiclass, "macro"); 0 when
                nothing was predicted as the class
``recall``      ``tp / (tp + fn)``, averaged the same way; 0 when the class
                never occurs
``f1``          ``2 tp / (2 tp + fp + fn)``, averaged the same way
``roc_auc``     area under the ROC curve of the scores (ties count half);
                multiclass: one-vs-rest, the mean over the classes that occur
                in the labels. Needs ``scores`` and both a positive and a
                negative label.
``log_loss``    ``-mean(log p(label))``, ``p`` clipped to ``[eps, 1 - eps]``
                (``eps`` of float64); needs probabilities as ``scores``
``mae``         ``mean(|y - yhat|)``
``rmse``        ``sqrt(mean((y - yhat) ** 2))``
``mape``        ``mean(|y - yhat| / |y|)`` over the rows whose target is not 0
                (those are left out: a zero target has no relative error)
``r2``          ``1 - sum((y - yhat) ** 2) / sum((y - mean(y)) ** 2)``; none
                when the targets are all equal
==============  ================================================================

Classification is binary when ``positive`` is given, or when the labels and
predictions are all 0 and 1 (or ``False`` and ``True``: the positive class is
1); with more than two classes it is multiclass (macro averages); two classes
other than 0 and 1 need ``positive``. Rows whose label is missing (``None``,
``NaN``) are left out and counted (``missing``); a missing prediction is an
error. A metric that cannot be computed (no labelled row, no scores, a single
class for ROC AUC) is ``None`` and left out of :meth:`PerformanceReport.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from mloop.errors import InvalidInput
from mloop.monitoring.json_values import scalar
from mloop.monitoring.label_join import as_list, check_columns, is_missing
from mloop.monitoring.label_join import join_labels as join_labels

Task = Literal["classification", "regression"]
FloatArray = npt.NDArray[np.float64]

METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "mae",
    "rmse",
    "mape",
    "r2",
)
"""The metrics a :class:`PerformanceReport` may hold, in the order of its ``metrics()``."""

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class PerformanceReport:
    """The realised metrics of some predictions against their labels.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        labelled: rows with a label, which the metrics are computed on.
        missing: rows left out because their label was missing.
        average: ``"binary"`` or ``"macro"`` for classification, else ``None``.
        positive: the positive class of a binary classification.
        classes: the classes seen (labels and predictions), sorted.
        accuracy, precision, recall, f1, roc_auc, log_loss, mae, rmse, mape, r2:
            the metrics of the task (see the module's table); ``None`` where
            they do not apply or cannot be computed.

    Example:
        >>> report = performance([1, 0, 1, None], [1, 1, 1, 0])
        >>> report.metrics()  # doctest: +NORMALIZE_WHITESPACE
        {'accuracy': 0.6666666666666666, 'precision': 0.6666666666666666,
         'recall': 1.0, 'f1': 0.8, 'labelled': 3.0}
        >>> report.missing
        1
    """

    task: Task
    labelled: int
    missing: int = 0
    average: str | None = None
    positive: Hashable | None = None
    classes: tuple[Hashable, ...] = ()
    accuracy: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    roc_auc: float | None = None
    log_loss: float | None = None
    mae: float | None = None
    rmse: float | None = None
    mape: float | None = None
    r2: float | None = None

    def metrics(self) -> dict[str, float]:
        """The metrics that could be computed, by name, and ``labelled`` (as a float)."""
        found = {name: getattr(self, name) for name in METRICS}
        values = {name: float(value) for name, value in found.items() if value is not None}
        values["labelled"] = float(self.labelled)
        return values

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready: classes as plain Python values, unknown metrics as ``None``."""
        data = asdict(self)
        data["classes"] = [scalar(value) for value in self.classes]
        data["positive"] = scalar(self.positive)
        return data


@dataclass(frozen=True)
class WindowPerformance:
    """The performance of one model version in one time window.

    Attributes:
        start: the window's first moment.
        end: the first moment after the window.
        version: the model version (``None`` when the table has no version column).
        rows: the window's predictions, labelled or not.
        report: the metrics of its labelled rows.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    version: str | None
    rows: int
    report: PerformanceReport

    @property
    def labelled(self) -> int:
        """The window's rows that have a label."""
        return self.report.labelled

    def metrics(self) -> dict[str, float]:
        """The report's metrics (see :meth:`PerformanceReport.metrics`)."""
        return self.report.metrics()

    def to_dict(self) -> dict[str, Any]:
        """The window, JSON-ready, times as ISO text."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "version": self.version,
            "rows": self.rows,
            "report": self.report.to_dict(),
        }


def _values(values: Any, name: str) -> npt.NDArray[Any]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise InvalidInput(f"{name} must be a sequence of values, got {type(values).__name__}")
    array = np.asarray(
        values.to_numpy() if hasattr(values, "to_numpy") else list(values), dtype=object
    )
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _scores(scores: Any, rows: int) -> FloatArray:
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("scores must be numbers (probabilities)") from None
    if array.ndim not in (1, 2) or len(array) != rows:
        raise InvalidInput(
            f"scores must have one entry per prediction ({rows}), one-dimensional "
            f"(binary) or one column per class; got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise InvalidInput("scores hold NaN or infinite values; give a score for every prediction")
    return array


def performance(
    y_true: Any,
    y_pred: Any,
    *,
    task: Task = "classification",
    scores: Any = None,
    positive: Hashable | None = None,
    classes: Sequence[Hashable] | None = None,
) -> PerformanceReport:
    """The realised metrics of predictions ``y_pred`` against labels ``y_true``.

    Args:
        y_true: the labels; ``None`` or ``NaN`` for a row not labelled yet.
        y_pred: the predictions, one per label.
        task: ``"classification"`` or ``"regression"``.
        scores: classification only: the probability of the positive class
            (binary), or one column per class in the order of ``classes``
            (multiclass); gives ``roc_auc`` and, for probabilities, ``log_loss``.
        positive: the positive class of a binary classification.
        classes: the classes in the order of the columns of a 2-D ``scores``
            (default: the sorted classes seen in labels and predictions).

    Raises:
        InvalidInput: before anything is computed: an unknown task, lengths
            that differ, a missing prediction, non-numeric regression values,
            scores of the wrong shape or not finite, a label or prediction
            not among ``classes``, an unknown positive class, or two classes
            other than 0/1 without ``positive``.

    Example:
        >>> report = performance([3.0, 5.0, 0.0], [2.0, 5.0, 1.0], task="regression")
        >>> report.metrics()  # doctest: +NORMALIZE_WHITESPACE
        {'mae': 0.6666666666666666, 'rmse': 0.816496580927726,
         'mape': 0.16666666666666666, 'r2': 0.8421052631578947, 'labelled': 3.0}
    """
    if task not in ("classification", "regression"):
        raise InvalidInput(f"task must be 'classification' or 'regression', got {task!r}")
    truth, predicted = _values(y_true, "y_true"), _values(y_pred, "y_pred")
    if len(truth) != len(predicted):
        raise InvalidInput(
            f"y_true has {len(truth)} values and y_pred {len(predicted)}; "
            "give one label per prediction"
        )
    if any(is_missing(value) for value in predicted):
        raise InvalidInput("y_pred holds missing values; every row needs a prediction")
    score_array = None
    if scores is not None:
        if task == "regression":
            raise InvalidInput("scores apply to classification only")
        score_array = _scores(scores, len(truth))
    keep = np.array([not is_missing(value) for value in truth], dtype=bool)
    missing = int((~keep).sum())
    truth, predicted = truth[keep], predicted[keep]
    if task == "regression":
        return _regression(_numbers(truth, "y_true"), _numbers(predicted, "y_pred"), missing)
    if score_array is not None:
        score_array = score_array[keep]
    return _classification(truth, predicted, score_array, positive, classes, missing)


def _numbers(values: npt.NDArray[Any], name: str) -> FloatArray:
    try:
        array = values.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be numbers for a regression") from None
    if not np.isfinite(array).all():
        raise InvalidInput(f"{name} holds infinite values")
    return array


def _regression(truth: FloatArray, predicted: FloatArray, missing: int) -> PerformanceReport:
    rows = len(truth)
    if rows == 0:
        return PerformanceReport("regression", 0, missing)
    error = truth - predicted
    nonzero = truth != 0
    mape = (
        float(np.mean(np.abs(error[nonzero]) / np.abs(truth[nonzero]))) if nonzero.any() else None
    )
    spread = float(np.sum((truth - truth.mean()) ** 2))
    r2 = 1.0 - float(np.sum(error**2)) / spread if spread > 0 else None
    return PerformanceReport(
        "regression",
        rows,
        missing,
        mae=float(np.mean(np.abs(error))),
        rmse=math.sqrt(float(np.mean(error**2))),
        mape=mape,
        r2=r2,
    )


def _sorted_classes(values: npt.NDArray[Any]) -> list[Hashable]:
    found = list(pd.unique(values))
    try:
        return sorted(found)
    except TypeError:  # mixed kinds (1 and "a"): by their text
        return sorted(found, key=str)


def _binary_positive(
    seen: list[Hashable], positive: Hashable | None, given: Sequence[Hashable] | None
) -> Hashable | None:
    """The positive class when the task is binary, ``None`` when it is multiclass."""
    known = list(given) if given is not None else seen
    if given is not None and (absent := [c for c in seen if c not in known]):
        raise InvalidInput(f"{absent[0]!r} is a label or prediction not among classes {known}")
    if positive is not None:
        if given is not None and positive not in known:
            raise InvalidInput(f"positive={positive!r} is not one of the classes {known}")
        if len(set(known) | {positive}) > 2:
            raise InvalidInput(
                f"positive={positive!r} makes it binary, "
                f"but there are more than two classes: {seen}"
            )
        return positive
    if len(known) > 2:
        return None
    if all(_zero_or_one(value) for value in known):
        return 1
    raise InvalidInput(f"two classes {known} that are not 0 and 1: give positive= (one of them)")


def _zero_or_one(value: Any) -> bool:
    """0 or 1 as a number or a boolean (labels read back from JSON or a float column: 1.0)."""
    return isinstance(value, (bool, int, float, np.number, np.bool_)) and value in (0, 1)


def _classification(
    truth: npt.NDArray[Any],
    predicted: npt.NDArray[Any],
    scores: FloatArray | None,
    positive: Hashable | None,
    given: Sequence[Hashable] | None,
    missing: int,
) -> PerformanceReport:
    seen = _sorted_classes(np.concatenate([truth, predicted]))
    chosen = _binary_positive(seen, positive, given)
    classes = list(given) if given is not None else seen
    if (
        chosen is None
        and scores is not None
        and scores.ndim == 2
        and scores.shape[1] != len(classes)
    ):
        raise InvalidInput(
            f"scores have {scores.shape[1]} columns for {len(classes)} classes {classes}; "
            "give classes= in the order of the columns"
        )
    if scores is not None and (scores.ndim == 2) == (chosen is not None):
        shape = (
            "one column per class" if chosen is None else "one score per row (the positive class's)"
        )
        raise InvalidInput(f"scores must have {shape}, got shape {scores.shape}")
    average = "binary" if chosen is not None else "macro"
    if len(truth) == 0:
        return PerformanceReport("classification", 0, missing, average, chosen, tuple(seen))
    hits = truth == predicted
    if chosen is not None:
        precision, recall, f1 = _counts(truth == chosen, predicted == chosen)
    else:
        per_class = [_counts(truth == c, predicted == c) for c in classes]
        precision, recall, f1 = (float(np.mean(column)) for column in zip(*per_class, strict=True))
    roc_auc, loss = _probabilistic(truth, scores, chosen, classes)
    return PerformanceReport(
        "classification",
        len(truth),
        missing,
        average,
        chosen,
        tuple(seen),
        accuracy=float(np.mean(hits)),
        precision=precision,
        recall=recall,
        f1=f1,
        roc_auc=roc_auc,
        log_loss=loss,
    )


def _counts(
    actual: npt.NDArray[np.bool_], predicted: npt.NDArray[np.bool_]
) -> tuple[float, float, float]:
    """Precision, recall and F1 of one class; 0 where a denominator is 0 (as scikit-learn)."""
    tp = float(np.sum(actual & predicted))
    fp = float(np.sum(~actual & predicted))
    fn = float(np.sum(actual & ~predicted))
    return (
        tp / (tp + fp) if tp + fp else 0.0,
        tp / (tp + fn) if tp + fn else 0.0,
        2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
    )


def roc_auc(actual: npt.NDArray[np.bool_], scores: FloatArray) -> float | None:
    """The area under the ROC curve: the Mann-Whitney U of the scores over ``n1 * n0``.

    Ties between a positive and a negative count half, as the trapezoidal
    area does; ``None`` without a positive or without a negative.

    Example:
        >>> import numpy as np
        >>> roc_auc(np.array([True, False, True, False]), np.array([0.9, 0.1, 0.4, 0.4]))
        0.875
    """
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    positives = int(actual.sum())
    negatives = len(actual) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[actual].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _probabilistic(
    truth: npt.NDArray[Any],
    scores: FloatArray | None,
    positive: Hashable | None,
    classes: list[Hashable],
) -> tuple[float | None, float | None]:
    """ROC AUC and, when the scores are probabilities, log loss."""
    if scores is None:
        return None, None
    probabilities = bool(((scores >= 0) & (scores <= 1)).all())
    if positive is not None:
        actual = truth == positive
        area = roc_auc(actual, scores)
        if not probabilities:
            return area, None
        clipped = np.clip(scores, _EPS, 1 - _EPS)
        return area, float(-np.mean(np.where(actual, np.log(clipped), np.log1p(-clipped))))
    areas = [roc_auc(truth == c, scores[:, i]) for i, c in enumerate(classes)]
    found = [area for area in areas if area is not None]
    area = float(np.mean(found)) if found else None
    index = {c: i for i, c in enumerate(classes)}
    if not probabilities or any(value not in index for value in truth):
        return area, None
    rows = np.clip(scores, _EPS, 1 - _EPS)
    rows = rows / rows.sum(axis=1, keepdims=True)
    taken = rows[np.arange(len(truth)), [index[value] for value in truth]]
    return area, float(-np.mean(np.log(taken)))


def windowed_performance(
    table: pd.DataFrame,
    *,
    window: str = "1h",
    time_column: str = "time",
    version_column: str | None = "version",
    label_column: str = "label",
    prediction_column: str = "prediction",
    score_column: str | None = None,
    task: Task = "classification",
    positive: Hashable | None = None,
    classes: Sequence[Hashable] | None = None,
) -> list[WindowPerformance]:
    """The performance of each model version in each time window, oldest window first.

    ``table`` is one row per prediction (as :func:`join_labels` gives it).
    Windows are pandas' (``pd.Grouper(freq=window)``: ``"15min"``, ``"1h"``,
    ``"1D"``), aligned to the first day's midnight; windows without rows are
    left out, windows whose rows have no label yet are kept (``labelled`` 0).

    Args:
        table: the predictions with their labels.
        window: the window length, a pandas frequency.
        time_column: the column of prediction times (datetimes).
        version_column: the column of model versions; ``None`` for one series.
        label_column: the column of labels.
        prediction_column: the column of predictions.
        score_column: the column of scores (a number, or a list per class).
        task: as :func:`performance`, for every window.
        positive: as :func:`performance`, for every window.
        classes: as :func:`performance`, for every window.

    Raises:
        InvalidInput: a missing column, times that are not datetimes, an
            unknown window, or what :func:`performance` refuses.

    Example:
        >>> import pandas as pd
        >>> times = ["2026-12-05T10:10", "2026-12-05T10:50", "2026-12-05T11:05"]
        >>> table = pd.DataFrame({"time": pd.to_datetime(times, utc=True), "version": "3",
        ...                       "prediction": [1, 0, 1], "label": [1, 1, None]})
        >>> for w in windowed_performance(table):
        ...     print(w.start.hour, w.version, w.rows, w.metrics()["labelled"])
        10 3 2 2.0
        11 3 1 0.0
        >>> windowed_performance(table)[0].metrics()["recall"]
        0.5
    """
    needed = [time_column, label_column, prediction_column]
    needed += [name for name in (version_column, score_column) if name is not None]
    check_columns(table, needed, "table")
    if not pd.api.types.is_datetime64_any_dtype(table[time_column]):
        raise InvalidInput(
            f"column {time_column!r} must hold datetimes, got {table[time_column].dtype}"
        )
    try:
        step = pd.tseries.frequencies.to_offset(window)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"window={window!r} is not a pandas frequency ('15min', '1h', '1D')"
        ) from None
    keys: list[Any] = [pd.Grouper(key=time_column, freq=step)]
    if version_column is not None:
        keys.append(version_column)
    found = []
    for group_key, rows in table.groupby(keys, sort=True, dropna=False):
        if rows.empty:
            continue
        parts = group_key if isinstance(group_key, tuple) else (group_key,)
        start = pd.Timestamp(cast(Any, parts[0]))
        scores = None if score_column is None else _column_scores(rows[score_column])
        report = performance(
            rows[label_column],
            rows[prediction_column],
            task=task,
            scores=scores,
            positive=positive,
            classes=classes,
        )
        version = None if version_column is None or is_missing(parts[1]) else str(parts[1])
        found.append(WindowPerformance(start, start + step, version, len(rows), report))
    return found


def _column_scores(column: pd.Series[Any]) -> FloatArray:
    """A column of scores (numbers, or a list per class) as one array."""
    try:
        array = np.array([as_list(value) for value in column], dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(
            "the score column must hold a number per row, or a list of one score per class"
        ) from None
    return array[:, 0] if array.ndim == 2 and array.shape[1] == 1 else array
