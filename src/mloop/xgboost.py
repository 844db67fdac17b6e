"""XGBoost models under MLflow's names: ``log_model``, ``save_model``, ``load_model``.

A script written for ``mlflow.xgboost`` runs with ``mloop.xgboost``. A
``Booster`` or a scikit-learn wrapper (``XGBClassifier`` …) is saved in
XGBoost's own format; ``model_format`` takes MLflow's values (``xgb``,
``json``, ``ubj``) and each writes UBJSON. ``load_model`` gives back the
class that was logged (a Booster, or the wrapper), read through mloop's
verified load path.

Example:
    >>> import mloop, mloop.xgboost, numpy as np, xgboost as xgb
    >>> X, y = np.arange(20.0).reshape(-1, 1), [0] * 10 + [1] * 10
    >>> clf = xgb.XGBClassifier(n_estimators=2).fit(X, y)
    >>> with mloop.start_run():
    ...     info = mloop.xgboost.log_model(clf, name="model", registered_model_name="boost")
    >>> model = mloop.xgboost.load_model("models:/boost/1")
    >>> type(model).__name__, bool((model.predict_proba(X) == clf.predict_proba(X)).all())
    ('XGBClassifier', True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.autologging.xgboost import autolog as autolog
from mloop.errors import InvalidInput
from mloop.models import flavor_api
from mloop.models.flavor_api import Common, ModelUriLike, Requirements
from mloop.models.info import ModelInfo
from mloop.models.signature import Signature

_FLAVOR = "xgboost"
MODEL_FORMATS = ("xgb", "json", "ubj")
"""What ``model_format`` takes; each of them writes XGBoost's UBJSON format."""


def _check_format(model_format: str) -> None:
    if model_format not in MODEL_FORMATS:
        raise InvalidInput(
            f"model_format must be one of {MODEL_FORMATS}, got {model_format!r} (every one "
            "of them saves as UBJSON here)"
        )


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    *,
    name: str | None = None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    registered_model_name: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    model_format: str = "ubj",
    metadata: Mapping[str, Any] | None = None,
    **unsupported: Any,
) -> ModelInfo:
    """Log a trained Booster or XGBoost scikit-learn model to the active run.

    Arguments as :func:`mloop.sklearn.log_model`: ``name`` or ``artifact_path``
    (not both; neither picks ``model``, ``model-2`` …), registration at once,
    requirements recorded in the package's metadata.

    Example:
        >>> import mloop, mloop.xgboost, numpy as np, xgboost as xgb
        >>> booster = xgb.train({}, xgb.DMatrix(np.array([[0.0], [1.0]]), [0.0, 1.0]), 2)
        >>> with mloop.start_run():
        ...     info = mloop.xgboost.log_model(booster, artifact_path="booster")
        >>> info.flavor, info.artifact_path
        ('xgboost', 'booster')

    Raises:
        InvalidInput: both ``name`` and ``artifact_path``, an argument this function
            does not take, a model that is not an XGBoost model, an unknown
            ``model_format``, or a bad option.
        AlreadyExists: the run already has artifacts at that name.
    """
    flavor_api.reject_unknown("mloop.xgboost.log_model", unsupported)
    _check_format(model_format)
    common = Common(
        input_example=input_example,
        signature=signature,
        metadata=metadata,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
    )
    return flavor_api.log_model(
        _FLAVOR,
        xgb_model,
        common,
        function="mloop.xgboost.log_model",
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
    )


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    *,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    model_format: str = "ubj",
    metadata: Mapping[str, Any] | None = None,
    **unsupported: Any,
) -> None:
    """Save a trained XGBoost model as a package folder at ``path`` (new, or an empty folder).

    Example:
        >>> import mloop.xgboost, numpy as np, tempfile, xgboost as xgb
        >>> path = tempfile.mkdtemp() + "/reg"
        >>> reg = xgb.XGBRegressor(n_estimators=2).fit(np.array([[0.0], [1.0]]), [0.0, 1.0])
        >>> mloop.xgboost.save_model(reg, path)
        >>> type(mloop.xgboost.load_model(path)).__name__
        'XGBRegressor'

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: as :func:`log_model`.
    """
    flavor_api.reject_unknown("mloop.xgboost.save_model", unsupported)
    _check_format(model_format)
    common = Common(
        input_example=input_example,
        signature=signature,
        metadata=metadata,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
    )
    flavor_api.save_model(_FLAVOR, xgb_model, path, common, function="mloop.xgboost.save_model")


def load_model(model_uri: ModelUriLike, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The XGBoost model saved at ``model_uri``, of the class it was logged as.

    ``model_uri`` is ``runs:/RUN/path``, ``models:/NAME/VERSION``,
    ``models:/NAME@alias``, a package folder, or what ``log_model``
    returned. The package's files and signature are verified first. With
    ``dst_path``, a copy of the package is written there too.

    Example:
        >>> import mloop.xgboost, numpy as np, tempfile, xgboost as xgb
        >>> path = tempfile.mkdtemp() + "/booster"
        >>> booster = xgb.train({}, xgb.DMatrix(np.array([[0.0], [1.0]]), [0.0, 1.0]), 2)
        >>> mloop.xgboost.save_model(booster, path)
        >>> type(mloop.xgboost.load_model(path)).__name__
        'Booster'

    Raises:
        InvalidInput: a malformed URI, or a package of another flavor (the message names it).
        NotFound: nothing at ``model_uri``.
        IntegrityError: the package was changed, or its signature is bad or untrusted.
    """
    return flavor_api.load_model(model_uri, _FLAVOR, dst_path).model


__all__ = ["MODEL_FORMATS", "autolog", "load_model", "log_model", "save_model"]
