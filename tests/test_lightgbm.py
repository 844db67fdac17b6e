"""mloop.lightgbm: MLflow's names over the lightgbm flavor; a Booster comes back."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np

import mloop
import mloop.lightgbm
import mloop.pyfunc
import mloop.sklearn
from tests.flavor_contract import FlavorModuleContract


def _data() -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(7).normal(size=(40, 3)).astype("float32")
    return x, (x[:, 0] > 0).astype(int)


class TestLightGBMBooster(FlavorModuleContract):
    __test__ = True
    module = mloop.lightgbm
    flavor = "lightgbm"
    native_type = "Booster"

    def make_model(self) -> Any:
        import lightgbm as lgb

        x, y = _data()
        params = {"objective": "binary", "verbose": -1, "min_data_in_leaf": 3}
        return lgb.train(params, lgb.Dataset(x, y), 5)

    def predict(self, native: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(native.predict(x))

    def other_model(self) -> tuple[types.ModuleType, Any]:
        from sklearn.linear_model import LinearRegression

        return mloop.sklearn, LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])


def test_a_scikit_learn_wrapper_loads_as_its_booster_and_predicts_as_before(home: Path) -> None:
    import lightgbm as lgb

    x, y = _data()
    clf = lgb.LGBMClassifier(n_estimators=5, verbose=-1, min_child_samples=3).fit(x, y + 1)
    with mloop.start_run():
        info = mloop.lightgbm.log_model(clf, name="clf")
    booster = mloop.lightgbm.load_model(info.model_uri)
    assert isinstance(booster, lgb.Booster)
    np.testing.assert_allclose(booster.predict(x), clf.booster_.predict(x))
    wrapper = mloop.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(wrapper.predict(x), clf.predict(x))
    np.testing.assert_allclose(wrapper.predict_proba(x), clf.predict_proba(x))
