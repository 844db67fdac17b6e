"""``mloop models verify``: re-read every byte of a registered version and check its signature.

The local copy of the version (if this machine has one) is re-read too, and
its damaged or missing files are fetched again from the store.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = tempfile.mkdtemp() + "/m"
    >>> _ = mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    >>> _ = mloop.models.register(path, "checked")
    >>> report = mloop.models.verify("checked/1")
    >>> (report.ok, report.files, report.signed)
    (True, 1, False)
"""

from __future__ import annotations

import dataclasses

from mloop.artifacts.cas import CHUNK_SIZE
from mloop.artifacts.trees import naming
from mloop.context.context import Context
from mloop.entities import ModelVersion
from mloop.errors import IntegrityError, NotFound
from mloop.models.api import read_manifest_of
from mloop.models.backend import ModelBackend, backend
from mloop.models.fetch import check_local_copies as _check_copies
from mloop.models.fetch import resolve_version, verify_local
from mloop.models.package import MANIFEST
from mloop.models.signing import check_signature, project_signer, sign_digest
from mloop.models.uris import parse_version_ref


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """A verified version: how many files and bytes were read, and whether it is signed."""

    ref: str
    digest: str
    files: int
    bytes: int
    signed: bool
    key_id: str | None
    repaired: list[str] = dataclasses.field(default_factory=list)
    """Files of this machine's local copy that were damaged or missing and were fetched again."""

    @property
    def ok(self) -> bool:
        """Always True: a version that fails verification raises instead."""
        return True


def _check_files(be: ModelBackend, ref: str) -> tuple[ModelVersion, int, int]:
    """Re-read a version's files; returns it, the number of files and of bytes."""
    found = resolve_version(be, parse_version_ref(ref))
    version = be.stores.models.get_version(found.name, found.version, with_files=True)
    manifest = read_manifest_of(be, version)
    if manifest.digest != version.digest:
        raise IntegrityError(
            f"{version.ref}: the stored manifest has digest {manifest.digest[:12]}, but the "
            f"registry recorded {version.digest[:12]}"
        )
    stored = {f.path: f for f in version.files}
    total = 0
    for item in manifest.files:
        entry = stored.get(item.path)
        if entry is None or entry.digest != item.digest:
            raise IntegrityError(f"{version.ref}: {item.path!r} is not the file the manifest lists")
        with naming(f"model '{version.ref}' file {item.path!r}"):
            total += _read_all(be, item.digest)
    if set(stored) - {f.path for f in manifest.files} - {MANIFEST}:
        raise IntegrityError(f"{version.ref}: the registry lists files the manifest does not")
    return version, len(manifest.files), total


def _read_all(be: ModelBackend, digest: str) -> int:
    size = 0
    with be.client.content.open(digest) as reader:  # verifies the hash at the end
        while chunk := reader.read(CHUNK_SIZE):
            size += len(chunk)
    return size


def verify(ref: str, *, context: Context | None = None) -> VerifyReport:
    """Check a registered version end to end: manifest, every file's bytes, and the signature.

    Raises:
        IntegrityError: a changed or missing file, a manifest that does not
            match the registered digest, a bad or untrusted signature, or no
            signature where the project requires one.
    """
    be = backend(context)
    version, files, total = _check_files(be, ref)
    signed = check_signature(
        version.digest,
        version.signature,
        version.signing_key_id,
        settings=backend(context).settings,
        keys=be.stores.keys,
        what=version.ref,
    )
    repaired = verify_local(be.client.content, version, be.cache_root)
    return VerifyReport(
        version.ref, version.digest, files, total, signed, version.signing_key_id, repaired
    )


def check_local_copies(
    *, repair: bool = False, context: Context | None = None
) -> dict[str, list[str]]:
    """Re-read this machine's local copies of registered versions: ``{ref: damaged paths}``.

    With ``repair``, damaged or missing files are fetched again from the store.

    Example:
        >>> check_local_copies()
        {}
    """
    return _check_copies(backend(context), repair=repair)


def sign(ref: str, *, context: Context | None = None) -> ModelVersion:
    """Sign a registered version with the project's key, after re-reading all its files.

    For versions registered before the project had a key (``mloop keys init``).

    Raises:
        IntegrityError: the version's files do not match its digest (nothing is signed).
        NotFound: there is no signing key.
    """
    be = backend(context)
    version, _, _ = _check_files(be, ref)
    signer = project_signer(backend(context).settings, be.stores.keys)
    if signer is None:
        raise NotFound("there is no signing key to sign with; create one with mloop keys init")
    key_id, signature = sign_digest(signer, version.digest)
    return be.stores.models.set_signature(version.name, version.version, key_id, signature)
