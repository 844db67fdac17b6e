"""The files of mloop's own stores, which a folder being versioned must leave out.

A dataset, artifact or model package never holds the store it is kept in. And
reading a store's SQLite file through ``open()`` is harmful, not just wasteful:
closing that file drops every POSIX lock this process holds on the database,
so another process closing the store may delete the write-ahead log under the
open connections and later commits are lost. Every walker (``mloop data add``,
``log_artifacts``, ``code_paths``) asks :func:`own_files` what to leave out.

Example:
    >>> import tempfile
    >>> from mloop.config import Settings
    >>> home = Path(tempfile.mkdtemp()) / ".mloop"
    >>> own = own_files(Settings(home=home))
    >>> own.what(home / "mloop.db-wal")
    "the store's SQLite file (mloop.db-wal)"
    >>> own.what(home.parent / "data.csv") is None
    True
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from mloop.config import Settings, sqlite_file
from mloop.context.defaults import chosen_settings
from mloop.errors import InvalidInput
from mloop.tracking.connection import open_stores

logger = logging.getLogger(__name__)

SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")
"""A SQLite database ``NAME`` and what SQLite keeps beside it (``NAME-wal``, ...)."""

# Folders of MLOOP_HOME that hold the store's objects, caches and local copies.
_HOME_FOLDERS = ("artifacts", "cache", "datasets", "models", "tune", "tmp", "keys")
# Of those, the ones nothing may be taken from: the hash cache (a SQLite file
# this process keeps using) and the signing keys.
_SEALED = ("cache", "keys")


def inside(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies under it (both real paths).

    Example:
        >>> inside("/a/b/c", "/a/b"), inside("/a/bc", "/a/b")
        (True, False)
    """
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclasses.dataclass(frozen=True)
class OwnFiles:
    """Real paths of the stores' files and folders, each with what it is, for messages."""

    entries: Mapping[str, str]
    sealed: frozenset[str] = frozenset()

    def what(self, path: str | os.PathLike[str]) -> str | None:
        """What ``path`` is when it is one of the stores' files or folders, else None."""
        return self.entries.get(os.path.realpath(path))

    def check_source(self, path: str | os.PathLike[str]) -> None:
        """Refuse a path to version that is a store's file or folder, or inside a sealed one.

        A folder inside a store's folder may be added (mloop itself logs model
        packages from a scratch folder in the artifact root); the store's files
        in it are then left out as anywhere else.

        Raises:
            InvalidInput: the path is the store's; the message says which part.
        """
        real = os.path.realpath(path)
        for entry, what in self.entries.items():
            if real == entry or (entry in self.sealed and inside(real, entry)):
                raise InvalidInput(
                    f"cannot version {str(path)!r}: it is {what}, and mloop never versions "
                    "its own store; name a folder or file outside it"
                )

    def skip(self, real: str, shown: str | os.PathLike[str]) -> bool:
        """True (with a logged warning naming ``shown``) when ``real`` is to be left out.

        ``real`` must have every symbolic link resolved (``os.path.realpath``):
        walkers know it from the folder they are in, and a dictionary lookup
        per file keeps large folders fast.
        """
        what = self.entries.get(real)
        if what is None:
            return False
        logger.warning("left out %s: it is %s, which is never versioned", str(shown), what)
        return True


def _local_folder(uri: str) -> Path | None:
    if uri.startswith("file://"):
        return Path(uri.removeprefix("file://"))
    if "://" in uri:
        return None
    return Path(uri).expanduser().absolute()


def _entries(tracking: str, artifacts: str, home: Path) -> dict[str, str]:
    found: dict[str, str] = {os.path.realpath(home): "mloop's home folder (MLOOP_HOME)"}
    for folder in _HOME_FOLDERS:
        found[os.path.realpath(home / folder)] = f"a folder of mloop's home ({folder}/)"
    database = sqlite_file(tracking)
    if database is not None:
        for suffix in SQLITE_SIDECARS:
            real = os.path.realpath(f"{database}{suffix}")
            found[real] = f"the store's SQLite file ({database.name}{suffix})"
    root = _local_folder(artifacts)
    if root is not None:
        found[os.path.realpath(root)] = "the store's artifact root"
    return found


def own_files(settings: Settings | None = None) -> OwnFiles:
    """The files of the settings' store and of every store this process has open.

    Without ``settings``, the process's settings with its chosen tracking URI
    (:func:`mloop.set_tracking_uri`) are used.

    Example:
        >>> isinstance(own_files(), OwnFiles)
        True
    """
    if settings is None:
        settings = chosen_settings()
    home = settings.home.expanduser().absolute()
    stores = [
        (settings.resolved_tracking_uri(), settings.resolved_artifacts_uri(), home),
        *((tracking, artifacts, each_home) for tracking, artifacts, each_home, _ in open_stores()),
    ]
    entries: dict[str, str] = {}
    for tracking, artifacts, each_home in reversed(stores):  # the settings' names win
        entries.update(_entries(tracking, artifacts, each_home))
    # Local copies may live beside a store rather than in home (Settings.local_root).
    roots = {settings.local_root(), *(root for *_, root in open_stores())}
    for root in roots - {each_home for _, _, each_home in stores}:
        for folder in _HOME_FOLDERS:
            entries.setdefault(
                os.path.realpath(root / folder), f"a folder of mloop's store ({folder}/)"
            )
    sealed = frozenset(
        os.path.realpath(each_home / folder) for _, _, each_home in stores for folder in _SEALED
    )
    return OwnFiles(entries, sealed)
