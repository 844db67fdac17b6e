"""Recognise, by reading only, a database or folder that is not an mloop store.

A tracking URI left pointing at MLflow's own store (``MLFLOW_TRACKING_URI``
is read as ``MLOOP_TRACKING_URI``) names an MLflow database or an MLflow file
store (an ``mlruns`` folder). mloop refuses both before it writes a byte to
them: no WAL switch, no schema, no ``mloop.db`` or ``artifacts/`` inside
``mlruns``. The error says how to bring their runs and models into an mloop
store instead: ``mloop import mlflow``.

mloop's schema revisions are four digits (``0001``, ``0002``, ...); any other
revision in ``alembic_version`` belongs to another application (MLflow's are
twelve hex digits), so "upgrade mloop" is said only of a revision that looks
like mloop's.

Example:
    >>> is_mloop_revision("0008"), is_mloop_revision("dc11669786a5")
    (True, False)
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection
from pathlib import Path

from mloop.errors import StoreError

_MLOOP_REVISION = re.compile(r"^[0-9]{4}$")
# Tables every MLflow tracking database has had since its first schema.
_MLFLOW_TABLES = frozenset({"experiments", "runs", "metrics", "params", "tags"})


def is_mloop_revision(revision: str) -> bool:
    """True for a schema revision id of mloop's own form (four digits).

    Example:
        >>> is_mloop_revision("9999")
        True
    """
    return bool(_MLOOP_REVISION.match(revision))


def import_hint(source: str) -> str:
    """How to bring an MLflow store's runs and models into an mloop store elsewhere.

    ``MLOOP_TRACKING_URI`` wins over ``MLFLOW_TRACKING_URI``, so the import
    can run with the latter still set.

    Example:
        >>> print(import_hint("sqlite:////srv/mlflow.db")[:60])
        To use its runs and models with mloop, import them into an m
    """
    return (
        "To use its runs and models with mloop, import them into an mloop store elsewhere, "
        f"e.g. `MLOOP_TRACKING_URI=.mloop mloop import mlflow {source}` (MLOOP_TRACKING_URI "
        "wins over MLFLOW_TRACKING_URI), and keep MLOOP_TRACKING_URI naming that store"
    )


def foreign_revision_error(
    where: str, source: str, revision: str, tables: Collection[str]
) -> StoreError:
    """The refusal of a database stamped with a schema revision that is not mloop's.

    Args:
        where: the database as the message names it (a file, or a masked URL).
        source: what ``mloop import mlflow`` would be given to import it.
        revision: the revision found in ``alembic_version``.
        tables: the database's table names.

    Example:
        >>> err = foreign_revision_error("/srv/mlflow.db", "sqlite:////srv/mlflow.db",
        ...     "dc11669786a5", ["experiments", "runs", "metrics", "params", "tags"])
        >>> print(str(err).split(" (")[0])
        the database /srv/mlflow.db is an MLflow tracking database
    """
    if set(tables) >= _MLFLOW_TABLES:
        return StoreError(
            f"the database {where} is an MLflow tracking database (MLflow schema revision "
            f"{revision!r}), not an mloop store; mloop did not change it. " + import_hint(source)
        )
    return StoreError(
        f"the database {where} is not an mloop store: it is stamped with schema revision "
        f"{revision!r}, which is not an mloop revision, so it belongs to another application; "
        "mloop did not change it. Point MLOOP_TRACKING_URI at an mloop store or at an empty "
        "database"
    )


def untracked_tables_error(where: str) -> StoreError:
    """The refusal of a database that has tables but no schema revision at all.

    Example:
        >>> print(str(untracked_tables_error("/srv/x.db"))[:60])
        the database /srv/x.db has tables but no mloop schema revisi
    """
    return StoreError(
        f"the database {where} has tables but no mloop schema revision: it belongs to "
        "something else, and mloop did not change it. Point the tracking URI at an empty "
        "database or an existing mloop store"
    )


def check_sqlite_tables(path: Path, connection: sqlite3.Connection) -> None:
    """Refuse an SQLite file whose tables are not an mloop store's, through a read-only connection.

    An empty database (no tables) or one at an mloop revision passes; the
    caller opens it as a store.

    Raises:
        StoreError: an MLflow database, a database of another application, or
            tables without a schema revision.

    Example:
        >>> import sqlite3, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "other.db"
        >>> sqlite3.connect(path).execute("CREATE TABLE x (a)").connection.close()
        >>> connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        >>> try:
        ...     check_sqlite_tables(path, connection)
        ... except StoreError as err:
        ...     print("has tables but no mloop schema revision" in str(err))
        True
        >>> connection.close()
    """
    query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    tables = {row[0] for row in connection.execute(query)}
    if not tables:
        return
    if "alembic_version" not in tables:
        raise untracked_tables_error(str(path))
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = "" if row is None else str(row[0])
    if not is_mloop_revision(revision):
        raise foreign_revision_error(str(path), f"sqlite:///{path}", revision, tables)


def is_mlflow_folder(folder: Path) -> bool:
    """True when ``folder`` is an MLflow file store (an ``mlruns`` folder).

    MLflow creates ``.trash`` and the Default experiment's ``0/meta.yaml``
    when it makes a file store; mloop never makes either. Two ``stat`` calls,
    whatever the folder holds.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> is_mlflow_folder(folder)
        False
        >>> (folder / ".trash").mkdir()
        >>> is_mlflow_folder(folder)
        True
    """
    return (folder / ".trash").is_dir() or (folder / "0" / "meta.yaml").is_file()


def check_not_mlflow_folder(path: Path) -> None:
    """Refuse a store file whose folder is an MLflow file store, before anything is written.

    Raises:
        StoreError: the folder of ``path`` is an MLflow file store.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> check_not_mlflow_folder(folder / "mloop.db")
        >>> (folder / "0").mkdir()
        >>> _ = (folder / "0" / "meta.yaml").write_text("name: Default")
        >>> try:
        ...     check_not_mlflow_folder(folder / "mloop.db")
        ... except StoreError as err:
        ...     print(str(err).split(";")[0].endswith("not an mloop store"))
        True
    """
    folder = path.parent
    if not is_mlflow_folder(folder):
        return
    message = (
        f"the folder {folder} is an MLflow file store (mlruns), not an mloop store; mloop "
        "wrote nothing in it (an mloop.db or artifacts/ there would break it for MLflow). "
        + import_hint(str(folder))
    )
    if path.exists():  # an earlier mloop made its store inside MLflow's folder
        message += (
            f". The mloop store {path.name} already in that folder was made there before "
            "such folders were refused: move it, with the artifacts folder beside it, to a "
            "folder of its own and point MLOOP_TRACKING_URI at that folder"
        )
    raise StoreError(message)
