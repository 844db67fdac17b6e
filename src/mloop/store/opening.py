"""Open a metadata store: check its file, create it only when allowed, bring its schema to head.

A SQLite store is never silently made out of a file that is not one: an
empty (0-byte) file, a text file or random bytes at the store's path are
refused with an error naming the file, instead of being turned into a new,
empty store that `mloop gc` would then take as "nothing is referenced". A new
SQLite file is built under a temporary name and linked into place, so a store
file that exists is always a valid database, even while processes race to
create it. A database or folder that MLflow (or another application) owns is
refused before anything is written to it (:mod:`mloop.store.foreign`).
Database failures come out as mloop errors whose text names the store with
its password masked.

Example:
    >>> engine, store_id = open_store("sqlite://")
    >>> len(store_id)
    32
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, DBAPIError

from mloop.disk import link_once, sync_path
from mloop.errors import IntegrityError, MloopError, NotFound, StoreError
from mloop.masking import mask_text, mask_uri
from mloop.store.engine import create_engine, normalize_url, sqlite_path
from mloop.store.foreign import check_not_mlflow_folder, check_sqlite_tables
from mloop.store.migrate import ensure_schema
from mloop.store.mode import may_create

_DAMAGED = ("malformed", "not a database", "file is encrypted", "disk image")
_HOW_TO_POINT = (
    "point MLOOP_HOME or MLOOP_TRACKING_URI (or `mloop --tracking-uri`) at the store to use"
)


def open_store(uri: str) -> tuple[sa.Engine, str]:
    """An engine whose schema is at head, and the store's identity (a 32-hex id).

    Inside :func:`~mloop.store.engine.existing_stores_only` a missing store
    raises NotFound instead of being created.

    Raises:
        NotFound: no store there and creating one is not allowed.
        StoreError: the database cannot be reached, or the file is not a database.
        IntegrityError: the SQLite file is damaged.

    Example:
        >>> engine, first = open_store("sqlite://")
        >>> engine.dialect.name
        'sqlite'
    """
    url = normalize_url(uri)
    if url.drivername == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            check_sqlite_file(path, create=may_create())
    engine = create_engine(uri)
    try:
        store_id = ensure_schema(engine, create=may_create())
    except DBAPIError as err:
        engine.dispose()
        raise database_error(err, uri, "cannot open") from err
    except BaseException:
        engine.dispose()
        raise
    return engine, store_id


def check_sqlite_file(path: Path, *, create: bool) -> None:
    """Refuse a file that is not an mloop SQLite store; create a missing one when allowed.

    Everything is checked reading only, before the store is opened for writing
    (which switches the file to WAL): a file in an MLflow file store's folder,
    an MLflow database or another application's is left as it was.

    Raises:
        NotFound: the file does not exist and ``create`` is False.
        StoreError: the path is empty (0 bytes), a folder, not an SQLite file,
            in an MLflow file store's folder, or a database that is not mloop's.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "mloop.db"
        >>> check_sqlite_file(target, create=True)
        >>> target.read_bytes()[:15]
        b'SQLite format 3'
    """
    check_not_mlflow_folder(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if not create:
            raise NotFound(
                f"no mloop store here: looked for the metadata store {path} and it does not "
                f"exist; run the command in the project that holds it, or {_HOW_TO_POINT}"
            ) from None
        _create_sqlite_file(path)
        return
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(
            f"the metadata store path {path} is a folder, not an SQLite file; {_HOW_TO_POINT}"
        )
    if not os.access(path, os.R_OK):
        raise StoreError(
            f"the metadata store file {path} cannot be read (permission denied); give this "
            f"user read and write access to it and its folder, or {_HOW_TO_POINT}"
        )
    if info.st_size == 0:
        raise StoreError(
            f"the metadata store file {path} is empty (0 bytes), so it holds no mloop store "
            "and will not be turned into a new one. If it was your store, restore it from a "
            f"backup; to start a new store there, delete the empty file; or {_HOW_TO_POINT}"
        )
    if not _is_sqlite(path):
        raise StoreError(
            f"the metadata store file {path} is not an SQLite database (it starts with "
            f"{_first_bytes(path)!r}); if it was your store it is damaged: restore it from a "
            f"backup. Otherwise move the file away, or {_HOW_TO_POINT}"
        )


def _is_sqlite(path: Path) -> bool:
    # Also refuses a database whose tables are not an mloop store's (see check_sqlite_tables).
    # Never read the file through a descriptor of our own: closing any descriptor of a
    # file drops every POSIX lock this process holds on it, including those of SQLite
    # connections already open on the store, which then corrupt it ("disk I/O error").
    # SQLite shares one descriptor and lock state per file among its connections, so
    # asking SQLite itself is safe.
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("PRAGMA schema_version").fetchone()
        check_sqlite_tables(path, connection)
    except sqlite3.DatabaseError as err:
        if "not a database" in str(err):
            return False
        # A damaged database (e.g. "malformed") is still one: opening the store reports it.
    finally:
        connection.close()
    return True


def _first_bytes(path: Path) -> bytes:
    # Only called for a file that is not a database, so no SQLite connection holds locks on it.
    with path.open("rb") as handle:
        return handle.read(8)


def _create_sqlite_file(path: Path) -> None:
    # sqlite3 creates a 0-byte file on connect and writes its header later; build
    # the header under a temporary name and link it into place, so a store file
    # that exists always starts with one (and a 0-byte file is never ours).
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        connection = sqlite3.connect(temp)
        try:
            connection.execute("PRAGMA journal_mode=WAL").fetchone()
        finally:
            connection.close()
        sync_path(temp)
        link_once(temp, path)  # False: another process created it first; use theirs
    finally:
        for leftover in (temp, Path(f"{temp}-wal"), Path(f"{temp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def database_error(err: DBAPIError, uri: str, doing: str) -> MloopError:
    """The mloop error for a database failure, naming the store with credentials masked.

    A damaged SQLite file is an IntegrityError (exit 6, see :func:`damage_error`);
    anything else a StoreError (exit 7).

    Example:
        >>> err = DatabaseError("SELECT 1", None, Exception("connection refused"))
        >>> print(database_error(err, "postgresql://u:pw@h/db", "cannot open"))
        cannot open the metadata store 'postgresql://u:***@h/db': connection refused
    """
    found = damage_error(err, uri)
    if found is not None:
        return found
    reason = mask_text(str(err.orig).strip())
    return StoreError(f"{doing} the metadata store {mask_uri(uri)!r}: {reason}")


def damage_error(err: DBAPIError, uri: str) -> IntegrityError | None:
    """An IntegrityError naming the damaged database and what to do, or None for other failures.

    Example:
        >>> err = DatabaseError("SELECT 1", None, Exception("database disk image is malformed"))
        >>> print(damage_error(err, "sqlite:////tmp/x.db"))  # doctest: +ELLIPSIS
        the metadata store file /tmp/x.db is damaged (database disk image is malformed); ...
    """
    reason = mask_text(str(err.orig).strip())
    if not isinstance(err, DatabaseError) or not any(w in reason.lower() for w in _DAMAGED):
        return None
    url = normalize_url(uri)
    where = sqlite_path(url) if url.drivername == "sqlite" else None
    if where is None:
        return IntegrityError(f"the metadata store {mask_uri(uri)!r} is damaged: {reason}")
    return IntegrityError(
        f"the metadata store file {where} is damaged ({reason}); restore it from a backup, "
        f"or salvage what is left with: sqlite3 {where} .recover | sqlite3 "
        f"{where.with_name('recovered.db')}"
    )
