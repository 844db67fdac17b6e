"""The demo's training pipeline: dataset -> validate -> split -> train -> evaluate -> publish.

Run it from the command line (``mloop pipeline run training_pipeline:training
--param lr=0.3`` from this folder) or from Python (``training.run(lr=0.3)``).
Each step is a plain function that unit tests can call directly. ``publish``
logs the trained weights as a model package (a :class:`CreditScorer`, with
this file shipped inside it), ready to be registered, gated and promoted.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import NamedTuple

import numpy as np
import pandas as pd

import mloop
from mloop.data import Expectation, ExpectationSuite
from mloop.models import ModelContext, ModelInfo, PythonModel

FEATURES = ["income", "debt"]


class Split(NamedTuple):
    train: pd.DataFrame
    test: pd.DataFrame


@mloop.step
def load(ref: str) -> pd.DataFrame:
    """The dataset version's rows (recorded as the step's input)."""
    dataset = mloop.data.get(ref)
    mloop.log_input(dataset, context="training")
    return dataset.to_pandas()


@mloop.step
def validate(frame: pd.DataFrame) -> pd.DataFrame:
    """Stop the pipeline if the data breaks its expectations."""
    suite = ExpectationSuite(
        "credit-checks",
        [
            Expectation("not_null", column="income"),
            Expectation("between", column="debt", min=-20, max=80),
            Expectation("in_set", column="label", values=[0, 1]),
            Expectation("row_count", min=100),
        ],
    )
    result = mloop.data.validate(frame, suite)
    if not result.success:
        raise ValueError(f"the data failed {suite.name}: {result.failed}")
    return frame


@mloop.step
def split(frame: pd.DataFrame, test_fraction: float = 0.25, seed: int = 7) -> Split:
    """A seeded random split."""
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    cut = int(len(shuffled) * (1 - test_fraction))
    return Split(shuffled.iloc[:cut], shuffled.iloc[cut:])


def _design(frame: pd.DataFrame) -> np.ndarray:
    x = frame[FEATURES].to_numpy(dtype=float)
    x = (x - np.array([50.0, 20.0])) / np.array([15.0, 8.0])
    return np.hstack([x, np.ones((len(x), 1))])


@mloop.step(retries=1, retry_delay=0.5)
def train(frame: pd.DataFrame, lr: float = 0.3, epochs: int = 60) -> np.ndarray:
    """Logistic regression by gradient descent; logs its loss curve to the step's run."""
    slow = float(os.environ.get("MLOOP_DEMO_SLOW_SECONDS", "0"))
    x, y = _design(frame), frame["label"].to_numpy(dtype=float)
    weights = np.zeros(x.shape[1])
    for epoch in range(epochs):
        p = 1 / (1 + np.exp(-x @ weights))
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        weights -= lr * x.T @ (p - y) / len(y)
        mloop.log_metric("train_loss", float(loss), step=epoch)
        if slow:
            time.sleep(slow / epochs)
    return weights


@mloop.step
def evaluate(weights: np.ndarray, test: pd.DataFrame) -> dict[str, float]:
    """Accuracy on the held-out rows."""
    predicted = (_design(test) @ weights) > 0
    accuracy = float(np.mean(predicted == test["label"].to_numpy(dtype=bool)))
    mloop.log_metric("test_accuracy", accuracy)
    return {"accuracy": accuracy}


class CreditScorer(PythonModel):
    """The trained weights as a model: probabilities of repaying, and 0/1 decisions."""

    def load_context(self, context: ModelContext) -> None:
        self.weights = np.load(context.artifacts["weights"])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = 1 / (1 + np.exp(-_design(frame) @ self.weights))
        return np.column_stack([1 - p, p])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(frame)[:, 1] > 0.5).astype(int)


@mloop.step
def publish(weights: np.ndarray, test: pd.DataFrame) -> ModelInfo:
    """Log the weights as a model package on this step's run (the file travels with it)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "weights.npy")
        np.save(path, weights)
        return mloop.models.log_model(
            CreditScorer(),
            "model",
            input_example=test[FEATURES][:3],
            artifacts={"weights": path},
            code_paths=[__file__],
        )


@mloop.pipeline
def training(ref: str = "credit@latest", lr: float = 0.3, epochs: int = 60) -> None:
    """Load a dataset version, check it, split it, train, evaluate and publish the model."""
    parts = split(validate(load(ref)))
    weights = train(parts.train, lr, epochs)
    evaluate(weights, parts.test)
    publish(weights, parts.test)
