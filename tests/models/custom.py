"""Classes the model tests save by reference: a scikit-learn transformer and PythonModels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mloop.models.pyfunc import ModelContext, PythonModel


class Scale(TransformerMixin, BaseEstimator):
    """Multiplies every feature by ``factor`` (a type skops does not trust by default)."""

    def __init__(self, factor: float = 2.0) -> None:
        self.factor = factor

    def fit(self, x: Any, y: Any = None) -> Scale:
        self.n_features_in_ = np.asarray(x).shape[1]
        return self

    def transform(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=float) * self.factor


class LinearScorer(PythonModel):
    """``x @ weights + offset``: weights from an artifact file, the offset from model_config."""

    def load_context(self, context: ModelContext) -> None:
        self.weights = np.loadtxt(Path(context.artifacts["weights"]), ndmin=1)
        self.offset = float(context.model_config["offset"])

    def predict(self, model_input: pd.DataFrame) -> np.ndarray:
        return model_input.to_numpy(dtype=float) @ self.weights + self.offset


class ThresholdClassifier(PythonModel):
    """A logistic score of one column, cut at ``model_config['cut']``; has predict_proba."""

    def load_context(self, context: ModelContext) -> None:
        self.cut = float(context.model_config["cut"])

    def predict_proba(self, model_input: pd.DataFrame) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-(model_input["score"].to_numpy(dtype=float) - self.cut)))
        return np.column_stack([1.0 - p, p])

    def predict(self, model_input: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(model_input)[:, 1] > 0.5).astype("int64")


class NotAModel:
    """Has a ``predict`` but is no PythonModel: a tampered loader naming it must be refused."""

    def predict(self, model_input: Any) -> Any:
        return model_input


class MlflowStyleScorer(PythonModel):
    """Written as for MLflow: ``predict(self, context, model_input, params=None)``."""

    def load_context(self, context: ModelContext) -> None:
        self.offset = float(context.model_config["offset"])

    def predict(
        self, context: ModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> np.ndarray:
        scale = float(context.model_config.get("scale", 1.0)) * (params or {}).get("factor", 1.0)
        return model_input.to_numpy(dtype=float).sum(axis=1) * scale + self.offset


class ParamsScaler(PythonModel):
    """Written mloop's way, with inference parameters: ``predict(self, model_input, params=None)``."""

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> np.ndarray:
        return model_input.to_numpy(dtype=float).sum(axis=1) * (params or {}).get("factor", 1.0)


class ParamsEcho(PythonModel):
    """Returns the params its ``predict`` was given, as MLflow's form takes them."""

    def predict(
        self, context: ModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        return params


class Sleeper(PythonModel):
    """Sleeps for the largest ``wait`` of a batch, then answers each ``wait`` doubled."""

    def predict(self, model_input: pd.DataFrame) -> np.ndarray:
        import time

        time.sleep(float(model_input["wait"].max()))
        return model_input["wait"].to_numpy() * 2
