"""Saving, logging, loading and registering models: ``mloop.models.save|log_model|load|register``.

Example:
    >>> import mloop, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"income": [20.0, 80.0, 30.0, 90.0], "debt": [9.0, 1.0, 8.0, 2.0]})
    >>> with mloop.start_run():
    ...     info = mloop.models.log_model(LogisticRegression().fit(X, [0, 1, 0, 1]), "model",
    ...                                   input_example=X[:2], registered_model_name="credit")
    >>> info.registered_version.uri
    'models:/credit/1'
    >>> mloop.models.load("models:/credit/1").predict(X[:1]).tolist()
    [0]
"""

from __future__ import annotations

import collections
import dataclasses
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mloop.context.context import Context
from mloop.entities import ModelFile, ModelVersion
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from mloop.models.backend import ModelBackend, backend
from mloop.models.fetch import Located, locate, resolve_version, run_package
from mloop.models.flavors import BUILTIN_ORDER, SaveOptions
from mloop.models.flavors import get as get_flavor
from mloop.models.info import ModelInfo
from mloop.models.isolation import package_code, references
from mloop.models.loaded import LoadedModel, wrap
from mloop.models.package import (
    MANIFEST,
    SIGNATURE_FILE,
    Manifest,
    PackageSpec,
    parse_manifest,
    read_manifest,
    verify_files,
    write_package,
)
from mloop.models.signature import Signature
from mloop.models.signing import check_signature, project_signer, sign_digest, signature_file
from mloop.models.uris import ModelUri, check_model_name, parse_model_uri
from mloop.store.protocols.registry import NewVersion
from mloop.tracking import fluent, reads


def _spec(
    *,
    input_example: Any,
    signature: Signature | None,
    flavor: str | None,
    metadata: Mapping[str, Any] | None,
    code_paths: Sequence[str | os.PathLike[str]] | None,
    init_kwargs: Mapping[str, Any] | None,
    torch_format: str | None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None,
    model_config: Mapping[str, Any] | None,
    run_id: str | None = None,
) -> PackageSpec:
    options = SaveOptions(
        init_kwargs=dict(init_kwargs or {}),
        torch_format=torch_format,
        artifacts={k: os.fspath(v) for k, v in (artifacts or {}).items()},
        model_config=dict(model_config or {}),
    )
    return PackageSpec(
        input_example=input_example,
        signature=signature,
        metadata=dict(metadata or {}),
        code_paths=list(code_paths or []),
        options=options,
        run_id=run_id,
        flavor=flavor,
    )


def save(
    model: Any,
    path: str | os.PathLike[str],
    *,
    input_example: Any = None,
    signature: Signature | None = None,
    flavor: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    init_kwargs: Mapping[str, Any] | None = None,
    torch_format: str | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    model_config: Mapping[str, Any] | None = None,
) -> Manifest:
    """Save a model as a package folder at ``path`` (new or empty).

    The flavor is detected from the object (or named with ``flavor``). The
    signature is inferred from ``input_example`` and the model's prediction
    for it, unless given. ``init_kwargs`` and ``torch_format`` are for PyTorch
    modules, ``artifacts`` and ``model_config`` for
    :class:`~mloop.models.PythonModel` s, ``code_paths`` ships Python files
    that the model's classes import from.

    Example:
        >>> import mloop, numpy as np, tempfile
        >>> from sklearn.linear_model import LinearRegression
        >>> X = np.array([[1.0], [2.0]])
        >>> m = mloop.models.save(LinearRegression().fit(X, [1.0, 2.0]),
        ...                       tempfile.mkdtemp() + "/m", input_example=X)
        >>> (m.flavor, m.signature.to_dict()["inputs"]["shape"])
        ('sklearn', [-1, 1])

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: no flavor saves the model, or an option is malformed.
        MissingExtra: the flavor's library is not installed.
    """
    spec = _spec(
        input_example=input_example,
        signature=signature,
        flavor=flavor,
        metadata=metadata,
        code_paths=code_paths,
        init_kwargs=init_kwargs,
        torch_format=torch_format,
        artifacts=artifacts,
        model_config=model_config,
    )
    return write_package(model, path, spec)


def log_model(
    model: Any,
    artifact_path: str | None = "model",
    *,
    input_example: Any = None,
    signature: Signature | None = None,
    registered_model_name: str | None = None,
    flavor: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    init_kwargs: Mapping[str, Any] | None = None,
    torch_format: str | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    model_config: Mapping[str, Any] | None = None,
    context: Context | None = None,
) -> ModelInfo:
    """Save a model as an artifact of the active run (starting one if none is active).

    The package is recorded as the run's output; with the project's signing
    key present it is signed; with ``registered_model_name`` it is registered
    as that model's next version. Options are those of :func:`save`.
    ``artifact_path=None`` picks the first free one of ``model``, ``model-2``,
    ``model-3`` …

    Raises:
        InvalidInput: as :func:`save`, or a bad model name or artifact path.
        AlreadyExists: the run already has artifacts at ``artifact_path``.
    """
    if registered_model_name is not None:
        check_model_name(registered_model_name)
    be = backend(context)
    if be.client.tracking_uri != fluent.get_tracking_uri():
        raise InvalidInput(
            f"log_model logs into the active run, which is in {fluent.get_tracking_uri()!r}; "
            f"the context given is for {be.client.tracking_uri!r}: point the fluent API at "
            "it first (mloop.set_tracking_uri) or save the model and register it there"
        )
    active = fluent.active_run() or fluent.start_run()
    run_id = active.info.run_id
    if artifact_path is None:
        artifact_path = _free_path(be, run_id)
    path = artifact_path.strip("/") if isinstance(artifact_path, str) else ""
    if not path:
        raise InvalidInput(f"artifact_path must name a folder, e.g. 'model', got {artifact_path!r}")
    if be.client.list_artifacts(run_id, path):
        raise AlreadyExists(
            f"run {run_id} already has artifacts at {path!r}; log this model under another "
            "artifact_path (a logged model is never overwritten)"
        )
    signer = project_signer(be.settings, be.stores.keys)
    # In the store's temporary area, not $TMPDIR: a process killed here leaves it where gc looks.
    with be.scratch("model-") as scratch:
        spec = _spec(
            input_example=input_example,
            signature=signature,
            flavor=flavor,
            metadata=metadata,
            code_paths=code_paths,
            init_kwargs=init_kwargs,
            torch_format=torch_format,
            artifacts=artifacts,
            model_config=model_config,
            run_id=run_id,
        )
        manifest = write_package(model, scratch / "package", spec)
        if signer is not None:
            key_id, signed = sign_digest(signer, manifest.digest)
            detached = signature_file(manifest.digest, key_id, signed)
            (scratch / "package" / SIGNATURE_FILE).write_bytes(detached)
        be.client.log_artifacts(run_id, scratch / "package", artifact_path)
    info = ModelInfo(
        f"runs:/{run_id}/{path}",
        run_id,
        path,
        manifest.digest,
        manifest.flavor,
        manifest.signature,
        loader=manifest.loader,
    )
    be.client.log_inputs(run_id, [info], direction="output")
    if registered_model_name is not None:
        version = register(info.model_uri, registered_model_name, context=context)
        info = dataclasses.replace(info, registered_version=version)
    return info


def _free_path(be: ModelBackend, run_id: str) -> str:
    """The first of ``model``, ``model-2``, ``model-3`` … under which the run has no artifacts."""
    taken = {item.path for item in be.client.list_artifacts(run_id)}
    number = 1
    while (path := "model" if number == 1 else f"model-{number}") in taken:
        number += 1
    return path


def get_model_info(uri: str | os.PathLike[str], *, context: Context | None = None) -> ModelInfo:
    """What a logged model is, read from its manifest, without loading it (``runs:/RUN/path``).

    Example:
        >>> import mloop
        >>> info = mloop.models.get_model_info(mloop.models.get_version("credit/1").source)
        >>> info.flavor
        'sklearn'

    Raises:
        InvalidInput: not a ``runs:/`` URI.
        NotFound: the run has no model package there.
        IntegrityError: the run's files do not match the manifest.
    """
    text = os.fspath(uri)
    parsed = parse_model_uri(text)
    if parsed.kind != "runs" or parsed.run_id is None:
        raise InvalidInput(f"get_model_info takes a runs:/RUN_ID/PATH URI, got {text!r}")
    manifest, _, _ = run_package(backend(context), parsed.run_id, parsed.path)
    return ModelInfo(
        text,
        parsed.run_id,
        parsed.path,
        manifest.digest,
        manifest.flavor,
        manifest.signature,
        loader=manifest.loader,
    )


# -- loading ------------------------------------------------------------------------------------

_Cached = tuple[Manifest, Any, Path]
_cache: collections.OrderedDict[str, _Cached] = collections.OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every loaded model (the next load reads and verifies the package again)."""
    with _cache_lock:
        _cache.clear()


def _source_text(uri: str | os.PathLike[str] | ModelVersion | ModelInfo) -> str:
    if isinstance(uri, ModelVersion):
        return uri.uri
    if isinstance(uri, ModelInfo):
        return uri.model_uri
    return os.fspath(uri)


def load(
    uri: str | os.PathLike[str] | ModelVersion | ModelInfo, *, context: Context | None = None
) -> LoadedModel:
    """Load a model: ``models:/NAME/3``, ``models:/NAME@alias``, ``runs:/RUN/path`` or a folder.

    Every file is checked against its digest and the package's signature
    against the project's trusted keys before anything is loaded; a tampered
    package, or an unsigned one where the project requires signatures, is
    refused. Loaded models are cached per package digest, so loading the same
    model again costs a lookup (a key revoked meanwhile takes effect on the
    next load after :func:`clear_cache` or in a new process).

    Raises:
        NotFound: nothing at the URI.
        IntegrityError: a file or the manifest changed, a bad or untrusted signature,
            or an unsigned package where signatures are required.
        MissingExtra: the flavor's library is not installed.
    """
    be, located = find(uri, context=context)
    return load_located(be, located)


def find(
    uri: str | os.PathLike[str] | ModelVersion | ModelInfo, *, context: Context | None = None
) -> tuple[ModelBackend, Located]:
    """The package behind ``uri``, found but not yet fetched, checked or loaded.

    Recorded as a read of the pipeline step running (if any), as every load is.

    Example:
        >>> be, located = find("models:/credit/1")
        >>> len(located.digest)
        64

    Raises:
        InvalidInput: a malformed URI.
        NotFound: nothing at the URI.
    """
    text = _source_text(uri)
    be = backend(context)
    located = locate(be, parse_model_uri(text), text)
    # A pipeline step records what its references named (a moving ref is part of its cache key).
    reads.record(reads.Read("model", text, located.digest, text, text))
    return be, located


def load_located(
    be: ModelBackend, located: Located, *, cache: bool = True, flavor: str | None = None
) -> LoadedModel:
    """Load a package found behind a URI or in an archive; every load goes through here.

    The signature is checked against the project's trusted keys, then the
    local copy's manifest against the expected digest and every file against
    the manifest, before any of the package's code runs. ``cache=False``
    gives a model object of its own (not shared with other loads). With
    ``flavor``, a package of another flavor is refused after its checks and
    before any of its code or files are loaded.

    Example:
        >>> import mloop
        >>> from mloop.models.fetch import locate
        >>> from mloop.models.uris import parse_model_uri
        >>> be = backend()
        >>> load_located(be, locate(be, parse_model_uri("models:/credit/1"), "credit")).flavor
        'sklearn'

    Raises:
        IntegrityError: as :func:`load`.
    """
    key = located.digest
    with _cache_lock:
        cached = _cache.get(key) if cache else None
        if cached is not None:
            _cache.move_to_end(key)
    if cached is not None:
        manifest, predictor, folder = cached
        _check_flavor(located, manifest, flavor)
        return wrap(manifest, predictor, folder, located.uri)
    manifest, predictor, folder = _load_located(be, located, flavor)
    limit = be.settings.model_cache_size if cache else 0
    with _cache_lock:
        if limit:
            _cache[key] = (manifest, predictor, folder)
            while len(_cache) > limit:
                _cache.popitem(last=False)
    return wrap(manifest, predictor, folder, located.uri)


def _check_flavor(located: Located, manifest: Manifest, flavor: str | None) -> None:
    if flavor is None or manifest.flavor == flavor:
        return
    if manifest.flavor == "mlflow" and manifest.loader.get("delegate") == flavor:
        return  # an imported MLflow model that this flavor reads (mlflow_folder.loader_settings)
    own = f"mloop.{manifest.flavor}.load_model, " if manifest.flavor in BUILTIN_ORDER else ""
    raise InvalidInput(
        f"{located.uri} is a {manifest.flavor!r} model, not a {flavor!r} one: load it with "
        f"{own}mloop.pyfunc.load_model or mloop.models.load"
    )


def checked(be: ModelBackend, located: Located) -> tuple[Manifest, Path]:
    """The package's manifest and local folder, checked as every load checks, nothing loaded.

    The signature against the project's trusted keys, the manifest against the
    expected digest, every file against the manifest: what a load does before
    any of the package's code runs, for callers that copy a package elsewhere.

    Example:
        >>> be, located = find("models:/credit/1")
        >>> manifest, folder = checked(be, located)
        >>> manifest.digest == located.digest
        True

    Raises:
        IntegrityError: as :func:`load`.
    """
    key_id, signature = located.signed()
    check_signature(
        located.digest,
        signature,
        key_id,
        settings=be.settings,
        keys=be.stores.keys,
        what=f"model {located.uri}",
        registered_as=[v.ref for v in be.stores.models.find_versions(located.digest)]
        if signature is None
        else (),
    )
    folder = located.folder()
    manifest = read_manifest(folder)
    if manifest.digest != located.digest:
        raise IntegrityError(
            f"the files of {located.uri} at {folder} are package {manifest.digest[:12]}, but "
            f"{located.digest[:12]} was expected: they were replaced; nothing of them was "
            "loaded (a local copy that was replaced can be removed to be fetched again)"
        )
    verify_files(folder, manifest)
    return manifest, folder


def _load_located(be: ModelBackend, located: Located, flavor: str | None = None) -> _Cached:
    manifest, folder = checked(be, located)
    _check_flavor(located, manifest, flavor)
    # The package's code in a namespace of its own: another version's modules never mix in.
    with package_code(
        folder, referenced=references(manifest.loader), namespace=manifest.digest[:12]
    ):
        predictor = get_flavor(manifest.flavor).load(folder, manifest.loader)
    return manifest, predictor, folder


# -- registering -----------------------------------------------------------------------------------


def register(
    uri: str | os.PathLike[str] | ModelInfo,
    name: str,
    *,
    description: str = "",
    source: str | None = None,
    context: Context | None = None,
) -> ModelVersion:
    """Register the package at ``uri`` (``runs:/…``, a folder, ``models:/…``) as a new version.

    The version records its source run, the run's metrics at this moment,
    who registered it (``MLOOP_USER`` or the OS user) and, with the
    project's signing key, the signature of the package digest. ``source``
    is what the version records as where it came from (default: ``uri``),
    e.g. the MLflow version an imported package was made from.

    Example:
        >>> import mloop, numpy as np, tempfile
        >>> from sklearn.linear_model import LinearRegression
        >>> path = tempfile.mkdtemp() + "/m"
        >>> _ = mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
        >>> mloop.models.register(path, "doubler").ref
        'doubler/1'

    Raises:
        InvalidInput: a bad name or URI.
        NotFound: no package at ``uri``; a signing key required but missing.
        IntegrityError: the package does not match its manifest.
    """
    check_model_name(name)
    text = _source_text(uri)
    parsed = parse_model_uri(text)
    be = backend(context)
    manifest, files, run_id = _registrable(be, parsed)
    signer = project_signer(be.settings, be.stores.keys)
    key_id = signed = None
    if signer is not None:
        key_id, signed = sign_digest(signer, manifest.digest)
    metrics: Mapping[str, float] = {}
    if run_id is not None:
        try:
            metrics = dict(be.client.get_run(run_id).data.metrics)
        except NotFound:  # a package made against another store: its run is not here
            run_id = None
    new = NewVersion(
        digest=manifest.digest,
        manifest_digest=next(f.digest for f in files if f.path == MANIFEST),
        flavor=manifest.flavor,
        source=source or text,
        files=files,
        created_by=be.actor,
        run_id=run_id,
        description=description,
        metrics=metrics,
        signature=signed,
        signing_key_id=key_id,
    )
    return be.stores.models.create_version(name, new)


def _registrable(
    be: ModelBackend, parsed: ModelUri
) -> tuple[Manifest, list[ModelFile], str | None]:
    """The manifest and stored files of a package to register, and its run."""
    if parsed.kind == "runs":
        assert parsed.run_id is not None
        manifest, files, _ = run_package(be, parsed.run_id, parsed.path)
        return manifest, files, parsed.run_id
    if parsed.kind == "models":
        version = resolve_version(be, parsed)
        full = be.stores.models.get_version(version.name, version.version, with_files=True)
        return read_manifest_of(be, full), list(full.files), full.run_id
    folder = Path(parsed.path)
    manifest = read_manifest(folder)
    verify_files(folder, manifest)
    stored = []
    with be.client.content.batch() as batch:
        for item in [*manifest.files, ModelFile(MANIFEST, "", 0)]:
            digest, size = batch.put_file(folder / item.path)
            stored.append(ModelFile(item.path, digest, size))
    return manifest, stored, manifest.run_id


def read_manifest_of(be: ModelBackend, version: ModelVersion) -> Manifest:
    """The manifest of a registered version, read from the content store (verified)."""
    return parse_manifest(be.client.content.get_bytes(version.manifest_digest), version.uri)
