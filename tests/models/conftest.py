"""Shared data and models of the model tests: a small credit table and a classifier fitted on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

FEATURES = ["income", "debt"]


def credit_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Income, debt, a region, a sensitive attribute and a label that depends on the first two."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(50, 15, n),
            "debt": rng.normal(20, 8, n),
            "region": rng.choice(["north", "south"], n),
            "sex": rng.choice(["f", "m"], n),
        }
    )
    frame["label"] = ((frame.income - 1.5 * frame.debt + rng.normal(0, 10, n)) > 15).astype(int)
    return frame


@pytest.fixture
def credit() -> pd.DataFrame:
    return credit_frame()


def fit_classifier(frame: pd.DataFrame, c: float = 1.0, features: list[str] | None = None) -> Any:
    from sklearn.linear_model import LogisticRegression

    columns = features or FEATURES
    return LogisticRegression(C=c).fit(frame[columns], frame["label"])


@pytest.fixture
def classifier(credit: pd.DataFrame) -> Any:
    return fit_classifier(credit)


def log_and_register(model: Any, frame: pd.DataFrame, name: str = "credit") -> Any:
    """Log ``model`` to a new run and register it; returns the ModelInfo."""
    import mloop

    with mloop.start_run():
        return mloop.models.log_model(
            model, "model", input_example=frame[FEATURES][:3], registered_model_name=name
        )


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def corrupt_object(digest: str) -> None:
    """Flip one byte of a stored object, in its own file or inside the pack that holds it."""
    from mloop.models.backend import backend

    content = backend().client.content
    location = Path(content.location(digest))
    offset = 10
    if not location.exists():  # small objects of one batch share a pack
        found = content._find_packed(digest, refresh=True)
        assert found is not None
        location = Path(content._pack_path(found[0], ".pack"))
        offset += found[1].offset
    data = bytearray(location.read_bytes())
    data[offset] ^= 0xFF
    location.chmod(0o644)
    location.write_bytes(bytes(data))
