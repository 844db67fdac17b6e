"""Series, SciPy sparse matrices and torch tensors as step outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch

import mloop
from mloop.pipelines.materializers import for_type, for_value


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([0, 1, 1], name="label", index=[10, 20, 30]),
        pd.Series([0.5, None], name=None),
        pd.Series(["a", "b"], name=3, dtype="string"),
        pd.Series(pd.Categorical(["x", "y", "x"]), name=("a", "b")),
    ],
)
def test_series_round_trip(series: pd.Series) -> None:
    materializer = for_value(series)
    assert materializer.name == "pandas_series"
    pd.testing.assert_series_equal(materializer.loads(materializer.dumps(series)), series)


@pytest.mark.parametrize(
    "matrix",
    [
        scipy.sparse.csr_matrix(np.eye(3)),
        scipy.sparse.csc_array(np.arange(6.0).reshape(2, 3)),
        scipy.sparse.coo_matrix(([1, 2], ([0, 1], [1, 0])), shape=(2, 2)),
    ],
)
def test_sparse_round_trip(matrix: object) -> None:
    materializer = for_value(matrix)
    assert materializer.name == "scipy_sparse"
    back = materializer.loads(materializer.dumps(matrix))
    assert type(back) is type(matrix)
    np.testing.assert_array_equal(back.toarray(), matrix.toarray())  # type: ignore[attr-defined]


def test_tensor_round_trip() -> None:
    tensor = torch.arange(6, dtype=torch.float32, requires_grad=True).reshape(2, 3)
    materializer = for_value(tensor)
    assert materializer.name == "torch_tensor"
    back = materializer.loads(materializer.dumps(tensor))
    assert torch.equal(back, tensor.detach()) and not back.requires_grad


def test_types() -> None:
    assert for_type(pd.Series).name == "pandas_series"  # type: ignore[union-attr]
    assert for_type(scipy.sparse.csr_matrix).name == "scipy_sparse"  # type: ignore[union-attr]
    assert for_type(torch.Tensor).name == "torch_tensor"  # type: ignore[union-attr]
    assert for_type(scipy.sparse.lil_matrix) is None


def test_series_travels_between_steps(home: Path) -> None:
    @mloop.step
    def split() -> tuple[pd.DataFrame, pd.Series]:
        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 1]})
        return frame[["x"]], frame["y"]

    @mloop.step
    def count(y: pd.Series) -> int:
        return int(y.sum())

    @mloop.pipeline
    def flow() -> None:
        _, y = split()
        count(y)

    result = flow.run()
    assert result.output("count") == 2
    pd.testing.assert_series_equal(result.output("split", "1"), pd.Series([0, 1, 1], name="y"))
