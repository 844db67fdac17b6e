"""scikit-learn models under MLflow's names: ``log_model``, ``save_model``, ``load_model``.

A script written for ``mlflow.sklearn`` runs with ``mloop.sklearn``. The
estimator is saved with skops, never pickled: ``serialization_format``
takes MLflow's values (``cloudpickle``, ``pickle``, ``skops``) and each
writes the same skops file. ``load_model`` gives back the fitted estimator
itself, read through mloop's verified load path.

Example:
    >>> import mloop, mloop.sklearn, numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1]
    >>> with mloop.start_run():
    ...     info = mloop.sklearn.log_model(LogisticRegression().fit(X, y), name="model",
    ...                                    input_example=X[:2], registered_model_name="clf")
    >>> model = mloop.sklearn.load_model("models:/clf/1")
    >>> type(model).__name__, model.predict(X).tolist()
    ('LogisticRegression', [0, 0, 1, 1])
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.autologging.sklearn import autolog as autolog
from mloop.errors import InvalidInput
from mloop.models import flavor_api
from mloop.models.flavor_api import Common, ModelUriLike, Requirements
from mloop.models.info import ModelInfo
from mloop.models.signature import Signature

_FLAVOR = "sklearn"
SERIALIZATION_FORMATS = ("cloudpickle", "pickle", "skops")
"""What ``serialization_format`` takes; each of them writes skops (mloop never pickles)."""


def _check_format(serialization_format: str) -> None:
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidInput(
            f"serialization_format must be one of {SERIALIZATION_FORMATS}, got "
            f"{serialization_format!r} (every one of them saves with skops here)"
        )


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    *,
    name: str | None = None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    serialization_format: str = "cloudpickle",
    registered_model_name: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    **unsupported: Any,
) -> ModelInfo:
    """Log a fitted estimator (or pipeline) to the active run, starting one if none is active.

    ``name`` (or ``artifact_path``, its older spelling; not both) is where it
    goes in the run; with neither, the first free of ``model``, ``model-2`` ….
    ``registered_model_name`` registers it as that model's next version (at
    once: ``await_registration_for`` has nothing to wait for). The
    requirements arguments are recorded in the package's metadata.

    Example:
        >>> import mloop, mloop.sklearn
        >>> from sklearn.linear_model import LinearRegression
        >>> with mloop.start_run():
        ...     info = mloop.sklearn.log_model(LinearRegression().fit([[1.0], [2.0]], [1, 2]),
        ...                                    artifact_path="reg")
        >>> info.model_uri.endswith("/reg"), info.flavor
        (True, 'sklearn')

    Raises:
        InvalidInput: both ``name`` and ``artifact_path``, an argument this function
            does not take, a model that is not a fitted scikit-learn estimator, an
            unknown ``serialization_format``, or a bad option.
        AlreadyExists: the run already has artifacts at that name.
    """
    flavor_api.reject_unknown("mloop.sklearn.log_model", unsupported)
    _check_format(serialization_format)
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
        sk_model,
        common,
        function="mloop.sklearn.log_model",
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
    )


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    serialization_format: str = "cloudpickle",
    signature: Signature | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    **unsupported: Any,
) -> None:
    """Save a fitted estimator as a package folder at ``path`` (new, or an empty folder).

    Example:
        >>> import mloop.sklearn, tempfile
        >>> from sklearn.linear_model import LinearRegression
        >>> path = tempfile.mkdtemp() + "/reg"
        >>> mloop.sklearn.save_model(LinearRegression().fit([[1.0], [2.0]], [1, 2]), path)
        >>> mloop.sklearn.load_model(path).predict([[3.0]]).round(3).tolist()
        [3.0]

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: as :func:`log_model`.
    """
    flavor_api.reject_unknown("mloop.sklearn.save_model", unsupported)
    _check_format(serialization_format)
    common = Common(
        input_example=input_example,
        signature=signature,
        metadata=metadata,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
    )
    flavor_api.save_model(_FLAVOR, sk_model, path, common, function="mloop.sklearn.save_model")


def load_model(model_uri: ModelUriLike, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The fitted estimator saved at ``model_uri``, an object of its own.

    ``model_uri`` is ``runs:/RUN/path``, ``models:/NAME/VERSION``,
    ``models:/NAME@alias``, a package folder, or what ``log_model``
    returned. The package's files and signature are verified first. With
    ``dst_path``, a copy of the package is written there too.

    Example:
        >>> import mloop.sklearn, tempfile
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> path = tempfile.mkdtemp() + "/tree"
        >>> mloop.sklearn.save_model(DecisionTreeRegressor().fit([[0.0], [1.0]], [5, 7]), path)
        >>> type(mloop.sklearn.load_model(path)).__name__
        'DecisionTreeRegressor'

    Raises:
        InvalidInput: a malformed URI, or a package of another flavor (the message names it).
        NotFound: nothing at ``model_uri``.
        IntegrityError: the package was changed, or its signature is bad or untrusted.
    """
    return flavor_api.load_model(model_uri, _FLAVOR, dst_path).model


__all__ = ["SERIALIZATION_FORMATS", "autolog", "load_model", "log_model", "save_model"]
