"""scikit-learn models, saved with skops: no pickle, and only the types recorded at save load.

skops lists the types a file holds that it does not trust by default (custom
transformers, third-party estimators). Those found at save time are recorded
in the signed manifest; a load trusts exactly them, so a file that gained any
other type is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.errors import IntegrityError, InvalidInput
from mloop.models.flavors import Predictor, SaveOptions, class_modules, require

FILE = "model.skops"


class SklearnPredictor(Predictor):
    """An estimator's ``predict`` and, for classifiers, ``predict_proba``."""

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.has_proba = hasattr(model, "predict_proba")
        self._predict = model.predict
        self._proba = getattr(model, "predict_proba", None)

    def predict(self, data: Any) -> Any:
        """The estimator's predictions."""
        return self._predict(data)

    def predict_proba(self, data: Any) -> Any:
        """The estimator's class probabilities."""
        if self._proba is None:
            return super().predict_proba(data)
        return self._proba(data)


class SklearnFlavor:
    """The ``sklearn`` flavor."""

    name = "sklearn"
    extra = "sklearn"
    packages = ("scikit-learn", "skops", "numpy", "scipy")

    def detect(self, model: object) -> bool:
        """Any scikit-learn estimator (or pipeline) with a ``predict``."""
        return "sklearn" in class_modules(model) and hasattr(model, "predict")

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """Dump with skops and record the types a load must trust."""
        sio = require("skops.io", "sklearn", "skops")
        _check_fitted(model)
        target = path / FILE
        try:
            sio.dump(model, target)
        except (TypeError, ValueError) as err:
            raise InvalidInput(f"skops cannot save this {type(model).__name__}: {err}") from None
        return {
            "file": FILE,
            "format": "skops",
            "class": f"{type(model).__module__}.{type(model).__qualname__}",
            "trusted_types": sorted(sio.get_untrusted_types(file=target)),
        }

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """Load with skops, trusting only the types recorded at save time."""
        sio = require("skops.io", "sklearn", "skops")
        target = path / str(loader["file"])
        trusted = [str(t) for t in loader.get("trusted_types", [])]
        unexpected = sorted(set(sio.get_untrusted_types(file=target)) - set(trusted))
        if unexpected:
            raise IntegrityError(
                f"{target} holds types that were not in it when it was saved: {unexpected}; "
                "refusing to load it"
            )
        return SklearnPredictor(sio.load(target, trusted=trusted))


def _check_fitted(model: Any) -> None:
    validation = require("sklearn.utils.validation", "sklearn", "scikit-learn")
    exceptions = require("sklearn.exceptions", "sklearn", "scikit-learn")
    try:
        validation.check_is_fitted(model)
    except exceptions.NotFittedError:
        raise InvalidInput(
            f"this {type(model).__name__} is not fitted; call fit() before saving it"
        ) from None


FLAVOR = SklearnFlavor()
