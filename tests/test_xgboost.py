"""mloop.xgboost: MLflow's names over the xgboost flavor; the logged class comes back."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mloop
import mloop.sklearn
import mloop.xgboost
from mloop.errors import InvalidInput
from tests.flavor_contract import FlavorModuleContract


def _data() -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(7).normal(size=(40, 3)).astype("float32")
    return x, (x[:, 0] > 0).astype(int)


def _linear() -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])


class TestXGBoostClassifier(FlavorModuleContract):
    __test__ = True
    module = mloop.xgboost
    flavor = "xgboost"
    native_type = "XGBClassifier"

    def make_model(self) -> Any:
        import xgboost as xgb

        return xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(*_data())

    def predict(self, native: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(native.predict_proba(x))

    def other_model(self) -> tuple[types.ModuleType, Any]:
        return mloop.sklearn, _linear()


class TestXGBoostBooster(FlavorModuleContract):
    __test__ = True
    module = mloop.xgboost
    flavor = "xgboost"
    native_type = "Booster"

    def make_model(self) -> Any:
        import xgboost as xgb

        x, y = _data()
        return xgb.train({"max_depth": 2}, xgb.DMatrix(x, y), 5)

    def predict(self, native: Any, x: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        return np.asarray(native.predict(xgb.DMatrix(x)))

    def other_model(self) -> tuple[types.ModuleType, Any]:
        return mloop.sklearn, _linear()


@pytest.mark.parametrize("model_format", ["xgb", "json", "ubj"])
def test_every_mlflow_model_format_saves_as_ubjson(
    home: Path, tmp_path: Path, model_format: str
) -> None:
    import xgboost as xgb

    model = xgb.XGBRegressor(n_estimators=2).fit(*_data())
    mloop.xgboost.save_model(model, tmp_path / "m", model_format=model_format)
    assert (tmp_path / "m" / "model.ubj").is_file()


def test_an_unknown_model_format_is_refused(home: Path, tmp_path: Path) -> None:
    import xgboost as xgb

    model = xgb.XGBRegressor(n_estimators=2).fit(*_data())
    with pytest.raises(InvalidInput, match="model_format must be one of"):
        mloop.xgboost.save_model(model, tmp_path / "m", model_format="pickle")
    assert not (tmp_path / "m").exists()
