"""Imported MLflow model folders: loaded only from a format that needs no unpickling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
import yaml
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.errors import InvalidInput
from mloop.models.flavors import detect
from mloop.models.flavors.mlflow_folder import FOLDER, MlflowModelFolder, loader_settings
from mloop.models.package import PackageSpec, write_package

X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
Y = [0, 1, 0, 1]


def mlflow_folder(root: Path, serialization: str = "skops") -> MlflowModelFolder:
    """A folder laid out as MLflow's sklearn flavor writes it (MLmodel + the model file)."""
    root.mkdir(parents=True)
    file = "model.skops" if serialization == "skops" else "model.pkl"
    if serialization == "skops":
        sio.dump(LogisticRegression().fit(X, Y), root / file)
    else:
        (root / file).write_bytes(b"pickled bytes are never read")
    mlmodel = {
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "model_path": file},
            "sklearn": {
                "pickled_model": file,
                "serialization_format": serialization,
                "skops_trusted_types": None,
            },
        }
    }
    (root / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    return MlflowModelFolder(root, mlmodel)


def register(home: Path, folder: MlflowModelFolder, name: str) -> mloop.ModelVersion:
    package = home / f"{name}-package"
    write_package(folder, package, PackageSpec(flavor="mlflow", metadata={"mlflow": {}}))
    return mloop.models.register(package, name, source=f"mlflow:models:/{name}/1")


def test_only_a_folder_of_mlflow_is_this_flavor() -> None:
    assert detect(LogisticRegression()).name == "sklearn"
    assert detect(MlflowModelFolder(Path("."), {})).name == "mlflow"


def test_a_skops_model_loads_through_the_sklearn_flavor(home: Path) -> None:
    version = register(home, mlflow_folder(home / "mlflow"), "scorer")
    assert (version.flavor, version.source) == ("mlflow", "mlflow:models:/scorer/1")
    assert list(mloop.models.load(version.uri).predict(X)) == Y


def test_a_signing_project_signs_it_and_checks_it_on_load(home: Path) -> None:
    key = mloop.models.init_keys()
    version = register(home, mlflow_folder(home / "mlflow"), "scorer")
    assert version.signing_key_id == key.key_id
    assert list(mloop.models.load(version.uri).predict(X)) == Y


def test_a_changed_local_copy_is_never_read(home: Path) -> None:
    version = register(home, mlflow_folder(home / "mlflow"), "scorer")
    mloop.models.load(version.uri)  # fetched into the local copy it loads from
    mloop.models.clear_cache()
    made = (home / "mlflow", home / "scorer-package")
    copies = [
        p
        for p in home.rglob(f"{FOLDER}/model.skops")
        if not p.is_relative_to(made[0]) and not p.is_relative_to(made[1])
    ]
    assert copies
    for copy in copies:
        copy.write_bytes(b"not the model")
    # The digests are checked before the file is read: it is fetched again, verified.
    assert list(mloop.models.load(version.uri).predict(X)) == Y
    assert all(copy.read_bytes() != b"not the model" for copy in copies)


def test_a_pickled_model_is_kept_but_refused_at_load(home: Path) -> None:
    version = register(home, mlflow_folder(home / "mlflow", "cloudpickle"), "legacy")
    with pytest.raises(InvalidInput, match=r"model\.pkl in cloudpickle format.*log_model"):
        mloop.models.load(version.uri)


def test_how_each_kind_of_mlflow_model_loads() -> None:
    skops = loader_settings(
        {
            "flavors": {
                "sklearn": {
                    "pickled_model": "m.skops",
                    "serialization_format": "skops",
                    "skops_trusted_types": ["a.B"],
                }
            }
        }
    )
    assert skops["delegate_loader"] == {
        "file": "m.skops",
        "format": "skops",
        "trusted_types": ["a.B"],
    }
    pickled = loader_settings({"flavors": {"sklearn": {}}})
    assert not pickled["loadable"]
    assert "model.pkl in pickle format" in pickled["reason"]
    other = loader_settings({"flavors": {"python_function": {}, "transformers": {}}})
    assert "none of its MLflow flavors (python_function, transformers)" in other["reason"]


def test_a_skops_model_loads_with_mloop_sklearn_too(home: Path) -> None:
    version = register(home, mlflow_folder(home / "mlflow"), "scorer")
    mloop.models.registry.set_alias("scorer", "champion", version.version)
    estimator = mloop.sklearn.load_model("models:/scorer@champion")
    assert type(estimator).__name__ == "LogisticRegression"
    assert list(estimator.predict(X)) == Y
    with pytest.raises(InvalidInput, match=r"is a 'mlflow' model, not a 'xgboost' one"):
        mloop.xgboost.load_model("models:/scorer@champion")


def test_a_pickled_model_is_refused_by_mloop_sklearn_by_what_it_is(home: Path) -> None:
    register(home, mlflow_folder(home / "mlflow", "cloudpickle"), "legacy")
    with pytest.raises(InvalidInput, match=r"is a 'mlflow' model, not a 'sklearn' one"):
        mloop.sklearn.load_model("models:/legacy/1")


def native_folder(root: Path, flavor: str, conf: dict[str, object]) -> MlflowModelFolder:
    """A folder as MLflow's xgboost or lightgbm flavor writes it (the model already in it)."""
    mlmodel = {"flavors": {"python_function": {"loader_module": f"mlflow.{flavor}"}, flavor: conf}}
    (root / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    return MlflowModelFolder(root, mlmodel)


def test_an_xgboost_model_in_its_own_format_loads_with_mloop_xgboost(home: Path) -> None:
    import xgboost

    root = home / "xgb"
    root.mkdir(parents=True)
    fitted = xgboost.XGBClassifier(n_estimators=2).fit(X, Y)
    fitted.save_model(str(root / "model.ubj"))
    conf = {
        "data": "model.ubj",
        "model_class": "xgboost.sklearn.XGBClassifier",
        "model_format": "ubj",
    }
    register(home, native_folder(root, "xgboost", conf), "boosted")
    model = mloop.xgboost.load_model("models:/boosted/1")
    assert type(model).__name__ == "XGBClassifier"
    assert (model.predict_proba(X) == fitted.predict_proba(X)).all()


def test_a_lightgbm_booster_loads_with_mloop_lightgbm(home: Path) -> None:
    import lightgbm

    root = home / "lgb"
    root.mkdir(parents=True)
    rows = np.array([[float(i), float(i % 3)] for i in range(40)])
    data = lightgbm.Dataset(rows, label=np.array([i % 2 for i in range(40)]))
    booster = lightgbm.train({"verbose": -1, "min_data_in_leaf": 1}, data, num_boost_round=2)
    booster.save_model(str(root / "model.lgb"))
    conf = {"data": "model.lgb", "model_class": "lightgbm.basic.Booster"}
    register(home, native_folder(root, "lightgbm", conf), "gbm")
    assert isinstance(mloop.lightgbm.load_model("models:/gbm/1"), lightgbm.Booster)


def test_native_models_mloop_cannot_read_say_why() -> None:
    old = loader_settings({"flavors": {"xgboost": {"data": "model.xgb", "model_format": "xgb"}}})
    assert "Booster in xgb format" in old["reason"]
    wrapper = {"data": "model.pkl", "model_class": "lightgbm.sklearn.LGBMClassifier"}
    pickled = loader_settings({"flavors": {"lightgbm": wrapper}})
    assert "model.pkl in cloudpickle format" in pickled["reason"]
    skops = loader_settings({"flavors": {"lightgbm": {**wrapper, "serialization_format": "skops"}}})
    assert (skops["delegate"], skops["delegate_loader"]["wrapper"]) == ("lightgbm", "model.pkl")
