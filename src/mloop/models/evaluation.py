"""``mloop.evaluate``: standard metrics, per-slice metrics, fairness and feature importance.

Example:
    >>> import mloop, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> data = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 5, "label": [0, 0, 1, 1] * 5})
    >>> model = LogisticRegression().fit(data[["x"]], data["label"])
    >>> result = mloop.evaluate(model, data, targets="label", task="classification")
    >>> result.metrics["accuracy"]
    1.0
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.context.context import Context
from mloop.data import Dataset
from mloop.data import get as get_dataset
from mloop.entities import EvaluationRecord, ModelVersion
from mloop.errors import InvalidInput
from mloop.models import metrics as m
from mloop.models.api import load
from mloop.models.backend import backend
from mloop.models.fetch import resolve_version
from mloop.models.flavors import require
from mloop.models.info import ModelInfo
from mloop.models.loaded import LoadedModel
from mloop.models.uris import parse_model_uri
from mloop.tracking import fluent

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

TASKS = ("classification", "regression")
IMPORTANCE_ROWS = 5_000


@dataclasses.dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate` measured.

    ``metrics`` is flat (``accuracy``, ``roc_auc``, ``dp_diff`` … or ``mae``,
    ``rmse``, ``r2``): what gate rules compare. ``slices`` maps a column to
    its groups' metrics, ``fairness`` a sensitive column to its groups' rates
    and gaps, ``feature_importance`` a feature to the drop in the primary
    metric when it is shuffled.
    """

    task: str
    metrics: dict[str, float]
    n_rows: int
    data: str
    model: str
    labels: list[Any] | None = None
    confusion_matrix: list[list[int]] | None = None
    slices: dict[str, dict[str, dict[str, float]]] = dataclasses.field(default_factory=dict)
    fairness: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    feature_importance: dict[str, float] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what is stored and logged as JSON)."""
        return dataclasses.asdict(self)


def load_frame(data: Any) -> tuple[pd.DataFrame, str]:
    """A DataFrame and a description of where it came from, for what ``data`` may be.

    ``data`` is a DataFrame, a dataset version (or its reference,
    ``credit@3``), or the path of a Parquet, CSV or JSON-lines file.

    Raises:
        InvalidInput: anything else, or a file that cannot be read as a table.
        NotFound: a dataset reference that names no version.
    """
    import pandas as pd

    from mloop.data.tabular import read_table  # loads pyarrow

    if isinstance(data, pd.DataFrame):
        digest = hashlib.sha256(
            pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes()
        ).hexdigest()
        return data, f"dataframe:{len(data)} rows sha256:{digest[:12]}"
    if isinstance(data, Dataset):
        return data.to_pandas(), data.ref
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if path.is_file():
            frame = read_table([path]).to_pandas()
            return frame, f"file:{path.absolute()}"
        if isinstance(data, str):
            dataset = get_dataset(data)
            return dataset.to_pandas(), dataset.ref
    raise InvalidInput(
        "evaluation data must be a DataFrame, a dataset version or reference (credit@3), or "
        f"a Parquet/CSV/JSON-lines file, got {type(data).__name__} {data!r}"
    )


def _infer_task(y: pd.Series) -> str:
    if y.dtype.kind in "bOSU" or str(y.dtype) in ("category", "str", "string"):
        return "classification"
    if y.dtype.kind in "iu" and y.nunique() <= 20:
        return "classification"
    return "regression"


def _as_model(model: Any) -> tuple[Any, str]:
    if isinstance(model, LoadedModel):
        return model, model.uri
    if isinstance(model, str | os.PathLike | ModelInfo) or hasattr(model, "uri"):
        loaded = load(model)
        return loaded, loaded.uri
    if not callable(getattr(model, "predict", None)):
        raise InvalidInput(
            f"evaluate takes a model URI, a loaded model, or an object with predict(), got "
            f"{type(model).__name__}"
        )
    return model, f"python:{type(model).__qualname__}"


def _labels(y: np.ndarray, predictions: np.ndarray, proba: np.ndarray | None) -> list[Any]:
    import numpy as np

    labels = np.unique(np.concatenate([y, predictions]))
    if proba is not None and proba.ndim == 2 and proba.shape[1] != len(labels):
        labels = np.unique(y)
    return list(labels.tolist())


@dataclasses.dataclass(frozen=True)
class _Scorer:
    """Scores a model's predictions; the ``estimator`` permutation importance shuffles under."""

    model: Any
    task: str

    def fit(self, *args: Any) -> _Scorer:  # scikit-learn asks estimators to have one
        raise InvalidInput("an evaluated model is not refitted")

    def __call__(self, estimator: Any, features: Any, y: Any) -> float:
        import numpy as np

        predicted = np.asarray(self.model.predict(features))
        if self.task == "classification":
            return float((predicted == np.asarray(y)).mean())
        return m.regression_metrics(np.asarray(y, dtype=float), predicted.astype(float))["r2"]


def _importance(model: Any, features: pd.DataFrame, y: np.ndarray, task: str) -> dict[str, float]:
    inspection = require("sklearn.inspection", "sklearn", "scikit-learn")
    scorer = _Scorer(model, task)
    sample = (
        features.sample(n=IMPORTANCE_ROWS, random_state=0)
        if len(features) > IMPORTANCE_ROWS
        else features
    )
    target = y[sample.index.to_numpy()] if len(features) > IMPORTANCE_ROWS else y
    result = inspection.permutation_importance(
        scorer, sample, target, scoring=scorer, n_repeats=3, random_state=0
    )
    return {str(c): float(v) for c, v in zip(sample.columns, result.importances_mean, strict=True)}


def _check_columns(frame: pd.DataFrame, targets: str, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"{what} column(s) {missing} are not in the data; it has {list(frame.columns)}"
        )


def measure(
    model: Any,
    frame: pd.DataFrame,
    *,
    targets: str,
    task: str | None,
    slices: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    importance: bool = True,
    data: str = "",
    uri: str = "",
) -> EvaluationResult:
    """Evaluate a model object on a frame (no logging): what :func:`evaluate` computes."""
    import numpy as np

    if not isinstance(targets, str) or targets not in frame.columns:
        raise InvalidInput(
            f"target column {targets!r} is not in the data; it has {list(frame.columns)}"
        )
    _check_columns(frame, targets, slices, "slice")
    _check_columns(frame, targets, sensitive, "sensitive")
    if task is not None and task not in TASKS:
        raise InvalidInput(f"task must be 'classification' or 'regression', got {task!r}")
    if len(frame) == 0:
        raise InvalidInput("cannot evaluate on an empty table")
    frame = frame.reset_index(drop=True)
    y = frame[targets].to_numpy()
    task = task or _infer_task(frame[targets])
    features = _model_columns(model, frame.drop(columns=[targets]))
    predicted = np.asarray(model.predict(features))
    if predicted.ndim == 2 and predicted.shape[1] == 1:
        predicted = predicted[:, 0]
    if task == "regression":
        y = y.astype(float)
        scores = m.regression_metrics(y, predicted.astype(float))
        result = EvaluationResult(task, scores, len(frame), data, uri)
    else:
        proba = (
            np.asarray(model.predict_proba(features)) if hasattr(model, "predict_proba") else None
        )
        labels = _labels(y, predicted, proba)
        scores = m.classification_metrics(y, predicted, proba, labels)
        result = EvaluationResult(
            task, scores, len(frame), data, uri, labels, m.confusion(y, predicted, labels)
        )
    for column in slices:
        keys, names = m.group_keys(frame[column])
        result.slices[column] = {
            name: {
                "count": float((keys == name).sum()),
                **_group_scores(task, y, predicted, keys == name, result.labels),
            }
            for name in names
        }
    for column in sensitive:
        keys, _ = m.group_keys(frame[column])
        if task == "regression":
            result.fairness[column] = m.regression_fairness(y, predicted.astype(float), keys)
        else:
            result.fairness[column] = m.fairness(y, predicted, keys, result.labels or [])
    gaps = ("mae_diff",) if task == "regression" else ("dp_diff", "eo_diff")
    for gap in gaps:
        if result.fairness:
            result.metrics[gap] = max(f[gap] for f in result.fairness.values())
    if importance:
        result.feature_importance.update(_importance(model, features, y, task))
    return result


def _model_columns(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """The columns a model reads: its signature's, or those a fitted estimator names."""
    signature = getattr(model, "signature", None)
    inputs = getattr(signature, "inputs", None)
    names: list[str] | None = None
    if isinstance(inputs, tuple):
        names = [c.name for c in inputs]
    elif hasattr(model, "feature_names_in_"):
        names = [str(n) for n in model.feature_names_in_]
    if names is not None and all(n in features.columns for n in names):
        return features[names]
    return features


def _group_scores(
    task: str, y: np.ndarray, predicted: np.ndarray, member: np.ndarray, labels: list[Any] | None
) -> dict[str, float]:
    if task == "regression":
        return m.regression_metrics(y[member], predicted[member].astype(float))
    return m.classification_metrics(y[member], predicted[member], None, labels or [])


def evaluate(
    model: Any,
    data: Any,
    *,
    targets: str,
    task: str | None = None,
    slices: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    importance: bool = True,
    context: Context | None = None,
) -> EvaluationResult:
    """Evaluate a model on labelled data and log the result to the active run.

    ``model`` is a model URI (``models:/credit@champion``, ``runs:/…``, a
    folder), a loaded model, or any object with ``predict``. ``data`` is a
    DataFrame, a dataset version or reference, or a table file; ``targets``
    names its label column. ``task`` is ``classification`` or ``regression``
    (inferred from the labels when omitted). ``slices`` are columns whose
    groups get their own metrics; ``sensitive`` columns get fairness gaps
    (``dp_diff``, ``eo_diff``; ``mae_diff`` for regression). Permutation
    importance (three shuffles per feature, on up to 5,000 rows) is computed
    unless ``importance=False``.

    Inside a run, the metrics are logged to it and the whole result as
    ``evaluation/<model>.json``; a registered version (``models:/…``) also
    keeps the result with it, for its model card.

    Raises:
        InvalidInput: a missing target, slice or sensitive column, an unknown task, no rows.
    """
    loaded, uri = _as_model(model)
    frame, where = load_frame(data)
    result = measure(
        loaded,
        frame,
        targets=targets,
        task=task,
        slices=slices,
        sensitive=sensitive,
        importance=importance,
        data=where,
        uri=uri,
    )
    active = fluent.active_run()
    if active is not None:
        finite = {k: v for k, v in result.metrics.items() if v == v}  # NaN: undefined here
        fluent.log_metrics(finite)
        label = uri.replace(":/", "-").replace("/", "-").replace("@", "-")
        fluent.log_dict(result.to_dict(), f"evaluation/{label}.json")
    if uri.startswith("models:/"):
        keep_evaluation(resolve_version(backend(context), parse_model_uri(uri)), result)
    return result


def keep_evaluation(
    version: ModelVersion, result: EvaluationResult, *, context: Context | None = None
) -> None:
    """Store an evaluation with the registered version it measured (model cards read it)."""
    active = fluent.active_run()
    backend(context).stores.governance.record_evaluation(
        EvaluationRecord(
            version.name,
            version.version,
            result.data,
            result.to_dict(),
            backend(context).actor,
            time.time_ns() // 1_000_000,
            active.info.run_id if active else None,
        )
    )
