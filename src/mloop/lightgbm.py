"""LightGBM models under MLflow's names: ``log_model``, ``save_model``, ``load_model``.

A script written for ``mlflow.lightgbm`` runs with ``mloop.lightgbm``. The
model is saved in LightGBM's own text format, never pickled. A ``Booster``
loads back as a Booster. A scikit-learn wrapper (``LGBMClassifier`` …) is
saved as its booster plus its classes, so it too loads back as a
``lightgbm.Booster`` (where MLflow unpickles the wrapper); for the
wrapper's labels and class probabilities load it with
:func:`mloop.pyfunc.load_model` (``predict``, ``predict_proba``).

Example:
    >>> import mloop, mloop.lightgbm, lightgbm as lgb, numpy as np
    >>> X, y = np.arange(40.0).reshape(-1, 1), [0.0] * 20 + [1.0] * 20
    >>> booster = lgb.train({"verbose": -1, "min_data_in_leaf": 2}, lgb.Dataset(X, y), 3)
    >>> with mloop.start_run():
    ...     info = mloop.lightgbm.log_model(booster, name="model", registered_model_name="gbm")
    >>> model = mloop.lightgbm.load_model("models:/gbm/1")
    >>> type(model).__name__, bool((model.predict(X) == booster.predict(X)).all())
    ('Booster', True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.autologging.lightgbm import autolog as autolog
from mloop.models import flavor_api
from mloop.models.flavor_api import Common, ModelUriLike, Requirements
from mloop.models.info import ModelInfo
from mloop.models.signature import Signature

_FLAVOR = "lightgbm"


def log_model(
    lgb_model: Any,
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
    metadata: Mapping[str, Any] | None = None,
    **unsupported: Any,
) -> ModelInfo:
    """Log a trained Booster or LightGBM scikit-learn model to the active run.

    Arguments as :func:`mloop.sklearn.log_model`: ``name`` or ``artifact_path``
    (not both; neither picks ``model``, ``model-2`` …), registration at once,
    requirements recorded in the package's metadata.

    Example:
        >>> import mloop, mloop.lightgbm, lightgbm as lgb, numpy as np
        >>> X = np.arange(40.0).reshape(-1, 1)
        >>> clf = lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, [0] * 20 + [1] * 20)
        >>> with mloop.start_run():
        ...     info = mloop.lightgbm.log_model(clf, artifact_path="clf")
        >>> info.flavor, info.artifact_path
        ('lightgbm', 'clf')

    Raises:
        InvalidInput: both ``name`` and ``artifact_path``, an argument this function
            does not take, a model that is not a LightGBM model, or a bad option.
        AlreadyExists: the run already has artifacts at that name.
    """
    flavor_api.reject_unknown("mloop.lightgbm.log_model", unsupported)
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
        lgb_model,
        common,
        function="mloop.lightgbm.log_model",
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
    )


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    *,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    **unsupported: Any,
) -> None:
    """Save a trained LightGBM model as a package folder at ``path`` (new, or an empty folder).

    Example:
        >>> import mloop.lightgbm, lightgbm as lgb, numpy as np, tempfile
        >>> X = np.arange(40.0).reshape(-1, 1)
        >>> reg = lgb.LGBMRegressor(n_estimators=2, verbose=-1).fit(X, X[:, 0])
        >>> path = tempfile.mkdtemp() + "/reg"
        >>> mloop.lightgbm.save_model(reg, path)
        >>> type(mloop.lightgbm.load_model(path)).__name__
        'Booster'

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: as :func:`log_model`.
    """
    flavor_api.reject_unknown("mloop.lightgbm.save_model", unsupported)
    common = Common(
        input_example=input_example,
        signature=signature,
        metadata=metadata,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
    )
    flavor_api.save_model(_FLAVOR, lgb_model, path, common, function="mloop.lightgbm.save_model")


def load_model(model_uri: ModelUriLike, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The ``lightgbm.Booster`` saved at ``model_uri`` (see the module docstring for wrappers).

    ``model_uri`` is ``runs:/RUN/path``, ``models:/NAME/VERSION``,
    ``models:/NAME@alias``, a package folder, or what ``log_model``
    returned. The package's files and signature are verified first. With
    ``dst_path``, a copy of the package is written there too.

    Example:
        >>> import mloop.lightgbm
        >>> mloop.lightgbm.load_model("models:/nothing/1")
        Traceback (most recent call last):
        ...
        mloop.errors.NotFound: registered model 'nothing' not found...

    Raises:
        InvalidInput: a malformed URI, or a package of another flavor (the message names it).
        NotFound: nothing at ``model_uri``.
        IntegrityError: the package was changed, or its signature is bad or untrusted.
    """
    return flavor_api.load_model(model_uri, _FLAVOR, dst_path).model


__all__ = ["autolog", "load_model", "log_model", "save_model"]
