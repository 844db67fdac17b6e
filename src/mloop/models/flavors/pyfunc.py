"""The ``pyfunc`` flavor: a :class:`~mloop.models.pyfunc.PythonModel` by reference, with files."""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.errors import IntegrityError, InvalidInput, NotFound
from mloop.models.flavors import Predictor, SaveOptions, import_reference, reference_of
from mloop.models.pyfunc import ModelContext, PythonModel

ARTIFACTS = "artifacts"


def takes_context(method: Any) -> bool:
    """True for MLflow's ``predict(context, model_input, params=None)``: two required arguments.

    Example:
        >>> class Mlflow:
        ...     def predict(self, context, model_input, params=None): ...
        >>> takes_context(Mlflow().predict)
        True
    """
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [
        p
        for p in inspect.signature(method).parameters.values()
        if p.kind in positional and p.default is inspect.Parameter.empty
    ]
    return len(required) >= 2


def _takes_params(method: Any) -> bool:
    parameters = inspect.signature(method).parameters.values()
    return any(p.name == "params" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


class PythonModelPredictor(Predictor):
    """Calls the user's ``predict`` (and ``predict_proba`` when the class defines one)."""

    def __init__(self, model: PythonModel, context: ModelContext | None = None) -> None:
        super().__init__(model)
        self.has_proba = callable(getattr(model, "predict_proba", None))
        self.context = context or ModelContext({}, {})
        self.mlflow_form = takes_context(model.predict)
        self.takes_params = _takes_params(model.predict)

    def predict(self, data: Any) -> Any:
        """The model's ``predict`` (given the context first when it is written MLflow's way)."""
        if self.mlflow_form:
            return self.model.predict(self.context, data)
        return self.model.predict(data)

    def predict_with_params(self, data: Any, params: dict[str, Any]) -> Any:
        """The model's ``predict`` given ``params``, when it is written to take them."""
        if not self.takes_params:
            return super().predict_with_params(data, params)
        if self.mlflow_form:
            return self.model.predict(self.context, data, params=params)
        return self.model.predict(data, params=params)

    def predict_proba(self, data: Any) -> Any:
        """The model's ``predict_proba``."""
        if not self.has_proba:
            return super().predict_proba(data)
        return self.model.predict_proba(data)


class PyfuncFlavor:
    """The ``pyfunc`` flavor."""

    name = "pyfunc"
    extra = "pyfunc"
    packages = ("numpy", "pandas")

    def detect(self, model: object) -> bool:
        """An instance of a PythonModel subclass."""
        return isinstance(model, PythonModel)

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """Record the class by reference; copy the artifacts into the package."""
        reference = reference_of(type(model), "PythonModel class")
        try:
            config = json.loads(json.dumps(dict(options.model_config)))
        except (TypeError, ValueError):
            raise InvalidInput("model_config must hold JSON values only") from None
        sources = {name: Path(source) for name, source in options.artifacts.items()}
        for name, source in sources.items():
            if not name or "/" in name or name.startswith("."):
                raise InvalidInput(f"artifact name {name!r} must be a plain name like 'vocab'")
            if not source.exists():
                raise NotFound(f"artifact {name!r}: {str(source)!r} does not exist")
        artifacts = {}
        for name, source in sources.items():
            target = path / ARTIFACTS / name / source.name
            if source.is_dir():
                shutil.copytree(source, target, copy_function=shutil.copyfile)  # fresh times
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            artifacts[name] = target.relative_to(path).as_posix()
        return {"class": reference, "artifacts": artifacts, "model_config": config}

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """Import the class, build it and hand it its context."""
        cls = import_reference(str(loader["class"]), "PythonModel class")
        if not (isinstance(cls, type) and issubclass(cls, PythonModel)):
            raise IntegrityError(f"{loader['class']!r} is not a mloop.models.PythonModel subclass")
        artifacts = {
            name: str(path / relative)
            for name, relative in dict(loader.get("artifacts") or {}).items()
        }
        model = cls()
        context = ModelContext(artifacts, dict(loader.get("model_config") or {}))
        model.load_context(context)
        return PythonModelPredictor(model, context)


FLAVOR = PyfuncFlavor()
