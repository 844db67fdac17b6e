"""Scratch folders inside the artifact store's own temporary area, where gc finds them.

Work that needs files on disk before they are stored (a model package being
written, then uploaded) happens in a ``scratch-*`` folder of the store's
``tmp/`` (the folder uploads go through), never in ``$TMPDIR``: a process
killed mid-way leaves its scratch where ``mloop gc`` looks. gc deletes temporary
files older than its grace period (:meth:`ContentStore.iter_temp`), and
:func:`sweep` removes whole scratch folders untouched for as long. An artifact
store that is not a local folder (``s3://``, ``memory://``) has no local
``tmp/``; its scratch goes to a local fallback folder (``<MLOOP_HOME>/tmp``),
which :func:`sweep` cleans the same way.

Every file written into a scratch folder must get a fresh modification time
(copy with ``shutil.copyfile``, not ``copy2``): an old one would make gc take a
live scratch file for a leftover.

Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> store = ContentStore(str(root / "store"))
    >>> with scratch(store, root / "home-tmp") as folder:
    ...     folder.parent == root / "store" / "tmp"
    True
    >>> sweep(store, root / "home-tmp", cutoff=float("inf"))
    0
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mloop.artifacts.cas import ContentStore

PREFIX = "scratch-"


def scratch_root(content: ContentStore, fallback: Path) -> Path:
    """The folder scratch folders go in: ``<root>/tmp`` of a local store, else ``fallback``."""
    # The store's own temporary area is on the same file system as its objects.
    return content.local_temp_dir() or fallback


@contextlib.contextmanager
def scratch(content: ContentStore, fallback: Path, *, prefix: str = "") -> Iterator[Path]:
    """A new, empty scratch folder, removed when the block ends (however it ends).

    Example:
        >>> import pathlib, tempfile
        >>> base = pathlib.Path(tempfile.mkdtemp())
        >>> with scratch(ContentStore(str(base / "s")), base / "tmp", prefix="model-") as f:
        ...     f.name.startswith("scratch-model-")
        True
    """
    root = scratch_root(content, fallback)
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{prefix}", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _newest(folder: Path) -> float:
    """The newest modification time of a folder and everything in it (0 when it vanished)."""
    newest = 0.0
    with contextlib.suppress(FileNotFoundError):
        newest = folder.lstat().st_mtime
        for path in folder.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                newest = max(newest, path.lstat().st_mtime)
    return newest


def sweep(
    content: ContentStore, fallback: Path | None, *, cutoff: float, dry_run: bool = False
) -> int:
    """Remove scratch folders in which nothing changed after ``cutoff`` (epoch seconds).

    Returns how many were (or, with ``dry_run``, would be) removed. Garbage
    collection calls it with the same cutoff as for temporary files.

    Example:
        >>> import pathlib, tempfile, time
        >>> base = pathlib.Path(tempfile.mkdtemp())
        >>> store = ContentStore(str(base / "s"))
        >>> (base / "s" / "tmp" / "scratch-left").mkdir(parents=True)
        >>> sweep(store, base / "tmp", cutoff=time.time() + 1)
        1
    """
    removed = 0
    roots = {fallback} if fallback is not None else set()
    own = content.local_temp_dir()
    if own is not None:
        roots.add(own)
    for root in sorted(roots):
        if not root.is_dir():
            continue
        for folder in sorted(root.glob(f"{PREFIX}*")):
            if not folder.is_dir() or _newest(folder) > cutoff:
                continue
            removed += 1
            if not dry_run:
                shutil.rmtree(folder, ignore_errors=True)
    return removed
