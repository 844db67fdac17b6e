"""Adding files as dataset versions and materializing versions back to disk.

Files are hashed on a thread pool (hashlib releases the GIL, so both cores
work) and stored in the content store in one batch (content already there is
not copied; small files share pack files). Only then is the version
committed, in one transaction: an interrupted add leaves no version behind.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from mloop.artifacts.cas import PACK_OBJECT_LIMIT, ContentStore
from mloop.artifacts.trees import materialize as copy_objects
from mloop.data.hash_cache import FileKey, HashCache
from mloop.entities import DatasetFile, DatasetVersion
from mloop.errors import InvalidInput, NotFound, StoreError
from mloop.tracking.own_files import OwnFiles, inside, own_files

logger = logging.getLogger(__name__)

HASH_WORKERS = max(2, min(8, os.cpu_count() or 2))


class SourceFile(NamedTuple):
    """A file to add: its local path, its path inside the version, and its stat when listed."""

    path: str
    logical: str
    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int = 0

    @property
    def key(self) -> FileKey:
        """What the hash cache matches on."""
        return (self.path, self.size, self.mtime_ns, self.ctime_ns, self.inode)


def _source(path: str, logical: str, st: os.stat_result) -> SourceFile:
    return SourceFile(path, logical, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _link_target(link: str) -> str:
    # The real path the link ends at; a loop or a missing end is the user's to fix.
    try:
        return os.path.realpath(link, strict=True)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise InvalidInput(
                f"{link!r} is a symbolic link loop ({os.readlink(link)!r} leads back to "
                "itself): remove or fix the link"
            ) from None
        raise InvalidInput(
            f"{link!r} is a broken symbolic link (it points to {os.readlink(link)!r}, "
            "which does not exist): remove or fix the link"
        ) from None


def _walk(root: str, follow_links: bool, own: OwnFiles) -> Iterator[SourceFile]:
    """Every file under ``root``; symbolic links are checked before they are followed.

    A link that stays inside the folder is followed (its content is stored
    under the link's path). A link that leaves it is refused unless
    ``follow_links``; a link back to a folder being walked is a loop. The
    store's own files (``own``) and special files (devices, FIFOs, sockets)
    are left out with a warning, never opened.
    """
    real_root = os.path.realpath(root)
    # scandir's entries carry the file type, so a walk costs one stat per file and no more.
    # Each folder waits with the real paths of the folders above it, to catch loops.
    stack: list[tuple[str, str, str, frozenset[str]]] = [
        (root, real_root, "", frozenset({real_root}))
    ]
    while stack:
        directory, real_directory, prefix, above = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                logical = f"{prefix}{entry.name}"
                if entry.is_symlink():
                    target = _link_target(entry.path)
                    if own.skip(target, entry.path):
                        continue
                    if not follow_links and not inside(target, real_root):
                        raise InvalidInput(
                            f"cannot add {root!r}: {entry.path!r} is a symbolic link to "
                            f"{target!r}, outside the folder; copy what it points to into "
                            "the folder, or follow links out of it on purpose with "
                            "follow_links=True (mloop data add --follow-links)"
                        )
                    if os.path.isdir(target):
                        if target in above:
                            raise InvalidInput(
                                f"cannot add {root!r}: {entry.path!r} is a symbolic link loop "
                                f"(it points to {target!r}, a folder that contains it); "
                                "remove the link"
                            )
                        stack.append((entry.path, target, f"{logical}/", above | {target}))
                        continue
                real = os.path.join(real_directory, entry.name)
                if not entry.is_symlink() and own.skip(real, entry.path):
                    continue
                if entry.is_dir():
                    stack.append((entry.path, real, f"{logical}/", above | {real}))
                elif entry.is_file():
                    yield _source(entry.path, logical, entry.stat())
                else:
                    logger.warning(
                        "left out %s: it is not a regular file (a device, FIFO or socket)",
                        entry.path,
                    )


def list_files(
    source: str | os.PathLike[str], *, follow_links: bool = False, own: OwnFiles | None = None
) -> list[SourceFile]:
    """The files of a file or folder, sorted by their path inside the version.

    Symbolic links inside a folder are followed when they point inside it;
    one that points outside is refused unless ``follow_links``. The files of
    mloop's stores (``own``, by default every store of this process) and
    special files in the folder are left out with a logged warning.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.csv").write_text("x,y")
        >>> [f.logical for f in list_files(folder)]
        ['a.csv']

    Raises:
        NotFound: the path does not exist.
        InvalidInput: broken links, link loops, links out of the folder (unless
            ``follow_links``), unreadable folders, a path that is a store or not
            a regular file or folder, or nothing to add.
    """
    root = os.path.abspath(source)
    if not os.path.lexists(root):
        raise NotFound(f"cannot add {str(source)!r}: no such file or directory")
    own = own_files() if own is None else own
    own.check_source(root)
    try:
        if os.path.islink(root):
            _link_target(root)
        if os.path.isfile(root):
            return [_source(root, os.path.basename(root), os.stat(root))]
        if not os.path.isdir(root):
            raise InvalidInput(
                f"cannot add {root!r}: it is not a regular file or folder (a device, FIFO "
                "or socket); copy its content into a file and add that"
            )
        files = sorted(_walk(root, follow_links, own), key=lambda f: f.logical)
    except PermissionError as err:
        raise InvalidInput(f"cannot add {root!r}: {err.filename!r} is not readable") from None
    except OSError as err:
        if err.errno != errno.ELOOP:
            raise
        raise InvalidInput(
            f"cannot add {root!r}: {err.filename!r} is reached through a symbolic link loop; "
            "remove the looping link"
        ) from None
    if not files:
        raise InvalidInput(f"cannot add {root!r}: the folder has no files")
    return files


def manifest_digest(files: list[DatasetFile]) -> str:
    """SHA-256 over the sorted ``(path, digest, size)`` manifest.

    Example:
        >>> len(manifest_digest([DatasetFile("a", "0" * 64, 1)]))
        64
    """
    entries = sorted((f.path, f.digest, f.size) for f in files)
    return hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()


def cached_manifest(files: list[SourceFile], known: dict[str, str]) -> list[DatasetFile] | None:
    """The manifest from cached digests alone, or None when a file is not in the cache."""
    if len(known) < len(files):
        return None
    try:
        return [DatasetFile(f.logical, known[f.path], f.size) for f in files]
    except KeyError:
        return None


Progress = Callable[[int, int], None]
"""Called with ``(files done, files in all)`` as files are stored."""


def store_files(
    content: ContentStore,
    files: list[SourceFile],
    *,
    cache: HashCache | None = None,
    known: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> list[DatasetFile]:
    """Store every file (in parallel, small ones packed together); returns the manifest.

    ``known`` holds digests from the hash cache: a file in it whose object is
    still stored is neither read nor copied. Digests of the files read are
    recorded in ``cache``. The manifest keeps the order of ``files``.
    """
    known = known or {}
    manifest: list[DatasetFile | None] = []
    todo: list[tuple[int, SourceFile]] = []
    for f in files:
        digest = known.get(f.path)
        if digest is not None and content.claim(digest):
            manifest.append(DatasetFile(f.logical, digest, f.size))
        else:
            todo.append((len(manifest), f))
            manifest.append(None)

    def put(item: tuple[int, SourceFile]) -> DatasetFile:
        f = item[1]
        try:
            # Not in the hash cache: most likely new content, so read it once.
            digest, size = batch.put_file(f.path, likely_new=cache is not None)
        except PermissionError:
            raise InvalidInput(f"cannot read {f.path!r}: permission denied") from None
        except NotFound:
            raise InvalidInput(f"{f.path!r} disappeared while it was being added") from None
        except OSError as err:
            raise StoreError(f"could not store {f.path!r}: {err}") from err
        return DatasetFile(f.logical, digest, size)

    done = len(files) - len(todo)

    def finished(index: int, stored: DatasetFile) -> None:
        nonlocal done
        manifest[index] = stored
        done += 1
        if progress is not None:
            progress(done, len(files))

    # Small files go one after another into a pack: per file, Python's own work
    # outweighs the hashing, and threads would only pass the GIL back and forth.
    # Large files are hashed on every core (hashlib releases the GIL).
    small = [item for item in todo if item[1].size <= PACK_OBJECT_LIMIT]
    large = [item for item in todo if item[1].size > PACK_OBJECT_LIMIT]
    with content.batch() as batch:
        for item in small:
            finished(item[0], put(item))
        if large:
            pool = ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="mloop-add")
            try:
                for (index, _), stored in zip(large, pool.map(put, large), strict=True):
                    finished(index, stored)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    if cache is not None:
        cache.record((f.key, manifest[index].digest) for index, f in todo)  # type: ignore[union-attr]
    return [item for item in manifest if item is not None]


def copy_folder_name(version: DatasetVersion) -> str:
    """The name of a version's local copy: ``<version>-<first 12 hex digits of its digest>``.

    Stores sharing one folder of local copies then never share one: ``ds@1``
    of one store and ``ds@1`` of another have different digests.

    Example:
        >>> copy_folder_name(DatasetVersion("ds", 1, "ab" * 32, 1, 10, 0))
        '1-abababababab'
    """
    return f"{version.version}-{version.digest[:12]}"


def materialize(content: ContentStore, version: DatasetVersion, cache_root: Path) -> Path:
    """The version's files in ``cache_root/<name>/<version>-<digest12>``, read-only, fetched once.

    A finished copy is marked by a ``.complete`` file written last, so an
    interrupted copy is redone, never used.
    """
    target = cache_root / version.name / copy_folder_name(version)
    entries = [(f.path, f.digest) for f in version.files]
    what = f"dataset '{version.name}@{version.version}'"
    return copy_objects(content, entries, target, target / ".complete", version.digest, what=what)
