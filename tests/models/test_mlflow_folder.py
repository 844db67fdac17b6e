"""Imported MLflow model folders: loaded only from a format that needs no unpickling."""

from __future__ import annotations

from pathlib import Path

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
