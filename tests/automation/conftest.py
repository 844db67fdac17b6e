"""A small world for policies: a dataset, a champion, a deployment and a training pipeline file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mloop
import mloop.serving
from tests.models.conftest import credit_frame, fit_classifier, log_and_register

PIPELINE = """
import mloop
import mloop.serving
from sklearn.linear_model import LogisticRegression


@mloop.step(cache=False)
def fit(data: str, c: float) -> str:
    frame = mloop.data.get(data).to_pandas()
    model = LogisticRegression(C=c).fit(frame[["income", "debt"]], frame["label"])
    info = mloop.models.log_model(
        model, "model", input_example=frame[["income", "debt"]][:3],
        registered_model_name="credit",
    )
    return info.registered_version.ref


@mloop.pipeline
def train(data: str = "credit@latest", c: float = 1.0) -> None:
    fit(data, c)
"""


def spec(folder: Path, **changes: Any) -> dict[str, Any]:
    """A valid policy spec over the world, with ``changes`` replacing top-level fields."""
    values: dict[str, Any] = {
        "name": "retrain-credit",
        "trigger": {"on": "dataset", "name": "credit"},
        "pipeline": {
            "file": str(folder / "train.py"),
            "pipeline": "train",
            "params": {"data": "${dataset}"},
        },
        "model": "credit",
        "gate": {
            "rules": ["accuracy >= champion.accuracy - 0.05"],
            "data": "holdout@latest",
            "targets": "label",
        },
        "deploy": {"deployment": "credit-api", "canary_percent": 10},
        "notify": [{"kind": "log", "logger": "mloop.tests.policy"}],
    }
    values.update(changes)
    return values


def add_table(frame: pd.DataFrame, folder: Path, name: str) -> str:
    path = folder / f"{name}-{len(list(folder.glob(name + '-*')))}.csv"
    frame.to_csv(path, index=False)
    return mloop.data.add(path, name=name).ref


@pytest.fixture
def world(home: Path) -> Path:
    """credit/1 as credit@champion behind deployment credit-api; datasets credit and holdout."""
    folder = home.parent
    (folder / "train.py").write_text(PIPELINE)
    frame = credit_frame(300, seed=1)
    add_table(frame, folder, "credit")
    add_table(credit_frame(200, seed=2), folder, "holdout")
    log_and_register(fit_classifier(frame), frame)
    mloop.models.set_alias("credit", "champion", 1)
    mloop.serving.create_deployment("credit-api", "credit@champion")
    return folder
