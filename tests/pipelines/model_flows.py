"""Module-level steps that pass models between them (worker processes import them by name)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.models import ModelInfo


@mloop.step
def make_data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "z": rng.normal(size=rows)})
    frame["label"] = (frame.x > 0).astype(int)
    return frame


@mloop.step
def read_rows(ref: str) -> pd.DataFrame:
    """The rows of a dataset version, recorded as this step's input."""
    dataset = mloop.data.get(ref)
    mloop.log_input(dataset, context="training")
    return dataset.to_pandas()


@mloop.step
def train(frame: pd.DataFrame, c: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=c).fit(frame[["x", "z"]], frame["label"])


@mloop.step
def score(model: LogisticRegression, frame: pd.DataFrame) -> float:
    return float(model.score(frame[["x", "z"]], frame["label"]))


@mloop.step
def train_and_log(frame: pd.DataFrame, c: float = 1.0) -> ModelInfo:
    model = LogisticRegression(C=c).fit(frame[["x", "z"]], frame["label"])
    return mloop.models.log_model(
        model, "model", input_example=frame[["x", "z"]][:2], registered_model_name="piped"
    )


@mloop.step
def flavor_of(info: ModelInfo) -> str:
    return f"{info.flavor}:{mloop.models.load(info.model_uri).predict(np.zeros((1, 2)))[0]}"


@mloop.pipeline
def fit_and_score(rows: int = 200, c: float = 1.0) -> None:
    frame = make_data(rows)
    score(train(frame, c), frame)


@mloop.pipeline
def log_and_use(ref: str = "rows@latest") -> None:
    flavor_of(train_and_log(read_rows(ref)))
