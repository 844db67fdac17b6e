"""Adding files as dataset versions and materializing versions back to disk.

Files are hashed on a thread pool (hashlib releases the GIL, so both cores
work), stored in the content store (content already there is not copied),
and only then is the version committed, in one transaction: an interrupted
add leaves no version behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mloop.artifacts.cas import ContentStore
from mloop.data.hash_cache import HashCache
from mloop.entities import DatasetFile, DatasetVersion
from mloop.errors import InvalidInput, NotFound, StoreError

HASH_WORKERS = max(2, min(8, os.cpu_count() or 2))


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*")):
        if path.is_symlink() and not path.exists():
            raise InvalidInput(f"cannot add {str(root)!r}: {str(path)!r} is a broken symbolic link")
        if path.is_file():
            yield path, path.relative_to(root).as_posix()


def list_files(source: str | os.PathLike[str]) -> list[tuple[Path, str]]:
    """The files of a file or folder, each with its path inside the version.

    Raises:
        NotFound: the path does not exist.
        InvalidInput: broken symlinks, or nothing to add.
    """
    root = Path(source)
    if not root.exists():
        raise NotFound(f"cannot add {str(root)!r}: no such file or directory")
    files = [(root, root.name)] if root.is_file() else list(_walk(root))
    if not files:
        raise InvalidInput(f"cannot add {str(root)!r}: the folder has no files")
    for path, _ in files:
        if not os.access(path, os.R_OK):
            raise InvalidInput(f"cannot add {str(root)!r}: {str(path)!r} is not readable")
    return files


def manifest_digest(files: list[DatasetFile]) -> str:
    """SHA-256 over the sorted ``(path, digest, size)`` manifest.

    Example:
        >>> len(manifest_digest([DatasetFile("a", "0" * 64, 1)]))
        64
    """
    entries = sorted((f.path, f.digest, f.size) for f in files)
    return hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()


def store_files(
    content: ContentStore, files: list[tuple[Path, str]], cache: HashCache | None = None
) -> list[DatasetFile]:
    """Store every file (in parallel) and return the manifest, sorted by path.

    With a ``cache``, a file unchanged since it was last hashed, whose object
    is still stored, is neither read nor copied.
    """
    known = cache.lookup([path for path, _ in files]) if cache else {}
    manifest: list[DatasetFile] = []
    todo: list[tuple[Path, str]] = []
    for path, logical in files:
        digest = known.get(path)
        if digest is not None and content.claim(digest):
            manifest.append(DatasetFile(logical, digest, path.stat().st_size))
        else:
            todo.append((path, logical))

    def put(item: tuple[Path, str]) -> DatasetFile:
        path, logical = item
        try:
            digest, size = content.put_file(path)
        except PermissionError:
            raise InvalidInput(f"cannot read {str(path)!r}: permission denied") from None
        except OSError as err:
            raise StoreError(f"could not store {str(path)!r}: {err}") from err
        return DatasetFile(logical, digest, size)

    with ThreadPoolExecutor(max_workers=HASH_WORKERS) as pool:
        stored = list(pool.map(put, todo))
    if cache is not None:
        cache.record((path, item.digest) for (path, _), item in zip(todo, stored, strict=True))
    return sorted(manifest + stored, key=lambda f: f.path)


def materialize(content: ContentStore, version: DatasetVersion, cache_root: Path) -> Path:
    """The version's files under ``cache_root/<name>/<version>``, read-only, fetched once.

    A finished copy is marked by a ``.complete`` file written last, so an
    interrupted copy is redone, never used.
    """
    target = cache_root / version.name / str(version.version)
    marker = target / ".complete"
    if marker.exists() and marker.read_text() == version.digest:
        return target
    for item in version.files:
        destination = target / item.path
        if destination.exists():
            destination.chmod(stat.S_IRUSR | stat.S_IWUSR)
        content.get_file(item.digest, destination)
        destination.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    marker.write_text(version.digest)
    return target
