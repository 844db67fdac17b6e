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
from mloop.models.flavors.skops_defaults import is_default_estimator, lean_defaults, skops_io

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
        _check_fitted(model)
        return {
            "file": FILE,
            "format": "skops",
            "class": f"{type(model).__module__}.{type(model).__qualname__}",
            "trusted_types": dump_skops(model, path / FILE),
        }

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """Load with skops, trusting only the types recorded at save time."""
        trusted = [str(t) for t in loader.get("trusted_types", [])]
        return SklearnPredictor(load_skops(path / str(loader["file"]), trusted))


def dump_skops(model: Any, target: Path) -> list[str]:
    """Write ``model`` with skops; the types a load of it must trust.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from sklearn.linear_model import LinearRegression
        >>> target = Path(tempfile.mkdtemp()) / "model.skops"
        >>> trusted = dump_skops(LinearRegression().fit([[0.0], [1.0]], [0.0, 2.0]), target)
        >>> round(float(load_skops(target, trusted).predict([[2.0]])[0]), 6)
        4.0
    """
    sio = skops_io()
    try:
        sio.dump(model, target)
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"skops cannot save this {type(model).__name__}: {err}") from None
    return sorted(sio.get_untrusted_types(file=target))


def load_skops(target: Path, trusted: list[str]) -> Any:
    """Load a skops file, refusing it if it holds a type outside ``trusted`` and skops's defaults.

    The estimator types among skops's defaults are checked one by one, for the
    types the file holds (:mod:`mloop.models.flavors.skops_defaults`); only if one
    cannot be placed that way is skops's full list computed.
    """
    sio = skops_io()
    with lean_defaults():
        held = set(sio.get_untrusted_types(file=target)) - set(trusted)
        if all(map(is_default_estimator, held)):
            return sio.load(target, trusted=[*trusted, *sorted(held)])
    unexpected = sorted(set(sio.get_untrusted_types(file=target)) - set(trusted))
    if unexpected:
        raise IntegrityError(
            f"{target} holds types that were not in it when it was saved: {unexpected}; "
            "refusing to load it"
        )
    return sio.load(target, trusted=trusted)


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
