"""Reading an MLflow tracking database (SQLite, PostgreSQL…) with SQLAlchemy Core.

Only MLflow's long-standing tables and columns are read, with plain SELECTs,
so every schema version since MLflow 1.x reads alike: ``experiments``,
``experiment_tags``, ``runs``, ``params``, ``metrics`` (the full history;
``is_nan`` marks a NaN stored as 0), ``tags``, ``registered_models``,
``registered_model_tags``, ``model_versions``, ``model_version_tags`` and
``registered_model_aliases`` when present, and ``logged_models`` to find the
files of an MLflow 3 version whose ``storage_location`` is empty. The full
history makes ``latest_metrics`` redundant: it is not read. Artifacts are read from each run's
``artifact_uri``. The database is opened read-only in spirit: nothing is
ever written to it.

Example:
    >>> driver_url("postgresql://u@db/mlflow")
    'postgresql+psycopg://u@db/mlflow'
    >>> driver_url("sqlite:///mlflow.db")
    'sqlite:///mlflow.db'
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mloop.errors import InvalidInput, MissingExtra, NotFound, StoreError
from mloop.importing.mlflow.artifacts import ArtifactReader
from mloop.importing.mlflow.records import (
    ExperimentRecord,
    MetricPoint,
    ModelRecord,
    RunRecord,
    VersionRecord,
)
from mloop.masking import mask_text, mask_uri

REQUIRED_TABLES = frozenset({"experiments", "runs", "metrics", "params", "tags"})
STORE_META_TABLE = "store_meta"  # what an mloop store has and MLflow's does not
"""A table of mloop's own stores, which MLflow's never have."""
SQLITE_HEADER = b"SQLite format 3\x00"


def driver_url(url: str) -> str:
    """The URL with the driver mloop installs for PostgreSQL (psycopg 3) when none is named."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def check_sqlite_file(url: str) -> None:
    """Refuse an SQLite URL whose file is missing or is not an SQLite database.

    SQLite would create a missing file, and its own error for any other file
    says little; nothing is opened here.

    Raises:
        NotFound: no such file.
        InvalidInput: the file is not an SQLite database.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return  # said when the engine is made
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database or "")
    if not path.is_file():
        raise NotFound(f"no MLflow database at {str(path)!r}: no such file")
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER and path.stat().st_size > 0:
        raise InvalidInput(
            f"{str(path)!r} is not an SQLite database, so not an MLflow one; give the file "
            "MLflow was started with (mlflow server --backend-store-uri sqlite:///mlflow.db)"
        )


def store_identity(url: str) -> str:
    """A database URL without its password, an SQLite file by its real path.

    Example:
        >>> store_identity("postgresql://ana:pw@db:5432/mlflow")
        'postgresql://ana@db:5432/mlflow'
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return f"sqlite:///{Path(parsed.database or '').resolve()}"
    bare = sa.engine.URL.create(
        parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database
    )
    return bare.render_as_string(hide_password=False)


def _logged_model_id(source: str) -> str | None:
    """The logged model a version's source names (``models:/m-…``), if it names one."""
    return source.removeprefix("models:/") if source.startswith("models:/m-") else None


class DatabaseSource:
    """An MLflow tracking database."""

    def __init__(self, url: str, artifacts: ArtifactReader) -> None:
        self.description = mask_uri(url)
        self.artifacts = artifacts
        check_sqlite_file(url)
        try:
            self.identity = store_identity(url)
            if self.identity.startswith("sqlite:"):  # a file: shown by its real path
                self.description = self.identity
            self._engine = sa.create_engine(driver_url(url))
            with self._engine.connect() as conn:
                self._tables = set(sa.inspect(conn).get_table_names())
        except ImportError as err:
            raise MissingExtra(err.name or "the database driver", extra="postgres") from None
        except (sa.exc.SQLAlchemyError, ValueError) as err:
            raise StoreError(
                f"cannot open the MLflow database {self.description}: {mask_text(str(err))[:300]}"
            ) from None
        if STORE_META_TABLE in self._tables:
            self._engine.dispose()
            raise InvalidInput(
                f"{self.description} is an mloop store, not an MLflow one: there is nothing to "
                "import from it (open it with MLOOP_TRACKING_URI, or copy runs between mloop "
                "stores with mloop's own commands)"
            )
        missing = REQUIRED_TABLES - self._tables
        if missing:
            self._engine.dispose()
            raise InvalidInput(
                f"{self.description} is not an MLflow tracking database: it has no "
                f"{', '.join(sorted(missing))} table(s); give the URI MLflow was started with "
                "(mlflow server --backend-store-uri ...)"
            )

    def _rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        try:
            with self._engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(
                f"reading the MLflow database {self.description} failed: "
                f"{mask_text(str(err))[:300]}"
            ) from None

    def experiments(self) -> list[ExperimentRecord]:
        """Every experiment with its tags, oldest first."""
        tags: dict[str, dict[str, str]] = {}
        if "experiment_tags" in self._tables:
            for key, value, exp_id in self._rows(
                "SELECT key, value, experiment_id FROM experiment_tags"
            ):
                tags.setdefault(str(exp_id), {})[key] = value or ""
        rows = self._rows(
            "SELECT experiment_id, name, lifecycle_stage, creation_time FROM experiments "
            "ORDER BY creation_time, experiment_id"
        )
        return [
            ExperimentRecord(str(i), name, stage or "active", created, tags.get(str(i), {}))
            for i, name, stage, created in rows
        ]

    def runs(
        self, experiment: ExperimentRecord, known: Collection[str] = frozenset()
    ) -> Iterator[RunRecord]:
        """Every run of an experiment, each read whole (those in ``known``: their row only)."""
        rows = self._rows(
            "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, user_id, "
            "artifact_uri FROM runs WHERE experiment_id = :e ORDER BY start_time, run_uuid",
            e=int(experiment.source_id),
        )
        for run_id, name, status, start, end, stage, user, artifact_uri in rows:
            params, tags, points = self._logged(run_id) if run_id not in known else ({}, {}, ())
            yield RunRecord(
                source_id=run_id,
                experiment_source_id=experiment.source_id,
                name=name or tags.get("mlflow.runName", ""),
                status=status or "FINISHED",
                start_time=int(start or 0),
                end_time=int(end) if end is not None else None,
                lifecycle_stage=stage or "active",
                user=user or tags.get("mlflow.user", ""),
                artifact_uri=artifact_uri or "",
                params=params,
                tags=tags,
                metrics=points,
            )

    def _logged(
        self, run_id: str
    ) -> tuple[dict[str, str], dict[str, str], tuple[MetricPoint, ...]]:
        """A run's params, tags and every metric point (NaN where ``is_nan`` says so)."""
        params = {
            str(k): v or ""
            for k, v in self._rows("SELECT key, value FROM params WHERE run_uuid = :r", r=run_id)
        }
        tags = {
            str(k): v or ""
            for k, v in self._rows("SELECT key, value FROM tags WHERE run_uuid = :r", r=run_id)
        }
        points = tuple(
            MetricPoint(key, math.nan if is_nan else float(value), int(ts), int(step or 0))
            for key, value, ts, step, is_nan in self._rows(
                "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = :r "
                "ORDER BY key, step, timestamp",
                r=run_id,
            )
        )
        return params, tags, points

    def models(self) -> list[ModelRecord]:
        """Every registered model with its tags and aliases."""
        if "registered_models" not in self._tables:
            return []
        tags: dict[str, dict[str, str]] = {}
        if "registered_model_tags" in self._tables:
            for key, value, name in self._rows(
                "SELECT key, value, name FROM registered_model_tags"
            ):
                tags.setdefault(name, {})[key] = value or ""
        aliases: dict[str, dict[str, int]] = {}
        if "registered_model_aliases" in self._tables:
            for alias, version, name in self._rows(
                "SELECT alias, version, name FROM registered_model_aliases"
            ):
                aliases.setdefault(name, {})[alias] = int(version)
        rows = self._rows(
            "SELECT name, description, creation_time FROM registered_models ORDER BY name"
        )
        return [
            ModelRecord(name, desc or "", tags.get(name, {}), aliases.get(name, {}), created)
            for name, desc, created in rows
        ]

    def versions(self, model: ModelRecord) -> list[VersionRecord]:
        """Every version of a registered model, with its tags."""
        tags: dict[int, dict[str, str]] = {}
        if "model_version_tags" in self._tables:
            for key, value, version in self._rows(
                "SELECT key, value, version FROM model_version_tags WHERE name = :n", n=model.name
            ):
                tags.setdefault(int(version), {})[key] = value or ""
        rows = self._rows(
            "SELECT version, source, storage_location, run_id, description, current_stage, "
            "status, creation_time FROM model_versions WHERE name = :n ORDER BY version",
            n=model.name,
        )
        found = []
        for version, source, location, run_id, desc, stage, status, created in rows:
            logged_location, logged_name = self._logged_model(source or "")
            found.append(
                VersionRecord(
                    model_name=model.name,
                    version=int(version),
                    source=source or "",
                    storage_location=location or logged_location,
                    run_id=run_id or None,
                    description=desc or "",
                    stage=stage or "None",
                    status=status or "READY",
                    creation_time=created,
                    model_id=_logged_model_id(source or ""),
                    tags=tags.get(int(version), {}),
                    logged_name=logged_name,
                )
            )
        return found

    def _logged_model(self, source: str) -> tuple[str, str]:
        """Where a version's MLflow 3 logged model keeps its files, and its name in its run.

        Empty strings when the source names none (it is not ``models:/m-…``).
        """
        model_id = _logged_model_id(source)
        if model_id is None or "logged_models" not in self._tables:
            return "", ""
        rows = self._rows(
            "SELECT artifact_location, name FROM logged_models WHERE model_id = :m", m=model_id
        )
        return (str(rows[0][0] or ""), str(rows[0][1] or "")) if rows else ("", "")

    def close(self) -> None:
        """Close the connection pool."""
        self._engine.dispose()
