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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mloop.artifacts.cas import ContentStore
from mloop.data.hash_cache import HashCache
from mloop.entities import DatasetFile, DatasetVersion
from mloop.errors import InvalidInput, NotFound, StoreError

HASH_WORKERS = max(2, min(8, os.cpu_count() or 2))


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    # scandir's entries carry the file type, so a walk costs no stat per file.
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                logical = f"{prefix}{entry.name}"
                if entry.is_dir():
                    stack.append((entry.path, f"{logical}/"))
                elif entry.is_file():
                    yield Path(entry.path), logical
                elif entry.is_symlink():
                    raise InvalidInput(
                        f"cannot add {str(root)!r}: {entry.path!r} is a broken symbolic link"
                    )


def list_files(source: str | os.PathLike[str]) -> list[tuple[Path, str]]:
    """The files of a file or folder, each with its path inside the version.

    Raises:
        NotFound: the path does not exist.
        InvalidInput: broken symlinks, or nothing to add.
    """
    root = Path(source)
    if not root.exists():
        raise NotFound(f"cannot add {str(root)!r}: no such file or directory")
    root = root.absolute()
    try:
        files = [(root, root.name)] if root.is_file() else sorted(_walk(root), key=lambda f: f[1])
    except PermissionError as err:
        raise InvalidInput(f"cannot add {str(root)!r}: {err.filename!r} is not readable") from None
    if not files:
        raise InvalidInput(f"cannot add {str(root)!r}: the folder has no files")
    return files


def manifest_digest(files: list[DatasetFile]) -> str:
    """SHA-256 over the sorted ``(path, digest, size)`` manifest.

    Example:
        >>> len(manifest_digest([DatasetFile("a", "0" * 64, 1)]))
        64
    """
    entries = sorted((f.path, f.digest, f.size) for f in files)
    return hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()


Progress = Callable[[int, int], None]
"""Called with ``(files done, files in all)`` as files are stored."""


def store_files(
    content: ContentStore,
    files: list[tuple[Path, str]],
    cache: HashCache | None = None,
    progress: Progress | None = None,
) -> list[DatasetFile]:
    """Store every file (in parallel) and return the manifest, sorted by path.

    With a ``cache``, a file unchanged since it was last hashed, whose object
    is still stored, is neither read nor copied.
    """
    known = cache.lookup([path for path, _ in files]) if cache else {}
    manifest: list[DatasetFile] = []
    todo: list[tuple[Path, str]] = []
    for path, logical in files:
        hit = known.get(path)
        if hit is not None and content.claim(hit[0]):
            manifest.append(DatasetFile(logical, hit[0], hit[1]))
        else:
            todo.append((path, logical))

    def put(item: tuple[Path, str]) -> DatasetFile:
        path, logical = item
        try:
            # Not in the hash cache: most likely new content, so read it once.
            digest, size = content.put_file(path, likely_new=cache is not None)
        except PermissionError:
            raise InvalidInput(f"cannot read {str(path)!r}: permission denied") from None
        except OSError as err:
            raise StoreError(f"could not store {str(path)!r}: {err}") from err
        return DatasetFile(logical, digest, size)

    done = len(manifest)
    stored: list[DatasetFile] = []
    with ThreadPoolExecutor(max_workers=HASH_WORKERS) as pool:
        for item in pool.map(put, todo):
            stored.append(item)
            done += 1
            if progress is not None:
                progress(done, len(files))
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
