"""What every MLflow source offers the writers, and how a SOURCE argument picks one.

Example:
    >>> source_kind("sqlite:///mlflow.db"), source_kind("http://127.0.0.1:5000")
    ('database', 'server')
    >>> source_kind("postgresql+psycopg://u:pw@db/mlflow")
    'database'
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Protocol

from mloop.errors import InvalidInput, NotFound
from mloop.importing.mlflow.artifacts import ArtifactReader
from mloop.importing.mlflow.database import DatabaseSource
from mloop.importing.mlflow.file_store import FileSource
from mloop.importing.mlflow.http import MlflowHttp
from mloop.importing.mlflow.records import (
    ExperimentRecord,
    ModelRecord,
    RunRecord,
    VersionRecord,
)
from mloop.importing.mlflow.rest import RestSource
from mloop.masking import mask_uri

DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mssql"})


class Source(Protocol):
    """An MLflow store read as records.

    Contract:
    - opening it checks that it is an MLflow store (InvalidInput otherwise) and
      reachable (NotFound for a missing folder, StoreError for a server that
      does not answer), before anything is written;
    - ``runs`` yields each run whole: params, tags and every metric point;
    - nothing is ever written to the source;
    - ``description`` names it for people (credentials masked), ``identity``
      tells it from any other store (a folder's real path, a database URL
      without its password, a server's URL).
    """

    description: str
    identity: str
    artifacts: ArtifactReader

    def experiments(self) -> list[ExperimentRecord]:
        """Every experiment, deleted ones included, oldest first."""

    def runs(
        self, experiment: ExperimentRecord, known: Collection[str] = frozenset()
    ) -> Iterator[RunRecord]:
        """Every run of an experiment, deleted ones included.

        Runs whose MLflow id is in ``known`` (imported before) may come without
        their params, tags and metrics: they are not read again.
        """

    def models(self) -> list[ModelRecord]:
        """Every registered model, by name."""

    def versions(self, model: ModelRecord) -> list[VersionRecord]:
        """Every version of a registered model, by number."""

    def close(self) -> None:
        """Release connections."""


def source_kind(text: str) -> str:
    """``"folder"``, ``"database"`` or ``"server"``: what a SOURCE argument names.

    Raises:
        InvalidInput: a URL of a kind the import does not read.
    """
    scheme = urllib.parse.urlsplit(text).scheme.partition("+")[0].lower()
    if scheme in {"http", "https"}:
        return "server"
    if scheme in DATABASE_SCHEMES:
        return "database"
    if scheme in {"", "file"} or len(scheme) == 1:  # a path (C:\ on Windows)
        return "folder"
    raise InvalidInput(
        f"cannot import from {mask_uri(text)!r}: give an mlruns folder, an MLflow database URI "
        "(sqlite:///mlflow.db, postgresql://...) or an MLflow server (http://HOST:PORT)"
    )


def open_source(text: str, *, server: str | None = None) -> Source:
    """The source a SOURCE argument names; ``server`` reads ``mlflow-artifacts:`` URIs.

    A path to a file (not a folder) is read as an SQLite database.

    Raises:
        InvalidInput: an unknown kind of source, or one that is not an MLflow store.
        NotFound: no such folder or file.
        StoreError: the database or server cannot be reached.
    """
    kind = source_kind(text)
    proxy = MlflowHttp(server) if server else None
    if kind == "server":
        return RestSource(MlflowHttp(text))
    if kind == "folder":
        path = Path(
            urllib.parse.unquote(urllib.parse.urlsplit(text).path) if "://" in text else text
        )
        if path.is_file():
            text, kind = f"sqlite:///{path.resolve()}", "database"
        else:
            if not path.exists():
                raise NotFound(f"no MLflow store at {str(path)!r}: no such folder")
            return FileSource(path, ArtifactReader(proxy))
    return DatabaseSource(text, ArtifactReader(proxy))
