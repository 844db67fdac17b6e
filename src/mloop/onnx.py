"""ONNX models under MLflow's names: ``log_model``, ``save_model``, ``load_model``.

A script written for ``mlflow.onnx`` runs with ``mloop.onnx``. The graph is
checked with onnx's checker and saved as one ``.onnx`` file; ``load_model``
gives back the ``onnx.ModelProto``, read from the package after mloop's
verified load path checked it (and onnxruntime opened it). Predictions
through :func:`mloop.pyfunc.load_model` run on onnxruntime's CPU provider.

Example:
    >>> import mloop, mloop.onnx, onnx
    >>> from onnx import TensorProto, helper
    >>> graph = helper.make_graph(
    ...     [helper.make_node("Identity", ["x"], ["y"])], "echo",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])])
    >>> proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    >>> with mloop.start_run():
    ...     info = mloop.onnx.log_model(proto, name="model", registered_model_name="echo")
    >>> loaded = mloop.onnx.load_model("models:/echo/1")
    >>> type(loaded).__name__, loaded.graph.node[0].op_type
    ('ModelProto', 'Identity')
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.models import flavor_api
from mloop.models.flavor_api import Common, ModelUriLike, Requirements
from mloop.models.flavors.onnx import load_proto
from mloop.models.info import ModelInfo
from mloop.models.signature import Signature

_FLAVOR = "onnx"


def log_model(
    onnx_model: Any,
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
    """Log an ``onnx.ModelProto`` to the active run, starting one if none is active.

    Arguments as :func:`mloop.sklearn.log_model`: ``name`` or ``artifact_path``
    (not both; neither picks ``model``, ``model-2`` …), registration at once,
    requirements recorded in the package's metadata.

    Example:
        >>> import mloop, mloop.onnx
        >>> from onnx import TensorProto, helper
        >>> graph = helper.make_graph(
        ...     [helper.make_node("Neg", ["x"], ["y"])], "neg",
        ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
        ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])])
        >>> proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        >>> with mloop.start_run():
        ...     info = mloop.onnx.log_model(proto, artifact_path="neg")
        >>> info.flavor, info.flavors["onnx"]["inputs"]
        ('onnx', ['x'])

    Raises:
        InvalidInput: both ``name`` and ``artifact_path``, an argument this function
            does not take, a model that is not a valid ``ModelProto``, or a bad option.
        AlreadyExists: the run already has artifacts at that name.
    """
    flavor_api.reject_unknown("mloop.onnx.log_model", unsupported)
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
        onnx_model,
        common,
        function="mloop.onnx.log_model",
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
    )


def save_model(
    onnx_model: Any,
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
    """Save an ``onnx.ModelProto`` as a package folder at ``path`` (new, or an empty folder).

    Example:
        >>> import mloop.onnx, tempfile
        >>> from onnx import TensorProto, helper
        >>> graph = helper.make_graph(
        ...     [helper.make_node("Abs", ["x"], ["y"])], "abs",
        ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
        ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])])
        >>> path = tempfile.mkdtemp() + "/abs"
        >>> mloop.onnx.save_model(helper.make_model(graph), path)
        >>> mloop.onnx.load_model(path).graph.name
        'abs'

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: as :func:`log_model`.
    """
    flavor_api.reject_unknown("mloop.onnx.save_model", unsupported)
    common = Common(
        input_example=input_example,
        signature=signature,
        metadata=metadata,
        code_paths=code_paths,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
    )
    flavor_api.save_model(_FLAVOR, onnx_model, path, common, function="mloop.onnx.save_model")


def load_model(model_uri: ModelUriLike, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The ``onnx.ModelProto`` saved at ``model_uri``.

    ``model_uri`` is ``runs:/RUN/path``, ``models:/NAME/VERSION``,
    ``models:/NAME@alias``, a package folder, or what ``log_model``
    returned. The package's files and signature are verified first. With
    ``dst_path``, a copy of the package is written there too.

    Example:
        >>> import mloop.onnx
        >>> mloop.onnx.load_model("./no-such-folder")
        Traceback (most recent call last):
        ...
        mloop.errors.NotFound: ...no-such-folder... is not a model package...

    Raises:
        InvalidInput: a malformed URI, or a package of another flavor (the message names it).
        NotFound: nothing at ``model_uri``.
        IntegrityError: the package was changed, or its signature is bad or untrusted.
    """
    loaded = flavor_api.load_model(model_uri, _FLAVOR, dst_path)
    return load_proto(loaded.path, loaded.manifest.loader)


__all__ = ["load_model", "log_model", "save_model"]
