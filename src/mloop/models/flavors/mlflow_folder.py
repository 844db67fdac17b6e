"""The ``mlflow`` flavor: an MLflow model folder (``MLmodel`` and its files), kept whole.

``mloop import mlflow`` stores each imported model version as a package of
this flavor: the MLflow folder's files as they were, with the manifest
(digests, and the importing project's signature when it signs) around them.
Loading goes through mloop's one verified path; this flavor then loads the
model only from a format that needs no unpickling, through the mloop flavor
that reads it: scikit-learn models MLflow saved with skops
(``serialization_format: skops``, MLflow's default since 3.x), trusting
exactly the types MLflow recorded as trusted. Anything else (a pickled or
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

FOLDER = "mlflow_model"
"""Where the MLflow folder's files sit inside the package."""


@dataclasses.dataclass(frozen=True)
class MlflowModelFolder:
    """A local MLflow model folder and its parsed ``MLmodel``: what this flavor saves."""

    path: Path
    mlmodel: Mapping[str, Any]


def loader_settings(mlmodel: Mapping[str, Any]) -> dict[str, Any]:
    """How a package of an MLflow model loads: through which mloop flavor, or why it cannot."""
    flavors = dict(mlmodel.get("flavors") or {})
    settings: dict[str, Any] = {"folder": FOLDER, "mlflow_flavors": sorted(flavors)}
    sklearn = flavors.get("sklearn")
    if isinstance(sklearn, Mapping):
        fmt = str(sklearn.get("serialization_format") or "pickle")
        file = str(sklearn.get("pickled_model") or "model.pkl")
        if fmt == "skops":
            trusted = [str(t) for t in sklearn.get("skops_trusted_types") or []]
            return {
                **settings,
                "loadable": True,
                "delegate": "sklearn",
                "delegate_loader": {"file": file, "format": "skops", "trusted_types": trusted},
            }
        reason = f"the model is stored as {file} in {fmt} format, which runs code when it is read"
    else:
        reason = f"mloop reads none of its MLflow flavors ({', '.join(sorted(flavors)) or 'none'})"
    return {
        **settings,
        "loadable": False,
        "reason": f"{reason}; its files and metadata were imported, but mloop does not load it",
    }


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
