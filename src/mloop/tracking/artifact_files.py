"""Run artifacts: local files and folders in, logical paths out, bytes in the content store.

Example:
    >>> artifact_path_join("plots", "roc.png")
    'plots/roc.png'
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.trees import naming
from mloop.entities import ArtifactInfo
from mloop.errors import InvalidInput, NotFound
from mloop.store.protocols.tracking import ArtifactIndex
from mloop.tracking.own_files import OwnFiles, own_files

logger = logging.getLogger(__name__)


def check_artifact_path(path: str | None) -> str:
    """Normalize a run-relative artifact path; reject absolute paths and ``..``.

    Raises:
        InvalidInput: the path escapes the run's artifact root.
    """
    if path is None or path in ("", ".", "/"):
        return ""
    if not isinstance(path, str):
        raise InvalidInput(f"artifact path must be a string, got {path!r}")
    posix = path.replace("\\", "/")
    if posix.startswith("/") or ".." in PurePosixPath(posix).parts or "\x00" in posix:
        raise InvalidInput(
            f"artifact path {path!r} must be relative and stay inside the run "
            "(no '..', no leading '/')"
        )
    return posixpath.normpath(posix).strip("/")


def artifact_path_join(*parts: str) -> str:
    """Join run-relative path parts, skipping empty ones."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def store_local(
    content: ContentStore,
    index: ArtifactIndex,
    run_id: str,
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    contents_only: bool = False,
    own: OwnFiles | None = None,
) -> list[ArtifactInfo]:
    """Store a local file, or a folder with its tree, and map it under ``artifact_path``.

    A file lands at ``artifact_path/<name>``; a folder at ``artifact_path/<name>/…``,
    or straight under ``artifact_path`` with ``contents_only`` (``log_artifacts``).
    The files of mloop's stores (by default, every store of this process) and
    special files (devices, FIFOs, sockets) in a folder are left out with a
    logged warning.

    Raises:
        NotFound: the local path does not exist.
        InvalidInput: ``artifact_path`` escapes the run, or the path is a store's or
            not a regular file or folder.
    """
    base = check_artifact_path(artifact_path)
    source = Path(local_path)
    own = own_files() if own is None else own
    if source.exists():
        own.check_source(source)
    if source.is_file():
        files = [(source, artifact_path_join(base, source.name))]
    elif source.is_dir():
        root = base if contents_only else artifact_path_join(base, source.name)
        files = [
            (path, artifact_path_join(root, path.relative_to(source).as_posix()))
            for path in sorted(folder_files(source, own))
        ]
    elif source.exists():
        raise InvalidInput(
            f"cannot log {str(source)!r}: it is not a regular file or folder (a device, FIFO "
            "or socket); copy its content into a file and log that"
        )
    else:
        raise NotFound(f"cannot log {str(source)!r}: no such file or directory")
    entries = []
    with content.batch() as batch:  # a folder of small files becomes one pack
        for path, logical in files:
            digest, size = batch.put_file(path)
            entries.append((logical, digest, size))
    index.record_artifacts(run_id, entries)
    return [ArtifactInfo(p, False, s, d) for p, d, s in entries]


def folder_files(folder: Path, own: OwnFiles) -> Iterator[Path]:
    """The regular files under ``folder``, leaving out the stores' files and special files.

    What is left out is named in a logged warning; nothing left out is opened.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("a")
        >>> [p.name for p in folder_files(folder, OwnFiles({}))]
        ['a.txt']
    """
    for directory, folders, names in os.walk(folder):  # links to folders are not followed
        here = Path(directory)
        real = os.path.realpath(directory)
        folders[:] = [f for f in folders if not own.skip(os.path.join(real, f), here / f)]
        for name in names:
            path = here / name
            real_path = os.path.realpath(path) if path.is_symlink() else os.path.join(real, name)
            if own.skip(real_path, path):
                continue
            if path.is_file():
                yield path
            elif not path.is_symlink() or path.exists():
                logger.warning(
                    "left out %s: it is not a regular file (a device, FIFO or socket)", path
                )


def store_bytes(
    content: ContentStore, index: ArtifactIndex, run_id: str, data: bytes, artifact_file: str
) -> ArtifactInfo:
    """Store bytes at a run-relative file path."""
    path = check_artifact_path(artifact_file)
    if not path:
        raise InvalidInput("artifact_file must name a file, e.g. 'notes.txt'")
    digest = content.put_bytes(data)
    index.record_artifacts(run_id, [(path, digest, len(data))])
    return ArtifactInfo(path, False, len(data), digest)


def download(
    content: ContentStore,
    index: ArtifactIndex,
    run_id: str,
    path: str | None,
    destination: str | os.PathLike[str],
) -> Path:
    """Copy a run's artifact file or folder to ``destination``; returns the local path.

    Everything is fetched (and verified) into a scratch folder inside
    ``destination`` first and moved into place only once complete, so a
    damaged or missing object leaves no partial download behind.

    Raises:
        NotFound: the run has nothing at ``path``, or an object is missing (named).
        IntegrityError: a stored object is corrupted; the message names the artifact.
    """
    prefix = check_artifact_path(path)
    items = index.find_artifacts(run_id, prefix or None)
    if not items:
        where = f"at {prefix!r}" if prefix else "at all"
        raise NotFound(f"run {run_id} has no artifacts {where}")
    target = Path(destination)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".mloop-download-", dir=target))
    try:
        for item in items:
            assert item.digest is not None
            with naming(f"run {run_id} artifact {item.path!r}"):
                content.get_file(item.digest, scratch / item.path)
        for item in items:
            final = target / item.path
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch / item.path, final)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                target.rmdir()
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return target / prefix if prefix else target
