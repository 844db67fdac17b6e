"""Models as step outputs: logged models by reference, model objects as packages.

A step that logs a model and returns its :class:`~mloop.models.ModelInfo`
passes a reference (``model``): the next step gets the same ModelInfo back,
after a check that the run still holds that package. A step that returns a
model object (a scikit-learn estimator, an XGBoost model, a PyTorch module,
an ONNX graph, a PythonModel) stores it as a model package through its
flavor — no pickle — and the next step gets the object back (``model_package``),
signed with the project's key and verified on load like every model
(:mod:`mloop.models.tarball`).

Example:
    >>> MODEL.handles_type(dict), MODEL_INFO.name
    (False, 'model')
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mloop.errors import InvalidInput, NotFound
from mloop.pipelines.materializer import Materializer, by_class

# The models layer is imported in the functions below, on first use, and not here:
# measured, it (numpy with it) adds about 175 ms, +30 %, to `import mloop.pipelines`,
# which every script with an @mloop.step pays, most of them passing no model.

# Flavors whose load gives back the very kind of object that was saved.
NATIVE_FLAVORS = frozenset({"sklearn", "xgboost", "pytorch", "onnx", "pyfunc"})
_MODEL_BASES = frozenset(
    {
        ("sklearn", "BaseEstimator"),
        ("xgboost", "XGBModel"),
        ("xgboost", "Booster"),
        ("torch", "Module"),
        ("onnx", "ModelProto"),
    }
)


def _info_dumps(info: Any) -> bytes:
    return json.dumps({"model_uri": info.model_uri, "digest": info.digest}).encode()


def _info_loads(data: bytes) -> Any:
    from mloop.models import get_model_info

    reference = json.loads(data)
    try:
        info = get_model_info(reference["model_uri"])
    except NotFound:
        raise NotFound(
            f"model {reference['model_uri']} that this output names was removed"
        ) from None
    if info.digest != reference["digest"]:
        raise InvalidInput(
            f"{reference['model_uri']} is no longer the model this output named (digest "
            f"{reference['digest'][:12]}); it was logged again over it"
        )
    return info


MODEL_INFO = Materializer(
    name="model",
    version="1",
    suffix=".json",
    **by_class("mloop.models", "ModelInfo"),
    dumps=_info_dumps,
    loads=_info_loads,
)


def _model_type(tp: Any) -> bool:
    """Whether an annotation is a model class a flavor saves natively (matched by name)."""
    if not isinstance(tp, type):
        return False
    if any(cls.__module__.partition(".")[0] == "lightgbm" for cls in tp.__mro__):
        return False  # a wrapper loads back as a booster: log it with log_model instead
    for cls in tp.__mro__:
        top, name = cls.__module__.partition(".")[0], cls.__name__
        if (top, name) in _MODEL_BASES:
            return top != "sklearn" or hasattr(tp, "predict")
        if cls.__module__ == "mloop.models.pyfunc" and name == "PythonModel":
            return True
    return False


def _model_value(value: Any) -> bool:
    from mloop.models.flavors import detect

    if not _model_type(type(value)):
        return False
    try:
        return detect(value).name in NATIVE_FLAVORS
    except InvalidInput:
        return False


def _package_dumps(model: Any) -> bytes:
    from mloop.models.tarball import pack

    return pack(model)


def _package_loads(data: bytes) -> Any:
    from mloop.models.tarball import load_archive

    what = f"the model output {hashlib.sha256(data).hexdigest()[:12]} of a step"
    return load_archive(data, what).model


MODEL = Materializer(
    name="model_package",
    version="1",
    suffix=".tar",
    handles_type=_model_type,
    handles_value=_model_value,
    dumps=_package_dumps,
    loads=_package_loads,
)
