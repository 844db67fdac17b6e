from __future__ import annotations

import math

import numpy as np
import pytest

from mloop.errors import InvalidInput
from mloop.tracking import validation as v


@pytest.mark.parametrize("key", ["loss", "train/loss", "a.b-c d:e", "x" * 250])
def test_valid_keys(key: str) -> None:
    assert v.validate_key(key, "metric") == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "must not be empty"),
        ("x" * 251, "limit is 250"),
        ("a\nb", "invalid metric name"),
        ("emoji🙂", "invalid metric name"),
        ("/abs", "relative path"),
        ("a/../b", "relative path"),
        (3, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_invalid_keys(key: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        v.validate_key(key, "metric")


def test_metric_values() -> None:
    assert v.metric_value("m", 1) == 1.0
    assert v.metric_value("m", np.float32(0.5)) == 0.5
    assert v.metric_value("m", np.int64(3)) == 3.0
    assert math.isnan(v.metric_value("m", float("nan")))
    assert v.metric_value("m", float("-inf")) == -math.inf
    for bad in ("0.5", None, True, 1 + 2j, [1]):
        with pytest.raises(InvalidInput, match="must be a number"):
            v.metric_value("m", bad)


def test_steps_and_timestamps() -> None:
    assert v.metric_step(np.int64(5)) == 5
    for bad in (-1, 2**63, 1.5, "1", True):
        with pytest.raises(InvalidInput):
            v.metric_step(bad)
    assert v.timestamp_millis(123) == 123
    with pytest.raises(InvalidInput, match="milliseconds"):
        v.timestamp_millis(1.5)


def test_param_and_tag_values() -> None:
    assert v.param_value("p", 0.1) == "0.1"
    assert v.param_value("p", "x" * 6000) == "x" * 6000
    with pytest.raises(InvalidInput, match="6000"):
        v.param_value("p", "x" * 6001)
    with pytest.raises(InvalidInput, match="8000"):
        v.tag_value("t", "x" * 8001)
