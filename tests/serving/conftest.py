"""The model most serving tests serve: breast-cancer LogisticRegression, and a live server of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.serving.asgi import app
from tests.serving.live import running


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """The breast-cancer table: 30 float columns and ``target``."""
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture
def features(data: pd.DataFrame) -> pd.DataFrame:
    return data.drop(columns="target")


@pytest.fixture
def model_dir(home: Path, data: pd.DataFrame, features: pd.DataFrame) -> Path:
    """The model saved as a package folder named ``cancer``."""
    model = LogisticRegression(max_iter=5000).fit(features, data["target"])
    path = home.parent / "cancer"
    mloop.models.save(model, path, input_example=features.head(3))
    return path


@pytest.fixture
def server_url(model_dir: Path) -> Iterator[str]:
    """A real server of the model on 127.0.0.1 (its base URL)."""
    with running(app([str(model_dir)])) as url:
        yield url
