r"""Custom models and any model as a Python function, under MLflow's names.

A script written for ``mlflow.pyfunc`` runs with ``mloop.pyfunc``:
:class:`PythonModel` and :class:`PythonModelContext` to write a custom
model (``predict(self, context, model_input, params=None)`` works as in
MLflow), ``log_model``/``save_model`` to package one (``python_model=``,
``artifacts=``, ``model_config=``, ``code_paths=``), and ``load_model`` to
load a package of *any* flavor as a :class:`PyFuncModel` with
``predict(data, params=None)``, ``metadata`` and ``unwrap_python_model()``.
The class is saved by reference, never pickled: its module must be
importable at load, or shipped with ``code_paths``. MLflow's
``loader_module``/``data_path`` form and models-from-code (a file path as
``python_model``) are not taken.

Example:
    >>> import mloop, mloop.pyfunc, pathlib, sys, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "doubler.py").write_text(
    ...     "import mloop.pyfunc\n"
    ...     "class Doubler(mloop.pyfunc.PythonModel):\n"
    ...     "    def predict(self, context, model_input, params=None):\n"
    ...     "        return [x * (params or {}).get('factor', 2) for x in model_input['x']]\n")
    >>> sys.path.insert(0, str(folder))
    >>> from doubler import Doubler
    >>> with mloop.start_run():
    ...     info = mloop.pyfunc.log_model(name="doubler", python_model=Doubler(),
    ...                                   code_paths=[folder / "doubler.py"])
    >>> model = mloop.pyfunc.load_model(info.model_uri)
    >>> model.predict({"x": [1, 2]}), model.predict({"x": [1]}, params={"factor": 10})
    ([2, 4], [10])
    >>> type(model.unwrap_python_model()).__name__
    'Doubler'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mloop.errors import InvalidInput, NotFound
from mloop.models import flavor_api
from mloop.models.flavor_api import Common, ModelUriLike, Requirements
from mloop.models.info import ModelInfo
from mloop.models.loaded import LoadedModel as PyFuncModel
from mloop.models.pyfunc import ModelContext as PythonModelContext
from mloop.models.pyfunc import PythonModel
from mloop.models.signature import Signature

_FLAVOR = "pyfunc"
_LEFT_OUT = ("loader_module", "data_path")


def _check(python_model: Any, unsupported: Mapping[str, Any], function: str) -> None:
    left_out = [name for name in _LEFT_OUT if unsupported.get(name) is not None]
    if left_out:
        raise InvalidInput(
            f"{function} does not take {left_out}: write the model as a "
            "mloop.pyfunc.PythonModel subclass and pass python_model=..."
        )
    others = {k: v for k, v in unsupported.items() if k not in _LEFT_OUT}
    flavor_api.reject_unknown(function, others)
    if python_model is None:
        raise InvalidInput(f"{function} needs python_model=<a mloop.pyfunc.PythonModel instance>")
    if isinstance(python_model, str | os.PathLike):
        raise InvalidInput(
            f"python_model={str(python_model)!r} is a path: models from code are not taken; "
            "pass an instance of a PythonModel subclass (its module shipped with code_paths)"
        )


def _model_config(model_config: Mapping[str, Any] | str | os.PathLike[str] | None) -> Any:
    """``model_config`` as a dict: given as one, or read from a YAML or JSON file."""
    if not isinstance(model_config, str | os.PathLike):
        return model_config
    path = Path(model_config)
    if not path.is_file():
        raise NotFound(f"model_config file {str(path)!r} does not exist")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise InvalidInput(f"model_config file {str(path)!r} is not YAML or JSON: {err}") from None
    if not isinstance(loaded, Mapping):
        raise InvalidInput(f"model_config file {str(path)!r} must hold a mapping of settings")
    return loaded


def log_model(
    artifact_path: str | None = None,
    *,
    name: str | None = None,
    python_model: PythonModel | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    registered_model_name: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    **unsupported: Any,
) -> ModelInfo:
    """Log a :class:`PythonModel` to the active run, starting one if none is active.

    ``artifacts`` (``{name: local path}``) are copied into the package and
    come back as local paths in ``context.artifacts``; ``model_config`` (a
    dict, or a YAML or JSON file) comes back as ``context.model_config``.
    Other arguments as :func:`mloop.sklearn.log_model`.

    Example:
        >>> import mloop.pyfunc
        >>> mloop.pyfunc.log_model("model", loader_module="my_loader")
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: mloop.pyfunc.log_model does not take ['loader_module']: ...

    Raises:
        InvalidInput: both ``name`` and ``artifact_path``, an argument this function
            does not take, no ``python_model`` or not a PythonModel, or a bad option.
        NotFound: an artifact or the ``model_config`` file does not exist.
        AlreadyExists: the run already has artifacts at that name.
    """
    _check(python_model, unsupported, "mloop.pyfunc.log_model")
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
        python_model,
        common,
        function="mloop.pyfunc.log_model",
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        artifacts=artifacts,
        model_config=_model_config(model_config),
    )


def save_model(
    path: str | os.PathLike[str],
    *,
    python_model: PythonModel | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    **unsupported: Any,
) -> None:
    """Save a :class:`PythonModel` as a package folder at ``path`` (new, or an empty folder).

    Example:
        >>> import mloop.pyfunc
        >>> mloop.pyfunc.save_model("out", python_model="model.py")
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: python_model='model.py' is a path: models from code ...

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: as :func:`log_model`.
        NotFound: as :func:`log_model`.
    """
    _check(python_model, unsupported, "mloop.pyfunc.save_model")
    common = Common(
        input_example=input_example,
        signature=signature,
        metadata=metadata,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
    )
    flavor_api.save_model(
        _FLAVOR,
        python_model,
        path,
        common,
        function="mloop.pyfunc.save_model",
        artifacts=artifacts,
        model_config=_model_config(model_config),
    )


def load_model(
    model_uri: ModelUriLike,
    suppress_warnings: bool = False,
    dst_path: str | os.PathLike[str] | None = None,
) -> PyFuncModel:
    """The package at ``model_uri``, of any flavor, as a model with ``predict``.

    ``model_uri`` is ``runs:/RUN/path``, ``models:/NAME/VERSION``,
    ``models:/NAME@alias``, a package folder, or what ``log_model``
    returned. The package's files and signature are verified first; each
    call gives a model of its own. With ``dst_path``, a copy of the package
    is written there too. ``suppress_warnings`` is taken for MLflow's sake
    (loading here warns about nothing it could silence).

    Example:
        >>> import mloop.pyfunc, mloop.sklearn, tempfile
        >>> from sklearn.linear_model import LinearRegression
        >>> path = tempfile.mkdtemp() + "/reg"
        >>> mloop.sklearn.save_model(LinearRegression().fit([[1.0], [2.0]], [2.0, 4.0]), path)
        >>> model = mloop.pyfunc.load_model(path)
        >>> model.flavor, model.predict([[3.0]]).round(3).tolist()
        ('sklearn', [6.0])

    Raises:
        InvalidInput: a malformed URI.
        NotFound: nothing at ``model_uri``.
        IntegrityError: the package was changed, or its signature is bad or untrusted.
    """
    return flavor_api.load_model(model_uri, None, dst_path)


__all__ = [
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
]
