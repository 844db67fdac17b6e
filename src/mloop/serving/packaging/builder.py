"""``build``: a folder from which a model's image is built and deployed.

Every target writes a verified copy of the package (``model/``) and
``wheels/``; ``docker``, ``k8s`` and ``kserve`` write the image's build context
(``Dockerfile``, ``requirements.txt``), ``k8s`` and ``kserve`` add their
manifests, and ``ray-serve`` writes a Ray Serve config (no image: Ray's nodes
run the replicas). The package is found and checked through the path every
load takes (signature against the project's trusted keys, every file against
its digest) and its files are copied into ``model/`` and checked again there.
The folder is written beside its place and renamed in, so a failed build
leaves nothing behind.

Example:
    >>> check_target("k8s")
    >>> sorted(TARGETS)
    ['docker', 'k8s', 'kserve', 'ray-serve']
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from mloop.context import Context
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from mloop.models.api import checked, find
from mloop.models.backend import ModelBackend
from mloop.models.fetch import resolve_version
from mloop.models.flavors import get as get_flavor
from mloop.models.flavors import pinned_versions
from mloop.models.package import MANIFEST, Manifest, read_manifest, verify_files
from mloop.models.uris import check_model_name, parse_model_uri
from mloop.serving.packaging import docker, kserve, kubernetes, ray_serve
from mloop.serving.packaging.context import BuildContext, BuildOptions
from mloop.serving.served import served_name

_Writer = Callable[[BuildContext, Path], list[str]]
TARGETS: dict[str, tuple[_Writer, ...]] = {
    "docker": (docker.write,),
    "k8s": (docker.write, kubernetes.write),
    "kserve": (docker.write, kserve.write),
    "ray-serve": (ray_serve.write,),
}

# Keeps the folder (COPY needs it) when the build folder is kept in version control.
_WHEELS_README = (
    "Wheels here are installed in preference to the package index when the image is built\n"
    "(mloop models build --wheel PATH copies them here).\n"
)


@dataclasses.dataclass(frozen=True)
class BuildReport:
    """What a build wrote: the folder, the files in it, the image the manifests name."""

    out: Path
    target: str
    name: str
    version: str
    digest: str
    image: str
    files: list[str]


def check_target(target: str) -> None:
    """Refuse a target that does not exist.

    Raises:
        InvalidInput: naming the targets there are.
    """
    if target not in TARGETS:
        raise InvalidInput(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")


def check_out(out: Path, *, force: bool) -> None:
    """Refuse an output path that is a file, or a folder with something in it (unless forced).

    Raises:
        InvalidInput: ``out`` is a file.
        AlreadyExists: ``out`` is a folder that is not empty, and ``force`` is off.
    """
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise AlreadyExists(
            f"--out {str(out)!r} is not empty; choose another folder, or pass --force to "
            "replace what is in it"
        )


def _check_replaceable(out: Path, kept: list[Path]) -> None:
    """Refuse to replace a folder that holds the working directory, the package or the store.

    Raises:
        InvalidInput: naming what ``--force`` would have deleted.
    """
    if not out.exists():
        return
    resolved = out.resolve()
    for path in (Path.cwd(), *kept):
        if path.resolve().is_relative_to(resolved):
            raise InvalidInput(
                f"--out {str(out)!r} holds {str(path)!r}; --force replaces only a folder of "
                "its own: choose another --out"
            )


def _uri(ref: str) -> str:
    """A model URI for ``ref``: a URI as given, a package folder, else a registry reference."""
    if ref.startswith(("models:/", "runs:/")) or Path(ref).is_dir():
        return ref
    return f"models:/{ref}"


def _identity(be: ModelBackend, uri: str, digest: str) -> tuple[str, str]:
    """The name and version a package is served under (the digest's start for no version)."""
    parsed = parse_model_uri(uri)
    if parsed.kind == "models":
        version = resolve_version(be, parsed)
        return version.name, str(version.version)
    return served_name(uri), digest[:12]


def _mloop_version() -> str:
    try:
        return importlib.metadata.version("mloop")
    except importlib.metadata.PackageNotFoundError:
        raise NotFound(
            "mloop is not installed as a distribution here, so the image cannot pin it; "
            "pass --mloop-spec (e.g. 'mloop[serve] @ file:///srv/wheels/<wheel>')"
        ) from None


def requirements(manifest: Manifest, options: BuildOptions) -> tuple[str, ...]:
    """The requirement lines: mloop's server, then the package's pinned requirements.

    A package that records no requirements gets its flavor's libraries at the versions
    installed here.
    """
    pinned = dict(manifest.requirements) or pinned_versions(get_flavor(manifest.flavor).packages)
    spec = options.mloop_spec or f"mloop[serve]=={_mloop_version()}"
    own = sorted(f"{dist}=={version}" for dist, version in pinned.items() if dist != "mloop")
    return (spec, *own)


def _copy_package(manifest: Manifest, folder: Path, target: Path) -> None:
    """Copy the manifest's files (nothing else) and check the copy against the manifest."""
    for item in manifest.files:
        (target / item.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / item.path, target / item.path)
    shutil.copyfile(folder / MANIFEST, target / MANIFEST)
    copied = read_manifest(target)
    if copied.digest != manifest.digest:
        raise IntegrityError(f"the copy in {target} is not package {manifest.digest[:12]}")
    verify_files(target, copied)


def _python(manifest: Manifest) -> str:
    parts = (manifest.python_version or platform.python_version()).split(".")
    return ".".join(parts[:2])


def build(
    ref: str | os.PathLike[str],
    target: str,
    out: str | os.PathLike[str],
    options: BuildOptions | None = None,
    *,
    context: Context | None = None,
) -> BuildReport:
    """Write the image's build context and the ``target``'s manifests for a model into ``out``.

    ``ref`` is ``NAME/VERSION``, ``NAME@ALIAS``, a model URI or a package folder.

    Example:
        >>> import mloop, pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
        >>> _ = mloop.models.save(LogisticRegression().fit(x, [0, 0, 1, 1]), "credit")
        >>> report = build("credit", "docker", "out")
        >>> report.name, report.files[:2]
        ('credit', ['Dockerfile', 'requirements.txt'])

    Raises:
        InvalidInput: an unknown target, bad options, a file as
            ``out``.
        AlreadyExists: ``out`` is not empty and ``options.force`` is off.
        NotFound: no model at ``ref``.
        IntegrityError: the package fails its checks (files, signature).
    """
    options = options or BuildOptions()
    check_target(target)
    options.check()
    destination = Path(out).absolute()
    check_out(destination, force=options.force)
    wheels = [Path(w) for w in options.wheels]
    for wheel in wheels:
        if not wheel.is_file():
            raise NotFound(f"--wheel {str(wheel)!r} does not exist")
    uri = _uri(os.fspath(ref))
    be, located = find(uri, context=context)
    manifest, folder = checked(be, located)
    _check_replaceable(destination, [folder, be.settings.local_root()])
    name, version = _identity(be, uri, manifest.digest)
    if options.name is not None:
        name = check_model_name(options.name)
    ctx = BuildContext(
        name, version, manifest.digest, manifest.flavor, _python(manifest),
        requirements(manifest, options), options,
    )  # fmt: skip
    destination.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        _copy_package(manifest, folder, scratch / "model")
        (scratch / "wheels").mkdir()
        (scratch / "wheels" / "README.txt").write_text(_WHEELS_README)
        for wheel in wheels:
            shutil.copyfile(wheel, scratch / "wheels" / wheel.name)
        files = [path for write in TARGETS[target] for path in write(ctx, scratch)]
        if destination.exists():
            shutil.rmtree(destination)
        scratch.rename(destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    files += ["model/", "wheels/"]
    return BuildReport(destination, target, name, version, manifest.digest, ctx.image, files)
