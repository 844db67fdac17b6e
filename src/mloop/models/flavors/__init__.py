"""Model flavors: how each kind of model is saved into a package and loaded back.

A flavor is an object with a ``name``, the pip ``extra`` that installs its
library, the ``packages`` whose versions a package pins, and three methods:
``detect`` (is this object mine? answered without importing the library),
``save`` (write the model's files, return the loader's settings) and
``load`` (read them back into a :class:`Predictor`). Built-ins: ``sklearn``
(skops, no pickle), ``xgboost``, ``lightgbm`` (their native formats),
``pytorch`` (a state dict with its module class, or TorchScript), ``onnx``
and ``pyfunc`` (a :class:`~mloop.models.pyfunc.PythonModel`); ``mlflow`` holds
an imported MLflow model folder (:mod:`mloop.models.flavors.mlflow_folder`). Third parties
add more through the ``mloop.flavors`` entry-point group, each entry naming a
flavor object; they are asked first.

Example:
    >>> from mloop.models.pyfunc import PythonModel
    >>> class Echo(PythonModel):
    ...     def predict(self, model_input):
    ...         return model_input
    >>> detect(Echo()).name
    'pyfunc'
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import importlib.metadata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from mloop.errors import InvalidInput, MissingExtra
from mloop.plugins import Registry

BUILTIN_ORDER = ("xgboost", "lightgbm", "pytorch", "onnx", "sklearn", "pyfunc")

registry = Registry(
    "mloop.flavors",
    {
        **{name: f"mloop.models.flavors.{name}:FLAVOR" for name in BUILTIN_ORDER},
        # Imported MLflow model folders (mloop import mlflow); never detected from an object.
        "mlflow": "mloop.models.flavors.mlflow_folder:FLAVOR",
    },
)


@dataclasses.dataclass(frozen=True)
class SaveOptions:
    """What some flavors need beyond the model object.

    ``init_kwargs``: the keyword arguments that rebuild a PyTorch module before
    its state dict is loaded. ``torch_format``: how a PyTorch module is saved
    (``state_dict``, ``torchscript`` or ``export``; by default what the object
    is). ``artifacts`` and ``model_config``: files and settings handed to a
    :class:`~mloop.models.pyfunc.PythonModel`'s ``load_context``. ``example``:
    the input example, for formats that trace the model with it.
    """

    init_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    torch_format: str | None = None
    example: Any = None
    artifacts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    model_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class Predictor(abc.ABC):
    """A loaded model as the flavor sees it: ``predict`` and, if it has one, ``predict_proba``.

    ``model`` is the native object (an estimator, a booster, a module, a session).
    """

    has_proba = False
    takes_params = False
    """Whether ``predict_with_params`` hands params to the model (else it refuses them)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    @abc.abstractmethod
    def predict(self, data: Any) -> Any:
        """Predictions for prepared input (already checked against the signature)."""

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, for models that have them (``has_proba``)."""
        raise InvalidInput(f"a {type(self.model).__name__} model has no predict_proba")

    def predict_with_params(self, data: Any, params: dict[str, Any]) -> Any:
        """Predictions with inference parameters, for models whose ``predict`` takes them."""
        raise InvalidInput(
            f"a {type(self.model).__name__} model takes no params; got {sorted(params)}"
        )


class Flavor(Protocol):
    """The contract every flavor keeps.

    - ``detect`` answers without importing the flavor's library (it looks at
      the classes' modules), so that detection costs nothing for other flavors;
    - ``save`` writes files only inside ``path`` and returns JSON-able loader
      settings; bad input raises InvalidInput before anything is written;
    - ``load`` reads what ``save`` wrote and never unpickles: a model that can
      only be pickled is refused at save time;
    - a missing library raises MissingExtra naming ``extra``.
    """

    name: str
    extra: str
    packages: tuple[str, ...]

    def detect(self, model: object) -> bool:
        """Whether this flavor saves ``model``."""

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """Write the model's files into ``path``; return the loader settings."""

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """Load the files of a package folder into a predictor."""


def class_modules(model: object) -> set[str]:
    """Top-level package names of the classes ``model`` is an instance of (by its MRO)."""
    return {cls.__module__.partition(".")[0] for cls in type(model).__mro__}


def check_fitted(model: object) -> None:
    """Refuse a scikit-learn-style wrapper that was never fitted (it has no weights to save).

    Raises:
        InvalidInput: the model's ``__sklearn_is_fitted__`` says it is not fitted.
    """
    is_fitted = getattr(model, "__sklearn_is_fitted__", None)
    if callable(is_fitted) and not is_fitted():
        raise InvalidInput(
            f"this {type(model).__name__} is not fitted; call fit() before saving it"
        )


def require(module: str, extra: str, package: str | None = None) -> Any:
    """Import a flavor's library, or raise MissingExtra naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(package or module.partition(".")[0], extra=extra) from None


def get(name: str) -> Flavor:
    """The flavor registered as ``name``.

    Raises:
        InvalidInput: no such flavor; the message lists the known ones.
    """
    flavor: Flavor = registry.load(name)
    return flavor


def detect(model: object) -> Flavor:
    """The flavor that saves ``model``: plugins first, then the built-ins.

    Raises:
        InvalidInput: no flavor recognizes the object.
    """
    names = [n for n in registry.names() if n not in BUILTIN_ORDER] + list(BUILTIN_ORDER)
    for name in names:
        flavor = get(name)
        if flavor.detect(model):
            return flavor
    raise InvalidInput(
        f"no model flavor saves a {type(model).__module__}.{type(model).__qualname__}; "
        f"supported: scikit-learn, XGBoost, LightGBM, PyTorch, ONNX, or a subclass of "
        f"mloop.models.PythonModel (known flavors: {', '.join(registry.names())})"
    )


def pinned_versions(packages: Sequence[str]) -> dict[str, str]:
    """``{distribution: version}`` for those of ``packages`` that are installed."""
    found = {}
    for package in packages:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def import_reference(reference: str, what: str) -> Any:
    """Import ``"module:Qualified.Name"`` for a loader, with a clear error when it cannot."""
    module_name, _, qualname = reference.partition(":")
    if not module_name or not qualname:
        raise InvalidInput(f"{what} reference {reference!r} is not 'module:Name'")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise InvalidInput(
            f"cannot import {what} {reference!r} ({err}); make its module importable "
            "(install it, or save the model with code_paths=[...])"
        ) from None
    return obj


def reference_of(cls: type, what: str) -> str:
    """``"module:Qualified.Name"`` for a class a loader must import again.

    Raises:
        InvalidInput: the class lives in ``__main__`` or inside a function.
    """
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise InvalidInput(
            f"{what} {cls.__qualname__} is defined in {cls.__module__!r}"
            f"{' inside a function' if '<locals>' in cls.__qualname__ else ''}, so it cannot "
            "be imported when the model loads; define it at the top level of a module "
            "(and pass code_paths=[...] to ship that module with the model)"
        )
    return f"{cls.__module__}:{cls.__qualname__}"
