"""LightGBM models in LightGBM's own text format: boosters and the scikit-learn wrappers.

A scikit-learn wrapper (``LGBMClassifier`` …) is saved twice: as its booster
plus what the booster does not know (the classes of a classifier), and whole
with skops (no pickle; the types a load must trust are recorded in the signed
manifest), so it loads back as the wrapper it was. Packages written before
the wrapper was kept load as a booster that answers ``predict`` and
``predict_proba`` as the wrapper did.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.models.flavors import Predictor, SaveOptions, check_fitted, class_modules, require
from mloop.models.flavors.sklearn import SklearnPredictor, dump_skops, load_skops

FILE = "model.txt"
WRAPPER_FILE = "wrapper.skops"


class LightGBMPredictor(Predictor):
    """A booster; with ``classes`` it predicts labels and class probabilities."""

    def __init__(self, booster: Any, classes: list[Any] | None) -> None:
        super().__init__(booster)
        self._classes = classes
        self.has_proba = classes is not None

    def predict(self, data: Any) -> Any:
        """Labels for a classifier, raw predictions otherwise."""
        if self._classes is None:
            return self.model.predict(data)
        import numpy as np

        return np.asarray(self._classes)[self.predict_proba(data).argmax(axis=1)]

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities (one column per class)."""
        if self._classes is None:
            return super().predict_proba(data)
        import numpy as np

        scores = self.model.predict(data)
        if scores.ndim == 1:  # binary: the booster gives P(second class)
            return np.column_stack([1.0 - scores, scores])
        return scores


class LightGBMFlavor:
    """The ``lightgbm`` flavor."""

    name = "lightgbm"
    extra = "lightgbm"
    packages = ("lightgbm", "numpy", "scipy")

    def detect(self, model: object) -> bool:
        """A booster or a LightGBM scikit-learn wrapper."""
        return "lightgbm" in class_modules(model) and hasattr(model, "predict")

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """The booster's text format, plus the classes of a classifier."""
        lgb = require("lightgbm", "lightgbm")
        check_fitted(model)
        booster = model if isinstance(model, lgb.Booster) else model.booster_
        booster.save_model(str(path / FILE))
        classes = getattr(model, "classes_", None)
        loader: dict[str, Any] = {
            "file": FILE,
            "format": "text",
            "class": type(model).__name__,
            "classes": classes.tolist() if classes is not None else None,
        }
        if booster is not model:
            loader["wrapper"] = WRAPPER_FILE
            loader["trusted_types"] = dump_skops(model, path / WRAPPER_FILE)
        return loader

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """The wrapper when it was kept, else a booster from the text file."""
        lgb = require("lightgbm", "lightgbm")
        if "wrapper" in loader:
            trusted = [str(t) for t in loader.get("trusted_types", [])]
            return SklearnPredictor(load_skops(path / str(loader["wrapper"]), trusted))
        booster = lgb.Booster(model_file=str(path / str(loader["file"])))
        classes = loader.get("classes")
        return LightGBMPredictor(booster, list(classes) if classes is not None else None)


FLAVOR = LightGBMFlavor()
