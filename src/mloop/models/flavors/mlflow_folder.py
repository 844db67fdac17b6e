"""The ``mlflow`` flavor: an MLflow model folder (``MLmodel`` and its files), kept whole.

``mloop import mlflow`` stores each imported model version as a package of
this flavor: the MLflow folder's files as they were, with the manifest
(digests, and the importing project's signature when it signs) around them.
Loading goes through mloop's one verified path; this flavor then loads the
model only from a format that needs no unpickling, through the mloop flavor
that reads it: scikit-learn (and LightGBM scikit-learn) models MLflow saved
with skops (``serialization_format: skops``, MLflow's default since 3.x),
trusting exactly the types MLflow recorded as trusted; XGBoost models in
XGBoost's own UBJSON or JSON file; LightGBM boosters in LightGBM's text file.
Such a package loads with that flavor's ``load_model`` too
(``mloop.sklearn.load_model("models:/NAME@alias")``). Anything else (a pickled or
cloudpickled model, a flavor mloop does not read) is kept but refused at load
with a message that says why and what to do.

Example:
    >>> plan = loader_settings({"flavors": {"sklearn": {"pickled_model": "model.pkl",
    ...                          "serialization_format": "cloudpickle"}}})
    >>> plan["loadable"], plan["reason"].split(",")[0]
    (False, 'the model is stored as model.pkl in cloudpickle format')
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.errors import InvalidInput
from mloop.models.flavors import Predictor, SaveOptions
from mloop.models.flavors import get as get_flavor
from mloop.models.flavors.xgboost import CLASSES as XGBOOST_CLASSES

FOLDER = "mlflow_model"
"""Where the MLflow folder's files sit inside the package."""


@dataclasses.dataclass(frozen=True)
class MlflowModelFolder:
    """A local MLflow model folder and its parsed ``MLmodel``: what this flavor saves."""

    path: Path
    mlmodel: Mapping[str, Any]


def loader_settings(mlmodel: Mapping[str, Any]) -> dict[str, Any]:
    """How a package of an MLflow model loads: through which mloop flavor, or why it cannot.

    ``delegate`` names the mloop flavor that reads the model; that flavor's own
    ``load_model`` (``mloop.sklearn.load_model``…) loads the package too.
    """
    flavors = dict(mlmodel.get("flavors") or {})
    settings: dict[str, Any] = {"folder": FOLDER, "mlflow_flavors": sorted(flavors)}
    reasons = []
    for name, plan in (("xgboost", _xgboost), ("lightgbm", _lightgbm), ("sklearn", _sklearn)):
        conf = flavors.get(name)
        if not isinstance(conf, Mapping):
            continue
        delegate, found = plan(conf)
        if isinstance(found, str):
            reasons.append(found)
            continue
        return {**settings, "loadable": True, "delegate": delegate, "delegate_loader": found}
    reason = (
        reasons[0]
        if reasons
        else f"mloop reads none of its MLflow flavors ({', '.join(sorted(flavors)) or 'none'})"
    )
    return {
        **settings,
        "loadable": False,
        "reason": f"{reason}; its files and metadata were imported, but mloop does not load it",
    }


_Plan = tuple[str, dict[str, Any] | str]
"""An mloop flavor and its loader settings, or why the model cannot load through it."""


def _unsafe(file: str, fmt: str) -> str:
    return f"the model is stored as {file} in {fmt} format, which runs code when it is read"


def _trusted(conf: Mapping[str, Any]) -> list[str]:
    return [str(t) for t in conf.get("skops_trusted_types") or []]


def _sklearn(conf: Mapping[str, Any]) -> _Plan:
    """MLflow's sklearn flavor: loadable when saved with skops."""
    fmt = str(conf.get("serialization_format") or "pickle")
    file = str(conf.get("pickled_model") or "model.pkl")
    if fmt != "skops":
        return "sklearn", _unsafe(file, fmt)
    return "sklearn", {"file": file, "format": "skops", "trusted_types": _trusted(conf)}


def _xgboost(conf: Mapping[str, Any]) -> _Plan:
    """MLflow's xgboost flavor: XGBoost's own file (UBJSON or JSON) with the class recorded."""
    file = str(conf.get("data") or "")
    fmt = str(conf.get("model_format") or file.rpartition(".")[2])
    cls = str(conf.get("model_class") or "xgboost.core.Booster").rpartition(".")[2]
    if fmt not in {"ubj", "json"} or cls not in XGBOOST_CLASSES or not file:
        return "xgboost", f"its XGBoost model is a {cls} in {fmt or 'no'} format"
    return "xgboost", {"file": file, "format": fmt, "class": cls}


def _lightgbm(conf: Mapping[str, Any]) -> _Plan:
    """MLflow's lightgbm flavor: a booster's text file, or a wrapper saved with skops."""
    file = str(conf.get("data") or "model.lgb")
    cls = str(conf.get("model_class") or "lightgbm.basic.Booster")
    if cls == "lightgbm.basic.Booster":
        return "lightgbm", {"file": file, "format": "text", "class": "Booster", "classes": None}
    fmt = str(conf.get("serialization_format") or "cloudpickle")
    if fmt != "skops":
        return "lightgbm", _unsafe(file, fmt)
    loader = {"file": file, "wrapper": file, "trusted_types": _trusted(conf)}
    return "lightgbm", {**loader, "class": cls.rpartition(".")[2]}


class MlflowFolderFlavor:
    """The ``mlflow`` flavor (made by ``mloop import mlflow``, never detected from an object)."""

    name = "mlflow"
    extra = "sklearn"
    packages: tuple[str, ...] = ()

    def detect(self, model: object) -> bool:
        """Only an :class:`MlflowModelFolder`."""
        return isinstance(model, MlflowModelFolder)

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """Copy the MLflow folder into the package; return how it loads."""
        if not isinstance(model, MlflowModelFolder):
            raise InvalidInput("the mlflow flavor saves an MLflow model folder only")
        shutil.copytree(model.path, path / FOLDER, copy_function=shutil.copyfile)
        return loader_settings(model.mlmodel)

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """Load through the mloop flavor that reads the model's format, or refuse and say why."""
        if not loader.get("loadable"):
            raise InvalidInput(
                f"this model was imported from MLflow and is not loadable by mloop: "
                f"{loader.get('reason')}. Load it with MLflow from its files in "
                f"{path / FOLDER}, then save it with mloop.models.log_model(...) so it is stored "
                "in a format mloop loads safely"
            )
        flavor = get_flavor(str(loader["delegate"]))
        return flavor.load(path / str(loader["folder"]), dict(loader["delegate_loader"]))


FLAVOR = MlflowFolderFlavor()
