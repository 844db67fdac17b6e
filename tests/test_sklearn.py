"""mloop.sklearn: MLflow's names over the sklearn flavor; the estimator itself comes back."""

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


class TestSklearnModule(FlavorModuleContract):
    __test__ = True
    module = mloop.sklearn
    flavor = "sklearn"
    native_type = "LogisticRegression"

    def make_model(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng(7)
        x = rng.normal(size=(40, 3)).astype("float32")
        return LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))

    def predict(self, native: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(native.predict_proba(x))

    def other_model(self) -> tuple[types.ModuleType, Any]:
        import xgboost as xgb

        x = np.arange(8.0).reshape(-1, 1)
        return mloop.xgboost, xgb.train({}, xgb.DMatrix(x, x[:, 0]), 2)


@pytest.mark.parametrize("serialization_format", ["cloudpickle", "pickle", "skops"])
def test_every_mlflow_serialization_format_saves_with_skops(
    home: Path, tmp_path: Path, serialization_format: str
) -> None:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])
    mloop.sklearn.save_model(model, tmp_path / "m", serialization_format=serialization_format)
    assert (tmp_path / "m" / "model.skops").is_file()
    assert not list((tmp_path / "m").glob("*.pkl"))


def test_an_unknown_serialization_format_is_refused(home: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])
    with pytest.raises(InvalidInput, match="serialization_format must be one of"):
        mloop.sklearn.save_model(model, tmp_path / "m", serialization_format="joblib")
    assert not (tmp_path / "m").exists()


def test_an_unfitted_estimator_is_refused(home: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    with pytest.raises(InvalidInput, match="not fitted"):
        mloop.sklearn.save_model(LinearRegression(), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_a_pipeline_comes_back_whole(home: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(1).normal(size=(30, 2))
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, (x[:, 1] > 0).astype(int))
    with mloop.start_run():
        info = mloop.sklearn.log_model(pipe, name="pipe")
    loaded = mloop.sklearn.load_model(info.model_uri)
    assert [name for name, _ in loaded.steps] == ["standardscaler", "logisticregression"]
    np.testing.assert_array_equal(loaded.predict(x), pipe.predict(x))


def test_register_and_load_by_alias_over_postgresql(
    home: Path, postgres_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LinearRegression

    monkeypatch.setenv("MLOOP_TRACKING_URI", postgres_store)
    model = LinearRegression().fit([[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0])
    with mloop.start_run():
        info = mloop.sklearn.log_model(model, name="reg", registered_model_name="reg")
    assert info.registered_model_version == 1
    assert mloop.get_tracking_uri().startswith("postgresql")
    mloop.models.set_alias("reg", "champion", 1)
    loaded = mloop.sklearn.load_model("models:/reg@champion")
    np.testing.assert_allclose(loaded.predict([[4.0]]), model.predict([[4.0]]))
