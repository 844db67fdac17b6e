"""PyTorch modules under MLflow's names: ``log_model``, ``save_model``, ``load_model``.

A script written for ``mlflow.pytorch`` runs with ``mloop.pytorch``, with
one difference: a module is saved as its weights (a state dict, loaded with
``weights_only=True``) and its class by reference, never pickled whole. A
module whose ``__init__`` takes arguments needs them as ``init_kwargs``
(JSON values) to be built again at load; ``export_model=True`` (or
``torch_format="export"``) saves a ``torch.export`` program instead, which
needs no class at load. ``pickle_module`` is refused. ``load_model`` gives
back the ``nn.Module``, on the CPU in evaluation mode, read through mloop's
verified load path.

Example:
    >>> import mloop, mloop.pytorch, torch
    >>> net = torch.nn.Linear(2, 1)
    >>> with mloop.start_run():
    ...     info = mloop.pytorch.log_model(net, name="model", registered_model_name="net",
    ...                                    init_kwargs={"in_features": 2, "out_features": 1})
    >>> model = mloop.pytorch.load_model("models:/net/1")
    >>> x = torch.ones(3, 2)
    >>> isinstance(model, torch.nn.Module), bool(torch.equal(model(x), net(x)))
    (True, True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.errors import InvalidInput
from mloop.models import flavor_api
from mloop.models.flavor_api import Common, ModelUriLike, Requirements
from mloop.models.info import ModelInfo
from mloop.models.signature import Signature

_FLAVOR = "pytorch"


def _torch_format(pickle_module: Any, export_model: bool, torch_format: str | None) -> str | None:
    if pickle_module is not None:
        raise InvalidInput(
            "pickle_module is not taken: the module's weights are saved with torch.save and "
            "loaded with weights_only=True, its class by reference (pass init_kwargs=... if "
            "its __init__ takes arguments); drop pickle_module"
        )
    if export_model:
        if torch_format not in (None, "export"):
            raise InvalidInput(
                f"export_model=True saves a torch.export program, but torch_format="
                f"{torch_format!r} was given too; pass one of them"
            )
        return "export"
    return torch_format


def log_model(
    pytorch_model: Any,
    artifact_path: str | None = None,
    *,
    name: str | None = None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    pickle_module: Any = None,
    registered_model_name: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    export_model: bool = False,
    init_kwargs: Mapping[str, Any] | None = None,
    torch_format: str | None = None,
    **unsupported: Any,
) -> ModelInfo:
    """Log an ``nn.Module`` (or a scripted module, or an exported program) to the active run.

    Arguments as :func:`mloop.sklearn.log_model`, plus ``export_model``,
    ``init_kwargs`` and ``torch_format`` (``state_dict``, ``export`` or
    ``torchscript``; by default what the object is). ``export_model`` traces
    the module with ``input_example``.

    Example:
        >>> import mloop, mloop.pytorch, numpy as np, torch
        >>> with mloop.start_run():
        ...     info = mloop.pytorch.log_model(torch.nn.Linear(2, 1), artifact_path="net",
        ...                                    export_model=True,
        ...                                    input_example=np.ones((2, 2), "float32"))
        >>> info.flavor, info.flavors["pytorch"]["format"]
        ('pytorch', 'export')

    Raises:
        InvalidInput: both ``name`` and ``artifact_path``, an argument this function
            does not take, ``pickle_module``, a model that is not a PyTorch module,
            ``init_kwargs`` that do not rebuild it, or a bad option.
        AlreadyExists: the run already has artifacts at that name.
    """
    flavor_api.reject_unknown("mloop.pytorch.log_model", unsupported)
    form = _torch_format(pickle_module, export_model, torch_format)
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
        pytorch_model,
        common,
        function="mloop.pytorch.log_model",
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        init_kwargs=init_kwargs,
        torch_format=form,
    )


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    *,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    pickle_module: Any = None,
    signature: Signature | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    export_model: bool = False,
    init_kwargs: Mapping[str, Any] | None = None,
    torch_format: str | None = None,
    **unsupported: Any,
) -> None:
    """Save a PyTorch module as a package folder at ``path`` (new, or an empty folder).

    Example:
        >>> import mloop.pytorch, tempfile, torch
        >>> path = tempfile.mkdtemp() + "/net"
        >>> mloop.pytorch.save_model(torch.nn.Linear(2, 1), path,
        ...                          init_kwargs={"in_features": 2, "out_features": 1})
        >>> type(mloop.pytorch.load_model(path)).__name__
        'Linear'

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: as :func:`log_model`.
    """
    flavor_api.reject_unknown("mloop.pytorch.save_model", unsupported)
    form = _torch_format(pickle_module, export_model, torch_format)
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
        pytorch_model,
        path,
        common,
        function="mloop.pytorch.save_model",
        init_kwargs=init_kwargs,
        torch_format=form,
    )


def load_model(model_uri: ModelUriLike, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """The ``nn.Module`` saved at ``model_uri``, on the CPU, in evaluation mode.

    ``model_uri`` is ``runs:/RUN/path``, ``models:/NAME/VERSION``,
    ``models:/NAME@alias``, a package folder, or what ``log_model``
    returned. The package's files and signature are verified first. With
    ``dst_path``, a copy of the package is written there too.

    Example:
        >>> import mloop.pytorch
        >>> mloop.pytorch.load_model("runs:/not-a-run/model")
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: model URI 'runs:/not-a-run/model': use runs:/<32-hex run id>...

    Raises:
        InvalidInput: a malformed URI, or a package of another flavor (the message names it).
        NotFound: nothing at ``model_uri``.
        IntegrityError: the package was changed, or its signature is bad or untrusted.
    """
    return flavor_api.load_model(model_uri, _FLAVOR, dst_path).model


__all__ = ["load_model", "log_model", "save_model"]
