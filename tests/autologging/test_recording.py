"""Params cut to what a store holds, and data digests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from mloop.autologging.recording import data_digest, fit_data, head, loggable_params
from mloop.tracking.validation import MAX_PARAM_VALUE_LENGTH


def test_long_values_are_cut_and_long_names_left_out() -> None:
    params = loggable_params({"long": "x" * 9000, "k" * 300: 1, "f": len})
    assert len(params["long"]) == MAX_PARAM_VALUE_LENGTH and params["long"].endswith("...")
    assert set(params) == {"long", "f"}


def test_the_same_data_has_the_same_digest() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    assert data_digest(frame) == data_digest(frame.copy())
    assert data_digest(frame) != data_digest(frame.rename(columns={"b": "c"}))
    assert data_digest(np.eye(2)) == data_digest(sparse.csr_matrix(np.eye(2)))
    assert data_digest(np.eye(2)) != data_digest(np.eye(2).astype("float32"))
    assert data_digest(frame["a"]) != data_digest(frame["b"])


def test_head_keeps_the_first_rows_of_any_table() -> None:
    assert head(pd.DataFrame({"a": range(9)}))["a"].tolist() == [0, 1, 2, 3, 4]
    assert head(sparse.csr_matrix(np.eye(9))).shape == (5, 9)
    assert head([[1], [2]]) == [[1], [2]]


def test_fit_data_reads_features_labels_and_weights() -> None:
    def fit(self: object, features: object, y: object = None, **params: object) -> None: ...

    assert fit_data(fit, None, ([1],), {"y": [2], "sample_weight": [3]}) == ([1], [2], [3])
    assert fit_data(fit, None, (), {}) == (None, None, None)  # the call itself will fail
