"""Where a model is: ``models:/NAME/3``, ``models:/NAME@alias``, ``runs:/RUN/path`` or a folder.

Example:
    >>> parse_model_uri("models:/credit@champion")
    ModelUri(kind='models', name='credit', version=None, alias='champion', run_id=None, path='')
    >>> parse_model_uri("runs:/0123456789abcdef0123456789abcdef/model").path
    'model'
    >>> parse_version_ref("credit/3").version
    3
"""

from __future__ import annotations

import dataclasses
import os
import re

from mloop.errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9][\w\-.]{0,255}$")
_ALIAS = re.compile(r"^[A-Za-z_][\w\-]{0,127}$")
_RUN = re.compile(r"^[0-9a-f]{32}$")
# MLflow 3 names its logged models m-<hex> and loads them from models:/m-<hex>.
_LOGGED_MODEL = re.compile(r"^m-[0-9a-f]{4,32}$")


@dataclasses.dataclass(frozen=True, slots=True)
class ModelUri:
    """A parsed model location. ``kind`` is ``models``, ``runs`` or ``path``.

    For ``models``, neither ``version`` nor ``alias`` means the latest version.
    """

    kind: str
    name: str = ""
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None
    path: str = ""


def check_model_name(name: object) -> str:
    """A registered model name: letters, digits, ``_ - .``, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"invalid model name {name!r}: use up to 256 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def check_alias(alias: object) -> str:
    """An alias: starts with a letter or '_' (never a number); ``latest`` is reserved."""
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias == "latest":
        raise InvalidInput(
            f"invalid alias {alias!r}: start with a letter or '_', then up to 127 letters, "
            "digits, '_' or '-'; 'latest' is reserved"
        )
    return alias


def parse_version_ref(ref: object) -> ModelUri:
    """``NAME``, ``NAME/3``, ``NAME/latest`` or ``NAME@alias`` (with or without ``models:/``).

    Raises:
        InvalidInput: the reference is malformed.
    """
    if not isinstance(ref, str):
        raise InvalidInput(f"a model reference is a string like 'credit/3', got {ref!r}")
    text = ref.removeprefix("models:/")
    if "@" in text:
        name, _, alias = text.partition("@")
        return ModelUri("models", check_model_name(name), alias=check_alias(alias))
    name, sep, selector = text.partition("/")
    check_model_name(name)
    if not sep or selector == "latest":
        return ModelUri("models", name)
    if not selector.isdigit() or int(selector) < 1:
        raise InvalidInput(
            f"model reference {ref!r}: after '/' comes a version number from 1, or 'latest'"
        )
    return ModelUri("models", name, version=int(selector))


def parse_model_uri(uri: str | os.PathLike[str]) -> ModelUri:
    """Parse what :func:`mloop.models.load` takes.

    ``models:/m-<hex>`` is how MLflow 3 names a logged model; mloop has no
    logged models (a model is an artifact of its run), so it is refused with
    the URIs that work. A registered model named so is still reached with a
    version or alias: ``models:/m-1234/1``.

    Raises:
        InvalidInput: a malformed ``models:/`` or ``runs:/`` URI, an MLflow
            logged-model URI, or an unknown scheme.

    Example:
        >>> try:
        ...     parse_model_uri("models:/m-0a1b2c3d")
        ... except InvalidInput as err:
        ...     print(str(err)[:67])
        model URI 'models:/m-0a1b2c3d' names an MLflow logged model (MLflow
    """
    text = os.fspath(uri)
    if text.startswith("models:/"):
        if _LOGGED_MODEL.match(text.removeprefix("models:/").rstrip("/")):
            raise InvalidInput(
                f"model URI {text!r} names an MLflow logged model (MLflow 3's models:/m-<id>); "
                "logged-model ids are MLflow's and mloop has none. Load the model from the run "
                "that logged it, runs:/RUN_ID/PATH, or from the registry, "
                "models:/NAME/VERSION or models:/NAME@ALIAS"
            )
        return parse_version_ref(text)
    if text.startswith("runs:/"):
        run_id, _, path = text.removeprefix("runs:/").strip("/").partition("/")
        if not _RUN.match(run_id) or not path:
            raise InvalidInput(
                f"model URI {text!r}: use runs:/<32-hex run id>/<artifact path>, e.g. "
                "runs:/0123456789abcdef0123456789abcdef/model"
            )
        return ModelUri("runs", run_id=run_id, path=path.strip("/"))
    scheme, sep, _ = text.partition("://")
    if sep and len(scheme) > 1 and scheme != "file":
        raise InvalidInput(
            f"unsupported model URI {text!r}: use models:/NAME/VERSION, models:/NAME@ALIAS, "
            "runs:/RUN_ID/PATH or a local folder"
        )
    return ModelUri("path", path=text.removeprefix("file://"))
