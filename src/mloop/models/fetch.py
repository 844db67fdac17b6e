"""Finding a package behind a URI: its digest, its signature, and its files as a local folder.

Registered versions and run artifacts live as objects in the content store;
their files are copied once into ``<home>/models/<digest>/`` (read-only,
marked complete last) and verified against the manifest on every load into
a process. Each use checks the copy's files against the stat fingerprints
recorded when they were written, so a deleted or edited copy is fetched again
(:mod:`mloop.artifacts.trees`); ``mloop models verify`` re-reads it in full.
A plain folder is used where it is. ``runs:/RUN/PATH`` with no package in the
run's artifacts names the registered version the run produced under ``PATH``
(a model imported from MLflow), found through the run's outputs by digest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.trees import materialize as copy_objects
from mloop.artifacts.trees import naming, verify_copy
from mloop.entities import MLFLOW_RUN_ID_TAG, ModelFile, ModelVersion, ModelVersionStatus, Run
from mloop.errors import IntegrityError, NotFound
from mloop.models.backend import ModelBackend
from mloop.models.package import MANIFEST, SIGNATURE_FILE, Manifest, parse_manifest, read_manifest
from mloop.models.signing import read_signature_file
from mloop.models.uris import ModelUri

Signed = tuple[str | None, str | None]
"""``(key id, base64 signature)`` of a package digest, or ``(None, None)``."""


@dataclasses.dataclass(frozen=True)
class Located:
    """A package found behind a URI, before its files are fetched or checked.

    ``folder`` and ``signed`` do the work a package already loaded in this
    process does not need: fetching its files, finding its signature.
    """

    uri: str
    digest: str
    signed: Callable[[], Signed]
    folder: Callable[[], Path]


def materialize(
    content: ContentStore, digest: str, files: Sequence[ModelFile], root: Path, *, what: str
) -> Path:
    """The files under ``root/<digest>``, fetched once (verified reads), read-only afterwards.

    The completion marker sits beside the folder, not in it: a package folder holds
    exactly its manifest's files. ``what`` names the package in errors (``model 'credit/3'``).
    """
    entries = [(f.path, f.digest) for f in files]
    marker = root / f".{digest}.complete"
    return copy_objects(content, entries, root / digest, marker, digest, what=what)


def verify_local(
    content: ContentStore, version: ModelVersion, root: Path, *, repair: bool = True
) -> list[str]:
    """Re-read this machine's local copy of a version (if any); fetch damaged files again.

    Returns the paths damaged or missing (and files the package does not list);
    with ``repair`` they are fetched again (or removed).
    """
    entries = [(f.path, f.digest) for f in version.files]
    marker = root / f".{version.digest}.complete"
    what = f"model '{version.ref}'"
    return verify_copy(
        content, entries, root / version.digest, marker, version.digest, what=what, repair=repair
    )


def check_local_copies(be: ModelBackend, *, repair: bool) -> dict[str, list[str]]:
    """Every local copy of a registered version re-read: ``{version ref: damaged paths}``.

    Copies of packages no version registers (``runs:/`` loads) are left to their next load.
    """
    found: dict[str, list[str]] = {}
    for marker in sorted(be.cache_root.glob(".*.complete")):
        digest = marker.name[1 : -len(".complete")]
        # By digest, in any project: a copy is this machine's, whichever project loaded it.
        versions = be.stores.models.find_versions(digest, with_files=True)
        if not versions:
            continue
        version = versions[0]
        damaged = verify_local(be.client.content, version, be.cache_root, repair=repair)
        if damaged:
            found[f"model '{version.ref}'"] = damaged
    return found


_manifests: dict[str, Manifest] = {}


def stored_manifest(content: ContentStore, object_digest: str, where: str) -> Manifest:
    """The manifest in a content-store object, parsed once per process (objects never change)."""
    found = _manifests.get(object_digest)
    if found is None:
        with naming(f"the manifest of model {where!r}"):
            found = parse_manifest(content.get_bytes(object_digest), where)
        if len(_manifests) > 1024:
            _manifests.clear()
        _manifests[object_digest] = found
    return found


def resolve_version(be: ModelBackend, uri: ModelUri) -> ModelVersion:
    """The registered version a ``models:/`` URI names (the newest READY one for ``latest``).

    Raises:
        NotFound: no such model, version or alias, or no READY version for ``latest``.
    """
    if uri.alias is not None:
        return be.stores.aliases.get_alias(uri.name, uri.alias)
    if uri.version is not None:
        return be.stores.models.get_version(uri.name, uri.version)
    ready = [
        v for v in be.stores.models.list_versions(uri.name) if v.status == ModelVersionStatus.READY
    ]
    if not ready:
        raise NotFound(f"model {uri.name!r} has no READY version")
    return ready[-1]


def _registered_signature(be: ModelBackend, digest: str) -> Signed:
    for version in be.stores.models.find_versions(digest):
        if version.signature is not None:
            return version.signing_key_id, version.signature
    return None, None


def locate(be: ModelBackend, uri: ModelUri, text: str) -> Located:
    """Find the package a parsed URI names.

    Raises:
        NotFound: nothing is there.
        IntegrityError: run artifacts that do not match their manifest.
    """
    if uri.kind == "models":
        return _locate_version(be, resolve_version(be, uri), text)
    if uri.kind == "runs":
        return _locate_run(be, uri, text)
    return _locate_folder(be, Path(uri.path), text)


def run_package(
    be: ModelBackend, run_id: str, path: str
) -> tuple[Manifest, list[ModelFile], str | None]:
    """The manifest and files of a package logged to a run, and its detached signature's object.

    Raises:
        NotFound: the run has no model package at ``path``.
        IntegrityError: the run's artifacts do not match the package's manifest.
    """
    prefix = path.strip("/") + "/"
    entries = {
        item.path.removeprefix(prefix): item
        for item in be.client.list_artifacts(run_id, path, recursive=True)
        if item.path.startswith(prefix) and item.digest is not None
    }
    if MANIFEST not in entries:
        raise NotFound(f"run {run_id} has no model package at {path!r} (no {MANIFEST})")
    manifest_item = entries[MANIFEST]
    assert manifest_item.digest is not None
    manifest = stored_manifest(be.client.content, manifest_item.digest, f"runs:/{run_id}/{path}")
    files = [ModelFile(MANIFEST, manifest_item.digest, manifest_item.size or 0)]
    for item in manifest.files:
        entry = entries.get(item.path)
        if entry is None or entry.digest != item.digest:
            raise IntegrityError(
                f"the run's copy of {item.path!r} in runs:/{run_id}/{path} does not match the "
                "package manifest: it was replaced after the model was logged"
            )
        files.append(item)
    extra = sorted(set(entries) - {f.path for f in files} - {SIGNATURE_FILE})
    if extra:
        raise IntegrityError(
            f"runs:/{run_id}/{path} holds files its manifest does not list: {extra}"
        )
    signature = entries.get(SIGNATURE_FILE)
    return manifest, files, signature.digest if signature is not None else None


def produced_version(be: ModelBackend, run: Run, path: str) -> ModelVersion | None:
    """The registered version a run produced under ``path`` without a package in its artifacts.

    A model MLflow logged in a run (MLflow 3 keeps it outside the run's
    artifacts) and registered comes in with ``mloop import mlflow`` as a
    registered version; the import records it as an output of its run, named
    by the path the run logged it under. The version is found by that output's
    digest, so it is exactly the package the run produced, signature and all.
    """
    outputs = [o for o in run.outputs if o.kind == "model" and o.name == path.strip("/")]
    for output in outputs:
        versions = be.stores.models.find_versions(output.digest)
        ready = [v for v in versions if v.status == ModelVersionStatus.READY]
        if ready:
            return ready[0]
    return None


def _not_in_run(run: Run, path: str, missing: NotFound) -> NotFound:
    """Why ``runs:/RUN/PATH`` names nothing; for a run imported from MLflow, what to do."""
    mlflow_run = run.data.tags.get(MLFLOW_RUN_ID_TAG)
    if not mlflow_run:
        return missing
    return NotFound(
        f"run {run.info.run_id} (MLflow run {mlflow_run}, imported) has no model at {path!r}: only "
        "models registered in MLflow come in as verified mloop packages; a model only logged "
        "there (MLflow 3 keeps it outside the run's artifacts) or kept as plain MLflow files is "
        f"not loaded. Register it in MLflow (mlflow.register_model('runs:/{mlflow_run}/{path}', "
        "NAME)) and import again, then load runs:/RUN_ID/PATH or models:/NAME/VERSION"
    )


def _locate_version(be: ModelBackend, version: ModelVersion, text: str) -> Located:
    def fetch() -> Path:  # only when the model is not loaded in this process yet
        full = be.stores.models.get_version(version.name, version.version, with_files=True)
        what = f"model '{version.ref}'"
        return materialize(be.client.content, full.digest, full.files, be.cache_root, what=what)

    return Located(
        text,
        version.digest,
        lambda: (version.signing_key_id, version.signature),
        fetch,
    )


def _locate_run(be: ModelBackend, uri: ModelUri, text: str) -> Located:
    assert uri.run_id is not None
    try:
        manifest, files, detached = run_package(be, uri.run_id, uri.path)
    except NotFound as missing:
        try:
            run = be.client.get_run(uri.run_id)
        except NotFound:  # no such run: the package is what was looked for
            raise missing from None
        version = produced_version(be, run, uri.path)
        if version is None:
            raise _not_in_run(run, uri.path, missing) from None
        return _locate_version(be, version, text)

    def signed() -> Signed:
        if detached is None:
            return _registered_signature(be, manifest.digest)
        with naming(f"the signature of model {text!r}"):
            data = be.client.content.get_bytes(detached)
        return read_signature_file(data, manifest.digest)

    return Located(
        text,
        manifest.digest,
        signed,
        lambda: materialize(
            be.client.content, manifest.digest, files, be.cache_root, what=f"model {text!r}"
        ),
    )


def _locate_folder(be: ModelBackend, folder: Path, text: str) -> Located:
    manifest = read_manifest(folder)
    sig = folder / SIGNATURE_FILE

    def signed() -> Signed:
        if sig.is_file():
            return read_signature_file(sig.read_bytes(), manifest.digest)
        return _registered_signature(be, manifest.digest)

    return Located(text, manifest.digest, signed, lambda: folder)
