"""``mloop models verify``: re-read every byte of a registered version and check its signature.

Example:
    >>> import mloop
    >>> report = mloop.models.verify("gated/1")
    >>> (report.ok, report.files > 0)
    (True, True)
"""

from __future__ import annotations

import dataclasses

from mloop.artifacts.cas import CHUNK_SIZE
from mloop.errors import IntegrityError
from mloop.models.api import read_manifest_of
from mloop.models.backend import backend, settings
from mloop.models.fetch import resolve_version
from mloop.models.package import MANIFEST
from mloop.models.signing import check_signature
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

    @property
    def ok(self) -> bool:
        """Always True: a version that fails verification raises instead."""
        return True


def verify(ref: str) -> VerifyReport:
    """Check a registered version end to end: manifest, every file's bytes, and the signature.

    Raises:
        IntegrityError: a changed or missing file, a manifest that does not
            match the registered digest, a bad or untrusted signature, or no
            signature where the project requires one.
    """
    be = backend()
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
        with be.client.content.open(item.digest) as reader:  # verifies the hash at the end
            while chunk := reader.read(CHUNK_SIZE):
                total += len(chunk)
    if set(stored) - {f.path for f in manifest.files} - {MANIFEST}:
        raise IntegrityError(f"{version.ref}: the registry lists files the manifest does not")
    signed = check_signature(
        version.digest,
        version.signature,
        version.signing_key_id,
        settings=settings(),
        keys=be.stores.keys,
        what=version.ref,
    )
    return VerifyReport(
        version.ref, version.digest, len(manifest.files), total, signed, version.signing_key_id
    )
