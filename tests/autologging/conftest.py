"""Shared data of the autologging tests, and autologging turned off after each test."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.autologging import state


@pytest.fixture(autouse=True)
def _autologging_off() -> Iterator[None]:
    yield
    mloop.autolog(disable=True)
    assert state.enabled() == []


def table(n: int = 60, classes: int = 2, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Two numeric features and a label of ``classes`` classes that depends on them."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n)})
    score = features.a + 0.5 * features.b + rng.normal(0, 0.3, n)
    label = pd.Series(np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])))
    return features, label.rename("label")


@pytest.fixture
def binary() -> tuple[pd.DataFrame, pd.Series]:
    return table()


@pytest.fixture
def multiclass() -> tuple[pd.DataFrame, pd.Series]:
    return table(90, classes=3)


def runs() -> list[mloop.Run]:
    """Every run of the default experiment, newest first."""
    found = mloop.search_runs(output_format="list")
    assert isinstance(found, list)
    return found


def children(parent_id: str) -> list[mloop.Run]:
    """The child runs of ``parent_id``."""
    return [run for run in runs() if run.info.parent_run_id == parent_id]
