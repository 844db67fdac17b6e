"""Worlds for the automation tests: a served credit model with its reference for monitors,
and a dataset, a champion, a deployment and a training pipeline file for policies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
import mloop.serving
from mloop import data
from mloop.serving.asgi import app
from mloop.serving.prediction_log import PredictionLogSettings
from mloop.serving.server import ServerSettings
from tests.models.conftest import credit_frame, fit_classifier, log_and_register
from tests.serving.live import running

FAST = ServerSettings(refresh_seconds=0.1, prediction_log=PredictionLogSettings(flush_seconds=0.1))
FEATURES = ["income", "age"]


def applicants(rows: int, *, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Applicants and whether they defaulted; ``shift`` moves incomes by that many thousands."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50 + shift, 12, rows)
    age = rng.integers(21, 70, rows).astype(float)
    risk = 1 / (1 + np.exp((income - 50) / 8 + (age - 45) / 30))
    return pd.DataFrame(
        {"income": income, "age": age, "default": (rng.random(rows) < risk).astype(int)}
    )


@dataclass
class Credit:
    home: Path
    url: str
    sent: set[str] = field(default_factory=set)
    labelled: set[str] = field(default_factory=set)

    def send(self, frame: pd.DataFrame, *, batch: int = 10) -> list[str]:
        """Post the rows in requests of ``batch`` rows; the request ids, in order."""
        ids = []
        with httpx.Client(timeout=30) as client:
            for start in range(0, len(frame), batch):
                part = frame.iloc[start : start + batch][FEATURES]
                body = {"inputs": {column: part[column].tolist() for column in FEATURES}}
                answer = client.post(f"{self.url}/invocations", json=body)
                assert answer.status_code == 200, answer.text
                ids.append(answer.headers["x-request-id"])
        self.sent.update(ids)
        return ids

    def label(self, ids: list[str], labels: list[list[int]]) -> None:
        body = {
            "feedback": [{"request_id": i, "label": y} for i, y in zip(ids, labels, strict=True)]
        }
        assert httpx.post(f"{self.url}/feedback", json=body, timeout=30).status_code == 200
        self.labelled.update(ids)

    def flushed(self, timeout: float = 60.0) -> None:
        """Wait until the log holds every request sent and every label given (it writes in
        the background, every 0.1 s here; a busy machine takes longer)."""
        deadline = time.monotonic() + timeout
        while True:
            log = mloop.serving.predictions("credit-api")
            ids = set(log["request_id"]) if len(log) else set()
            labelled = set(log.loc[log["label"].notna(), "request_id"]) if len(log) else set()
            if self.sent <= ids and self.labelled <= labelled:
                return
            assert time.monotonic() < deadline, "the prediction log did not catch up"
            time.sleep(0.1)


@pytest.fixture
def credit(home: Path, tmp_path: Path) -> Iterator[Credit]:
    reference = applicants(3000)
    folder = tmp_path / "train"
    folder.mkdir()
    reference.to_parquet(folder / "part.parquet")
    data.add(folder, "credit")
    data.tag("credit@1", "train")
    with mloop.start_run():
        model = LogisticRegression().fit(reference[FEATURES], reference["default"])
        mloop.log_metric("accuracy", 0.9)
        mloop.models.log_model(
            model, input_example=reference[FEATURES].head(2), registered_model_name="credit"
        )
    mloop.models.set_alias("credit", "champion", 1)
    mloop.serving.create_deployment("credit-api", "credit@champion")
    with running(app(["credit-api"], settings=FAST)) as url:
        yield Credit(home, url)


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
