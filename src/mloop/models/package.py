"""The model package: a folder of a flavor's files described by ``mloop-model.yaml``.

The manifest names the flavor and its loader settings, lists every file with
its SHA-256 digest and size, and records the signature, the input example,
pinned requirements, the Python version and the creating run. Its ``digest``
is the SHA-256 of the manifest's canonical JSON without the digest itself, so
it covers every file's bytes and every word of the manifest: the package
digest that registration signs. A package is written into a temporary sibling
folder and renamed into place, so a failed save leaves nothing behind.

Example:
    >>> m = {"flavor": "pyfunc", "files": []}
    >>> manifest_digest(m) == manifest_digest(dict(reversed(list(m.items()))))
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mloop.artifacts.cas import hash_file
from mloop.entities import ModelFile
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from mloop.models import examples
from mloop.models.flavors import Flavor, SaveOptions, detect, pinned_versions
from mloop.models.flavors import get as get_flavor
from mloop.models.isolation import CODE, package_code, references
from mloop.models.signature import Enforcer, Signature, infer_signature
from mloop.tracking.own_files import own_files

logger = logging.getLogger(__name__)

MANIFEST = "mloop-model.yaml"
SIGNATURE_FILE = "mloop-model.sig"
EXAMPLE = "input_example.json"
FORMAT = 1
# Files beside the package's own that a package folder may hold: its detached signature.
_OUTSIDE_DIGEST = frozenset({MANIFEST, SIGNATURE_FILE})

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A parsed, self-consistent ``mloop-model.yaml``."""

    flavor: str
    loader: Mapping[str, Any]
    files: tuple[ModelFile, ...]
    digest: str
    signature: Signature | None = None
    input_example: str | None = None
    requirements: Mapping[str, str] = dataclasses.field(default_factory=dict)
    python_version: str = ""
    mloop_version: str = ""
    run_id: str | None = None
    created_time: int = 0
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def has_code(self) -> bool:
        """Whether the package ships Python code (``code_paths``) to import at load."""
        return any(f.path.startswith(f"{CODE}/") for f in self.files)


def manifest_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of a manifest's canonical JSON, leaving out its ``digest`` field."""
    body = {k: v for k, v in document.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_manifest(data: bytes, where: str = MANIFEST) -> Manifest:
    """Parse and check a manifest's bytes.

    Raises:
        IntegrityError: the bytes are not a manifest, or its digest does not match its content.
    """
    try:
        document = yaml.load(data, Loader=_Loader)
        if not isinstance(document, dict) or document.get("mloop_model") != FORMAT:
            raise IntegrityError(f"{where} is not an mloop model manifest (format {FORMAT})")
        files = tuple(
            ModelFile(str(f["path"]), str(f["digest"]), int(f["size"])) for f in document["files"]
        )
        signature = document.get("signature")
        manifest = Manifest(
            flavor=str(document["flavor"]),
            loader=dict(document.get("loader") or {}),
            files=files,
            digest=str(document["digest"]),
            signature=Signature.from_dict(signature) if signature else None,
            input_example=document.get("input_example"),
            requirements=dict(document.get("requirements") or {}),
            python_version=str(document.get("python_version", "")),
            mloop_version=str(document.get("mloop_version", "")),
            run_id=document.get("run_id"),
            created_time=int(document.get("created_time", 0)),
            metadata=dict(document.get("metadata") or {}),
            raw=document,
        )
    except IntegrityError:
        raise
    except (yaml.YAMLError, KeyError, TypeError, ValueError, InvalidInput) as err:
        raise IntegrityError(f"{where} is malformed: {err}") from None
    if manifest_digest(document) != manifest.digest:
        raise IntegrityError(
            f"{where} was changed after it was written: its content no longer matches its "
            f"digest {manifest.digest[:12]}"
        )
    return manifest


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The manifest of a package folder.

    Raises:
        NotFound: the folder has no ``mloop-model.yaml``.
        IntegrityError: the manifest is malformed or was changed.
    """
    target = Path(path) / MANIFEST
    if not target.is_file():
        raise NotFound(f"{str(path)!r} is not a model package (no {MANIFEST})")
    return parse_manifest(target.read_bytes(), str(target))


def verify_files(path: str | os.PathLike[str], manifest: Manifest) -> None:
    """Check that the folder holds exactly the manifest's files, each with its digest.

    Raises:
        IntegrityError: a file is missing, added, or changed; the message names it.
    """
    root = Path(path)
    present = {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()
    }
    listed = {f.path for f in manifest.files}
    added = sorted(present - listed - _OUTSIDE_DIGEST)
    if added:
        raise IntegrityError(
            f"model package {root} holds files its manifest does not list: {added}"
        )
    for item in manifest.files:
        target = root / item.path
        if not target.is_file():
            raise IntegrityError(f"model package {root} is missing {item.path!r}")
        if target.stat().st_size != item.size or hash_file(target)[0] != item.digest:
            raise IntegrityError(
                f"{item.path!r} in model package {root} does not match its digest: it was "
                "changed after the package was written"
            )


def _prepare_target(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise AlreadyExists(f"cannot save a model to {str(path)!r}: it exists and is not empty")


def _copy_code(code_paths: Sequence[str | os.PathLike[str]], root: Path) -> None:
    sources = [Path(p) for p in code_paths]
    own = own_files()
    for source in sources:
        if not source.exists():
            raise NotFound(f"code path {str(source)!r} does not exist")
        own.check_source(source)
    compiled = shutil.ignore_patterns("__pycache__", "*.pyc")

    def ignore(directory: str, names: list[str]) -> set[str]:
        # The stores' files are never copied (nor opened: closing a SQLite
        # file drops this process's locks on it); special files neither.
        left_out = set(compiled(directory, names))
        real = os.path.realpath(directory)
        for name in names:
            path = Path(directory, name)
            resolved = os.path.realpath(path) if path.is_symlink() else os.path.join(real, name)
            if own.skip(resolved, path):
                left_out.add(name)
            elif not (path.is_dir() or path.is_file()):
                logger.warning("left out %s: it is not a regular file or folder", path)
                left_out.add(name)
        return left_out

    for source in sources:
        target = root / CODE / source.name
        if source.is_dir():
            shutil.copytree(
                source,
                target,
                ignore=ignore,
                copy_function=shutil.copyfile,  # fresh times: gc must not take them for leftovers
            )
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


@dataclasses.dataclass(frozen=True)
class PackageSpec:
    """Everything beside the model object that goes into a package."""

    input_example: Any = None
    signature: Signature | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    code_paths: Sequence[str | os.PathLike[str]] = ()
    options: SaveOptions = dataclasses.field(default_factory=SaveOptions)
    run_id: str | None = None
    flavor: str | None = None


def write_package(model: Any, path: str | os.PathLike[str], spec: PackageSpec) -> Manifest:
    """Save ``model`` as a package at ``path`` (a new or empty folder).

    The model is loaded back from the written files and run on the input
    example before the folder is put in place, so a package that would not load
    is never written; that prediction also gives the signature its outputs.

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: no flavor saves the model, or an option is malformed.
        MissingExtra: the flavor's library is not installed.
    """
    target = Path(path).absolute()
    _prepare_target(target)
    flavor: Flavor = get_flavor(spec.flavor) if spec.flavor else detect(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        manifest = _write_into(model, scratch, flavor, spec)
        if target.exists():
            target.rmdir()  # empty, checked above
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return manifest


def _write_into(model: Any, root: Path, flavor: Flavor, spec: PackageSpec) -> Manifest:
    if spec.code_paths:
        _copy_code(spec.code_paths, root)
    options = dataclasses.replace(spec.options, example=spec.input_example)
    loader = flavor.save(model, root, options)
    signature = spec.signature
    if spec.input_example is not None:
        (root / EXAMPLE).write_bytes(examples.dumps(spec.input_example))
        example = examples.loads((root / EXAMPLE).read_bytes())
        if signature is None:
            signature = infer_signature(example)
        # Loaded back from the package's own code, as it will load elsewhere.
        with package_code(root, referenced=references(loader)):
            predictor = flavor.load(root, loader)
        prediction = predictor.predict(Enforcer(signature)(example))
        if signature.outputs is None:
            # Only the outputs are filled in: the inputs and any params stay as given.
            signature = dataclasses.replace(signature, outputs=infer_signature(prediction).inputs)
    files = sorted(
        (p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST),
        key=lambda p: p.as_posix(),
    )
    document: dict[str, Any] = {
        "mloop_model": FORMAT,
        "flavor": flavor.name,
        "loader": loader,
        "signature": signature.to_dict() if signature is not None else None,
        "input_example": EXAMPLE if spec.input_example is not None else None,
        "requirements": pinned_versions(flavor.packages),
        "python_version": platform.python_version(),
        "mloop_version": _mloop_version(),
        "run_id": spec.run_id,
        "created_time": time.time_ns() // 1_000_000,
        "metadata": dict(spec.metadata),
        "files": [_file_entry(root, p) for p in files],
    }
    try:
        document = json.loads(json.dumps(document))  # plain JSON values only: a stable digest
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"model metadata must hold JSON values only: {err}") from None
    document["digest"] = manifest_digest(document)
    (root / MANIFEST).write_text(yaml.dump(document, Dumper=_Dumper, sort_keys=False))
    return parse_manifest((root / MANIFEST).read_bytes())


def _file_entry(root: Path, path: Path) -> dict[str, Any]:
    digest, size = hash_file(path)
    return {"path": path.relative_to(root).as_posix(), "digest": digest, "size": size}


def _mloop_version() -> str:
    try:
        return importlib.metadata.version("mloop")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
