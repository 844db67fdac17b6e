"""The example training pipeline, as a user runs it: from a dataset version, twice."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.errors import PipelineFailed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def training(home: Path, tmp_path: Path) -> object:
    rng = random.Random(7)
    rows = []
    for _ in range(300):
        income, debt = rng.gauss(50, 15), rng.gauss(20, 8)
        rows.append((income, debt, int(income - 1.5 * debt + rng.gauss(0, 10) > 15)))
    frame = pd.DataFrame(rows, columns=["income", "debt", "label"])
    frame.to_csv(tmp_path / "credit.csv", index=False)
    mloop.data.add(tmp_path / "credit.csv", name="credit")
    sys.path.insert(0, str(EXAMPLES))
    try:
        import training_pipeline
    finally:
        sys.path.remove(str(EXAMPLES))
    return training_pipeline


def test_train_evaluate_and_reuse(training: object) -> None:
    pipeline = training.training  # type: ignore[attr-defined]
    first = pipeline.run(lr=0.3)
    assert first.output("evaluate")["accuracy"] > 0.7
    assert mloop.Client().find_io(mloop.data.get("credit").digest)  # load recorded its input
    second = pipeline.run(lr=0.3)
    assert all(state.cached for state in second.steps.values())
    third = pipeline.run(lr=0.5)
    assert [s.cached for s in third.steps.values()] == [True, True, True, False, False, False]
    model = mloop.models.load(third.output("publish").model_uri)
    test = pd.DataFrame({"income": [90.0, 20.0], "debt": [5.0, 45.0]})
    assert model.predict(test).tolist() == [1, 0]
    assert model.predict_proba(test).shape == (2, 2)


def test_steps_are_plain_functions(training: object) -> None:
    frame = pd.DataFrame({"income": [60.0, 30.0] * 60, "debt": [10.0, 40.0] * 60})
    frame["label"] = [1, 0] * 60
    parts = training.split(frame, 0.5)  # type: ignore[attr-defined]
    weights = training.train(parts.train, 0.5, 30)  # type: ignore[attr-defined]
    assert training.evaluate(weights, parts.test)["accuracy"] == 1.0  # type: ignore[attr-defined]


def test_bad_data_stops_the_pipeline_at_validation(training: object, tmp_path: Path) -> None:
    pd.DataFrame({"income": [1.0] * 150, "debt": [500.0] * 150, "label": [0] * 150}).to_csv(
        tmp_path / "bad.csv", index=False
    )
    mloop.data.add(tmp_path / "bad.csv", name="bad")
    with pytest.raises(PipelineFailed, match="step 'validate' failed"):
        training.training.run(ref="bad@latest")  # type: ignore[attr-defined]
