"""Reading registered versions over SQL: the helpers the model and alias stores share."""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from mloop.entities import ModelVersion, ModelVersionStatus
from mloop.errors import NotFound
from mloop.store import schema
from mloop.store.database import Database, Prepared
from mloop.store.sql.projects import ProjectScope, project_key

_M = schema.registered_models
_V = schema.model_versions
_A = schema.model_aliases


def named(conn: sa.Connection, scope: ProjectScope, name: str) -> sa.ColumnElement[bool]:
    """The WHERE clause finding the registered model ``name`` of the scope's project."""
    return sa.and_(_M.c.name == name, scope.owns(_M.c.project_id))


def model_id(conn: sa.Connection, scope: ProjectScope, name: str) -> int:
    """The key of a registered model; NotFound if there is none by that name."""
    found = conn.execute(sa.select(_M.c.model_id).where(named(conn, scope, name))).scalar()
    if found is None:
        raise NotFound(f"registered model {name!r} not found{scope.shown} (see: mloop models ls)")
    return int(found)


def lock_model(database: Database, conn: sa.Connection, scope: ProjectScope, name: str) -> int:
    """The key of a model, its row locked until ``conn``'s transaction ends; NotFound if none.

    Writes that read a model's state and then change it (number a version,
    move an alias) take this lock first, so two of them on one model run one
    after the other. SQLite needs no row lock: every write transaction there
    begins with ``BEGIN IMMEDIATE`` and so holds the database's write lock.
    """
    query = sa.select(_M.c.model_id).where(named(conn, scope, name))
    if database.dialect == "postgresql":
        query = query.with_for_update()
    found = conn.execute(query).scalar()
    if found is None:
        raise NotFound(f"registered model {name!r} not found{scope.shown} (see: mloop models ls)")
    return int(found)


def version_id(conn: sa.Connection, scope: ProjectScope, name: str, version: int) -> int:
    """The key of a model version; NotFound if there is none."""
    found = conn.execute(
        sa.select(_V.c.version_id)
        .join(_M, _M.c.model_id == _V.c.model_id)
        .where(named(conn, scope, name), _V.c.version == version)
    ).scalar()
    if found is None:
        model_id(conn, scope, name)  # an unknown model says so
        raise NotFound(f"model {name!r} has no version {version}")
    return int(found)


def _version_entity(name: str, row: Any, aliases: tuple[str, ...] = ()) -> ModelVersion:
    return ModelVersion(
        name=name,
        version=row.version,
        digest=row.digest,
        flavor=row.flavor,
        source=row.source,
        run_id=row.run_id,
        status=ModelVersionStatus(row.status),
        created_by=row.created_by,
        created_time=row.created_time,
        manifest_digest=row.manifest_digest,
        description=row.description,
        metrics=json.loads(row.metrics),
        signature=row.signature,
        signing_key_id=row.signing_key_id,
        aliases=aliases,
    )


_VERSION_COLUMNS = (*_V.c, _M.c.name.label("model_name"), _A.c.alias.label("alias_name"))
_Row = collections.namedtuple("_Row", [c.name for c in _VERSION_COLUMNS])  # type: ignore[misc]


def version_select() -> sa.Select[Any]:
    """Versions with their model's name, once per alias pointing at them (or once with none)."""
    return (
        sa.select(*_VERSION_COLUMNS)
        .join(_M, _M.c.model_id == _V.c.model_id)
        .outerjoin(_A, _A.c.version_id == _V.c.version_id)
    )


def grouped(rows: Sequence[Any]) -> list[ModelVersion]:
    """Versions from rows that repeat a version once per alias pointing at it."""
    grouped: dict[int, tuple[Any, list[str]]] = {}
    for row in rows:
        entry = grouped.setdefault(row.version_id, (row, []))
        if row.alias_name is not None:
            entry[1].append(row.alias_name)
    return [_version_entity(r.model_name, r, tuple(sorted(a))) for r, a in grouped.values()]


class VersionReader:
    """What the model and alias stores share: reading versions, fast where it counts."""

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)
        # Resolving a version or an alias is what every model load does first: these two
        # statements are compiled once and run through the driver.
        self._by_number = database.prepare(
            version_select().where(
                _M.c.name == sa.bindparam("name"),
                _M.c.project_id == project_key(sa.bindparam("project")),
                _V.c.version == sa.bindparam("version"),
            )
        )
        pointed = (
            sa.select(_A.c.version_id)
            .join(_M, _M.c.model_id == _A.c.model_id)
            .where(
                _M.c.name == sa.bindparam("name"),
                _M.c.project_id == project_key(sa.bindparam("project")),
                _A.c.alias == sa.bindparam("alias"),
            )
            .scalar_subquery()
        )
        self._by_alias = database.prepare(version_select().where(_V.c.version_id == pointed))

    def _fetch_versions(
        self, conn: sa.Connection, prepared: Prepared, params: Mapping[str, Any]
    ) -> list[ModelVersion]:
        rows = [_Row(*r) for r in self._db.fetch_prepared(conn, prepared, params)]
        return grouped(rows)

    def _versions(
        self, conn: sa.Connection, where: list[sa.ColumnElement[bool]]
    ) -> list[ModelVersion]:
        # One statement: each version row comes once per alias pointing at it (or once with none).
        rows = conn.execute(
            version_select().where(*where).order_by(_M.c.name, _V.c.version, _A.c.alias)
        ).all()
        return grouped(rows)

    def _missing(self, conn: sa.Connection, name: str, what: str) -> NotFound:
        model_id(conn, self._scope, name)  # an unknown model says so
        return NotFound(f"model {name!r} has no {what}")
