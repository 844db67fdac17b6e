"""A model package as one archive (a pipeline step's output): written signed, loaded verified.

A step that returns a model object stores it as a package in a tar archive:
the package's files and, when the project has a signing key, the detached
signature of its digest. Loading an archive is a load like any other
(:func:`mloop.models.api.load_located`): the signature is checked against the
project's trusted keys (an unsigned archive is refused where the project
requires signatures), then the local copy, unpacked once per package digest
under ``<home>/models/step-outputs/``, against the digest of the manifest in the
archive and every file against that manifest. A replaced archive is refused
with IntegrityError before any of its code runs; a local copy that was damaged,
replaced or partly deleted is unpacked again from the archive, with a warning.

Example:
    >>> import mloop
    >>> from sklearn.linear_model import LinearRegression
    >>> data = pack(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]))
    >>> load_archive(data, "a step output").predict([[3.0]]).round(3).tolist()
    [3.0]
"""

from __future__ import annotations

import io
import logging
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from mloop.errors import IntegrityError, NotFound
from mloop.models.api import load_located
from mloop.models.backend import ModelBackend, backend
from mloop.models.fetch import Located
from mloop.models.loaded import LoadedModel
from mloop.models.package import (
    MANIFEST,
    SIGNATURE_FILE,
    PackageSpec,
    parse_manifest,
    read_manifest,
    verify_files,
    write_package,
)
from mloop.models.signing import (
    project_signer,
    read_signature_file,
    sign_digest,
    signature_file,
)

LOCAL_COPIES = "step-outputs"

log = logging.getLogger(__name__)


def pack(model: Any, spec: PackageSpec | None = None) -> bytes:
    """Save ``model`` as a package and return it as a tar archive, signed with the project's key.

    The archive is the same for the same package (no times or owners in it).

    Example:
        >>> from sklearn.linear_model import LinearRegression
        >>> data = pack(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]))
        >>> len(data) > 0
        True

    Raises:
        InvalidInput: no flavor saves the model.
    """
    be = backend()
    signer = project_signer(be.settings, be.stores.keys)
    with be.scratch("step-model-") as scratch:
        root = scratch / "package"
        manifest = write_package(model, root, spec or PackageSpec())
        if signer is not None:
            key_id, signed = sign_digest(signer, manifest.digest)
            (root / SIGNATURE_FILE).write_bytes(signature_file(manifest.digest, key_id, signed))
        return _tar(root)


def _tar(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            item = archive.gettarinfo(str(path), arcname=path.relative_to(root).as_posix())
            item.mtime, item.uid, item.gid, item.uname, item.gname = 0, 0, 0, "", ""
            with path.open("rb") as handle:
                archive.addfile(item, handle)
    return buffer.getvalue()


def _member(data: bytes, name: str, what: str) -> bytes | None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            try:
                item = archive.getmember(name)
            except KeyError:
                return None
            handle = archive.extractfile(item) if item.isfile() else None
            return handle.read() if handle is not None else None
    except tarfile.TarError as err:
        raise IntegrityError(f"{what} is not a model package archive: {err}") from None


def locate_archive(be: ModelBackend, data: bytes, what: str) -> Located:
    """The package in an archive, found as :func:`~mloop.models.fetch.locate` finds others.

    Raises:
        IntegrityError: not an archive of a package, or its manifest or signature file is bad.
    """
    manifest_bytes = _member(data, MANIFEST, what)
    if manifest_bytes is None:
        raise IntegrityError(f"{what} is not a model package archive (it has no {MANIFEST})")
    digest = parse_manifest(manifest_bytes, what).digest
    detached = _member(data, SIGNATURE_FILE, what)

    def signed() -> tuple[str | None, str | None]:
        return read_signature_file(detached, digest) if detached is not None else (None, None)

    return Located(what, digest, signed, lambda: _local_copy(be, data, digest))


def _local_copy(be: ModelBackend, data: bytes, digest: str) -> Path:
    """The archive unpacked under ``<cache>/step-outputs/<digest>`` (checked by the loader).

    A copy already there is reused only while it is sound; a damaged, replaced or
    half-deleted one is unpacked again from the archive, with a warning.
    """
    root = be.cache_root / LOCAL_COPIES / digest
    if root.exists():
        damage = _damage(root, digest)
        if damage is None:
            return root
        log.warning(
            "the local copy of model package %s at %s was damaged (%s); unpacking it again "
            "from its archive",
            digest[:12],
            root,
            damage,
        )
        _discard(root)
    # Unpacked beside its final place and renamed there: a reader never sees half a package.
    root.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(scratch, filter="data")
        scratch.rename(root)
    except OSError:
        if not root.exists():  # not another process unpacking it first
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return root


def _damage(root: Path, digest: str) -> str | None:
    """What is wrong with the local copy of package ``digest`` at ``root``; None if sound."""
    try:
        manifest = read_manifest(root)
        if manifest.digest != digest:
            return f"it holds package {manifest.digest[:12]}"
        verify_files(root, manifest)
    except (IntegrityError, NotFound, OSError) as err:
        return str(err)
    return None


def _discard(root: Path) -> None:
    """Move a damaged copy out of the way (one rename), then remove it."""
    trash = Path(tempfile.mkdtemp(prefix=".discard-", dir=root.parent))
    try:
        root.rename(trash / root.name)
    except FileNotFoundError:
        pass  # another process discarded it first
    finally:
        for path in trash.rglob("*"):
            if path.is_dir():
                path.chmod(0o700)  # removable even where a package's folders were read-only
        shutil.rmtree(trash, ignore_errors=True)


def load_archive(data: bytes, what: str) -> LoadedModel:
    """Load the package in an archive, verified like every load (a model object of its own).

    Example:
        >>> from sklearn.linear_model import LinearRegression
        >>> model = load_archive(pack(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])), "x")
        >>> model.flavor
        'sklearn'

    Raises:
        IntegrityError: the archive or its local copy was changed or replaced, a bad or
            untrusted signature, or no signature where the project requires one.
    """
    be = backend()
    return load_located(be, locate_archive(be, data, what), cache=False)
