"""``log_model``, ``save_model`` and ``load_model`` with MLflow's arguments, shared by every flavor.

``mloop.sklearn``, ``mloop.xgboost``, ``mloop.lightgbm``, ``mloop.pytorch``,
``mloop.onnx`` and ``mloop.pyfunc`` spell out MLflow's signatures and hand
the arguments here, where they become mloop's: ``name`` or ``artifact_path``
(not both) is where the package goes in the run; ``pip_requirements``,
``extra_pip_requirements`` or ``conda_env`` (at most one) is recorded in the
package's metadata under its own name, credentials in URLs masked; an
argument mloop does not take is refused by name before anything is written.
Loading goes through mloop's one verified load path, and refuses a package
of another flavor.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = tempfile.mkdtemp() + "/m"
    >>> common = Common(pip_requirements=["scikit-learn>=1.4"])
    >>> _ = save_model("sklearn", LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path,
    ...                common, function="mloop.sklearn.save_model")
    >>> loaded = load_model(path, "sklearn")
    >>> (type(loaded.model).__name__, dict(loaded.metadata))
    ('LinearRegression', {'pip_requirements': ['scikit-learn>=1.4']})
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mloop.entities import ModelVersion
from mloop.errors import AlreadyExists, InvalidInput, NotFound
from mloop.masking import mask_text
from mloop.models import api
from mloop.models.flavors import BUILTIN_ORDER, detect
from mloop.models.flavors import get as get_flavor
from mloop.models.info import ModelInfo
from mloop.models.loaded import LoadedModel
from mloop.models.package import Manifest
from mloop.models.signature import Signature

Requirements = Sequence[str] | str | os.PathLike[str] | None
"""A list of pip requirement strings, or the path of a requirements file."""

ModelUriLike = str | os.PathLike[str] | ModelInfo | ModelVersion
"""What ``load_model`` takes: a URI or folder, or what ``log_model``/registration returned."""


@dataclasses.dataclass(frozen=True)
class Common:
    """The arguments every flavor's ``log_model`` and ``save_model`` take, by MLflow's names.

    ``pip_requirements``, ``extra_pip_requirements`` and ``conda_env`` are
    recorded in the package's metadata (they install nothing); the package
    pins the versions of its flavor's libraries itself.
    """

    input_example: Any = None
    signature: Signature | None = None
    metadata: Mapping[str, Any] | None = None
    code_paths: Sequence[str | os.PathLike[str]] | None = None
    pip_requirements: Requirements = None
    extra_pip_requirements: Requirements = None
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None


def artifact_name(name: str | None, artifact_path: str | None) -> str | None:
    """Where the package goes in the run: ``name`` (MLflow 3) or ``artifact_path`` (MLflow 2).

    None (neither given) lets :func:`mloop.models.log_model` pick a free name.

    Example:
        >>> artifact_name("model", None), artifact_name(None, "clf"), artifact_name(None, None)
        ('model', 'clf', None)

    Raises:
        InvalidInput: both are given.
    """
    if name is not None and artifact_path is not None:
        raise InvalidInput(
            f"both name={name!r} and artifact_path={artifact_path!r} were given; pass only "
            "name (artifact_path is its older spelling)"
        )
    return name if name is not None else artifact_path


def reject_unknown(function: str, unknown: Mapping[str, Any]) -> None:
    """Refuse keyword arguments that ``function`` does not take, naming them.

    Example:
        >>> reject_unknown("mloop.sklearn.log_model", {"model_type": "x"})
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: mloop.sklearn.log_model does not take ['model_type']; ...

    Raises:
        InvalidInput: ``unknown`` is not empty.
    """
    if unknown:
        raise InvalidInput(
            f"{function} does not take {sorted(unknown)}; see help({function}) for the "
            "arguments it takes (docs/flavors.md lists the MLflow arguments mloop leaves out)"
        )


def package_metadata(common: Common) -> dict[str, Any]:
    """The user's metadata plus the one requirements argument given, if any.

    Example:
        >>> package_metadata(Common(metadata={"team": "risk"}, extra_pip_requirements=["shap"]))
        {'team': 'risk', 'extra_pip_requirements': ['shap']}

    Raises:
        InvalidInput: more than one requirements argument, a malformed one, or
            metadata that already has the key it would be recorded under.
        NotFound: a requirements or conda file that does not exist.
    """
    given = {
        key: value
        for key, value in (
            ("pip_requirements", common.pip_requirements),
            ("extra_pip_requirements", common.extra_pip_requirements),
            ("conda_env", common.conda_env),
        )
        if value is not None
    }
    if len(given) > 1:
        raise InvalidInput(
            f"only one of pip_requirements, extra_pip_requirements and conda_env may be "
            f"given, got {sorted(given)}"
        )
    if common.metadata is not None and not isinstance(common.metadata, Mapping):
        raise InvalidInput(f"metadata must be a dict, got {type(common.metadata).__name__}")
    merged = dict(common.metadata or {})
    for key, value in given.items():
        if key in merged:
            raise InvalidInput(
                f"metadata has a {key!r} key and {key}= was given too: the argument is "
                "recorded under that key; drop one of them"
            )
        merged[key] = _conda_env(value) if key == "conda_env" else _pip_lines(key, value)
    return merged


def _pip_lines(key: str, value: Any) -> list[str]:
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise NotFound(
                f"{key}: requirements file {str(path)!r} does not exist (a list of "
                "requirement strings is taken too)"
            )
        lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
        return [mask_text(line) for line in lines if line]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(
            f"{key} must be a list of requirement strings or a requirements file path, "
            f"got {type(value).__name__}"
        )
    return [mask_text(v) for v in value]


def _conda_env(value: Any) -> dict[str, Any]:
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise NotFound(f"conda_env: file {str(path)!r} does not exist")
        try:
            value = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise InvalidInput(f"conda_env: {str(path)!r} is not YAML: {err}") from None
    if not isinstance(value, Mapping):
        raise InvalidInput(
            f"conda_env must be a dict or the path of a conda YAML file, got {type(value).__name__}"
        )
    masked: dict[str, Any] = _masked(dict(value))
    return masked


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _check(flavor: str, model: Any, common: Common, function: str) -> None:
    if not get_flavor(flavor).detect(model):
        try:
            found = detect(model).name
        except InvalidInput:
            found = None
        other = (
            f" (mloop.{found}.{function.rpartition('.')[2]} saves it)"
            if found in BUILTIN_ORDER
            else ""
        )
        raise InvalidInput(
            f"{function} takes a {flavor} model, got a {type(model).__module__}."
            f"{type(model).__qualname__}{other}"
        )
    if common.signature is not None and not isinstance(common.signature, Signature):
        raise InvalidInput(
            f"signature must be a mloop.models.Signature (see mloop.models.infer_signature), "
            f"got {type(common.signature).__name__}"
        )


def log_model(
    flavor: str,
    model: Any,
    common: Common,
    *,
    function: str,
    name: str | None = None,
    artifact_path: str | None = None,
    registered_model_name: str | None = None,
    **options: Any,
) -> ModelInfo:
    """Log ``model`` with ``flavor`` to the active run; ``options`` go to the flavor.

    Example:
        >>> import mloop
        >>> from sklearn.linear_model import LinearRegression
        >>> with mloop.start_run():
        ...     info = log_model("sklearn", LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]),
        ...                      Common(), function="mloop.sklearn.log_model", name="reg")
        >>> info.artifact_path, info.flavor
        ('reg', 'sklearn')

    Raises:
        InvalidInput: as :func:`artifact_name`, :func:`package_metadata`, a model
            the flavor does not save, or as :func:`mloop.models.log_model`.
    """
    path = artifact_name(name, artifact_path)
    metadata = package_metadata(common)
    _check(flavor, model, common, function)
    return api.log_model(
        model,
        path,
        input_example=common.input_example,
        signature=common.signature,
        registered_model_name=registered_model_name,
        flavor=flavor,
        metadata=metadata,
        code_paths=common.code_paths,
        **options,
    )


def save_model(
    flavor: str,
    model: Any,
    path: str | os.PathLike[str],
    common: Common,
    *,
    function: str,
    **options: Any,
) -> Manifest:
    """Save ``model`` with ``flavor`` as a package folder at ``path`` (new or empty).

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: as :func:`log_model`.
    """
    metadata = package_metadata(common)
    _check(flavor, model, common, function)
    return api.save(
        model,
        path,
        input_example=common.input_example,
        signature=common.signature,
        flavor=flavor,
        metadata=metadata,
        code_paths=common.code_paths,
        **options,
    )


def load_model(
    model_uri: ModelUriLike,
    flavor: str | None,
    dst_path: str | os.PathLike[str] | None = None,
) -> LoadedModel:
    """Load the package at ``model_uri`` (verified), a model object of its own.

    With ``flavor``, a package of another flavor is refused. With
    ``dst_path``, a copy of the package's verified files is written there
    (a new or empty folder), a package like any other.

    Raises:
        InvalidInput: a malformed URI, or a package of another flavor.
        NotFound: nothing at the URI.
        AlreadyExists: ``dst_path`` exists and is not empty.
        IntegrityError: as :func:`mloop.models.load`.
    """
    target = Path(dst_path).absolute() if dst_path is not None else None
    if target is not None and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(
            f"cannot copy the model to dst_path {str(target)!r}: it exists and is not empty"
        )
    be, located = api.find(model_uri)
    loaded = api.load_located(be, located, cache=False, flavor=flavor)
    if target is not None:
        _copy(loaded.path, target)
    return loaded


def _copy(source: Path, target: Path) -> None:
    """Copy a package folder to ``target`` through a temporary sibling: all of it or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        # copyfile: the copy is the user's, writable (the local cache's files are read-only).
        shutil.copytree(source, scratch / "package", copy_function=shutil.copyfile)
        if target.exists():
            target.rmdir()
        (scratch / "package").rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
