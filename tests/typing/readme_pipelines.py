"""README: Pipelines; docs/pipelines.md."""

from typing import NamedTuple

import pandas as pd

import mloop


class Split(NamedTuple):
    train: pd.DataFrame
    test: pd.DataFrame


@mloop.step
def load(ref: str) -> pd.DataFrame:
    return mloop.data.get(ref).to_pandas()


@mloop.step
def split(df: pd.DataFrame, fraction: float = 0.8) -> Split:
    cut = int(len(df) * fraction)
    return Split(df.iloc[:cut], df.iloc[cut:])


@mloop.step(retries=2, retry_delay=1.0, timeout=600)
def train(df: pd.DataFrame, lr: float) -> dict[str, float]:
    mloop.log_metric("loss", 0.1)
    return {"weight": lr}


@mloop.pipeline
def training(ref: str = "credit@latest", lr: float = 0.1) -> None:
    parts = split(load(ref))
    train(parts.train, lr)


result = training.run(lr=0.2)
weights = result.output("train")
resumed = mloop.pipelines.resume(result.run_id)


def validation_loss(lr: float, depth: int, epoch: int = 20) -> float:
    return lr * depth / (epoch + 1)


def objective(trial: mloop.pipelines.Trial) -> float:
    lr, depth = float(trial.params["lr"]), int(trial.params["depth"])
    for epoch in range(20):
        trial.report(validation_loss(lr, depth, epoch), epoch)
    return validation_loss(lr, depth)


tuned = mloop.tune(
    objective,
    {"lr": {"low": 1e-4, "high": 1e-1, "log": True}, "depth": (2, 8), "kind": ["gbm", "rf"]},
    n_trials=50,
    direction="minimize",
    sampler="tpe",
    pruner="median",
    seed=0,
    executor="local",
)
best = (tuned.best_params, tuned.best_value, tuned.best_run_id)
