"""XGBoost models in XGBoost's own format (UBJSON): boosters and the scikit-learn wrappers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.errors import IntegrityError
from mloop.models.flavors import Predictor, SaveOptions, check_fitted, class_modules, require

FILE = "model.ubj"
# A loader names one of these; nothing else is ever imported from a manifest.
CLASSES = (
    "Booster",
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
)


class XGBoostPredictor(Predictor):
    """A wrapper's ``predict``/``predict_proba``, or a booster's ``predict`` on a DMatrix."""

    def __init__(self, model: Any, xgb: Any) -> None:
        super().__init__(model)
        self._booster = isinstance(model, xgb.Booster)
        self._matrix = xgb.DMatrix
        self.has_proba = hasattr(model, "predict_proba")

    def predict(self, data: Any) -> Any:
        """The model's predictions."""
        if self._booster:
            return self.model.predict(self._matrix(data))
        return self.model.predict(data)

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities of a classifier."""
        if not self.has_proba:
            return super().predict_proba(data)
        return self.model.predict_proba(data)


class XGBoostFlavor:
    """The ``xgboost`` flavor."""

    name = "xgboost"
    extra = "xgboost"
    packages = ("xgboost", "xgboost-cpu", "numpy", "scipy")

    def detect(self, model: object) -> bool:
        """A booster or an XGBoost scikit-learn wrapper."""
        return "xgboost" in class_modules(model) and type(model).__name__ in CLASSES

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """``save_model`` in UBJSON."""
        require("xgboost", "xgboost")
        check_fitted(model)
        model.save_model(str(path / FILE))
        return {"file": FILE, "format": "ubj", "class": type(model).__name__}

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """Rebuild the class named in the manifest and ``load_model`` into it."""
        xgb = require("xgboost", "xgboost")
        name = str(loader.get("class"))
        if name not in CLASSES:
            raise IntegrityError(f"unknown XGBoost class {name!r} in the manifest")
        model = getattr(xgb, name)()
        model.load_model(str(path / str(loader["file"])))
        return XGBoostPredictor(model, xgb)


FLAVOR = XGBoostFlavor()
