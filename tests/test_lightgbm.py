"""mloop.lightgbm: MLflow's names over the lightgbm flavor; what was logged comes back."""

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


def test_a_scikit_learn_wrapper_loads_back_as_the_wrapper(home: Path) -> None:
    import lightgbm as lgb

    x, y = _data()
    clf = lgb.LGBMClassifier(n_estimators=5, verbose=-1, min_child_samples=3).fit(x, y + 1)
    with mloop.start_run():
        info = mloop.lightgbm.log_model(clf, name="clf")
    loaded = mloop.lightgbm.load_model(info.model_uri)
    assert isinstance(loaded, lgb.LGBMClassifier)
    np.testing.assert_array_equal(loaded.predict(x), clf.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), clf.predict_proba(x))
    wrapper = mloop.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(wrapper.predict(x), clf.predict(x))
    np.testing.assert_allclose(wrapper.predict_proba(x), clf.predict_proba(x))


def test_a_wrapper_file_that_gained_a_type_is_refused(tmp_path: Path) -> None:
    import lightgbm as lgb
    import skops.io as sio

    from mloop.errors import IntegrityError
    from mloop.models.flavors.lightgbm import FLAVOR

    x, y = _data()
    clf = lgb.LGBMRegressor(n_estimators=3, verbose=-1, min_child_samples=3).fit(x, y)
    folder = tmp_path / "pkg"
    folder.mkdir()
    loader = FLAVOR.save(clf, folder, None)  # type: ignore[arg-type]
    other = lgb.LGBMClassifier(n_estimators=3, verbose=-1, min_child_samples=3).fit(x, y)
    sio.dump(other, folder / loader["wrapper"])
    try:
        FLAVOR.load(folder, loader)
    except IntegrityError as err:
        assert "lightgbm.sklearn.LGBMClassifier" in str(err)
    else:
        raise AssertionError("a wrapper file with a new type loaded")


def test_a_package_without_the_wrapper_loads_as_a_booster_that_predicts_as_before(
    tmp_path: Path,
) -> None:
    import lightgbm as lgb

    from mloop.models.flavors.lightgbm import FLAVOR

    x, y = _data()
    clf = lgb.LGBMClassifier(n_estimators=5, verbose=-1, min_child_samples=3).fit(x, y + 1)
    folder = tmp_path / "old"
    folder.mkdir()
    loader = FLAVOR.save(clf, folder, None)  # type: ignore[arg-type]
    (folder / loader.pop("wrapper")).unlink()
    loader.pop("trusted_types")
    predictor = FLAVOR.load(folder, loader)
    assert isinstance(predictor.model, lgb.Booster)
    np.testing.assert_array_equal(predictor.predict(x), clf.predict(x))
    np.testing.assert_allclose(predictor.predict_proba(x), clf.predict_proba(x))
