"""Registered models, versions and aliases over SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

import collections
import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mloop.entities import (
    AliasChange,
    ModelFile,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
)
from mloop.errors import AlreadyExists, NotFound
from mloop.models.protocols import NewVersion
from mloop.store import schema
from mloop.tracking.sql.database import Database, Prepared, now_millis

_M = schema.registered_models
_MT = schema.registered_model_tags
_V = schema.model_versions
_F = schema.model_version_files
_A = schema.model_aliases
_H = schema.model_alias_history


def model_id(conn: sa.Connection, name: str) -> int:
    """The key of a registered model; NotFound if there is none by that name."""
    found = conn.execute(sa.select(_M.c.model_id).where(_M.c.name == name)).scalar()
    if found is None:
        raise NotFound(f"registered model {name!r} not found (see: mloop models ls)")
    return int(found)


def lock_model(database: Database, conn: sa.Connection, name: str) -> int:
    """The key of a model, its row locked until ``conn``'s transaction ends; NotFound if none.

    Writes that read a model's state and then change it (number a version,
    move an alias) take this lock first, so two of them on one model run one
    after the other. SQLite needs no row lock: every write transaction there
    begins with ``BEGIN IMMEDIATE`` and so holds the database's write lock.
    """
    query = sa.select(_M.c.model_id).where(_M.c.name == name)
    if database.dialect == "postgresql":
        query = query.with_for_update()
    found = conn.execute(query).scalar()
    if found is None:
        raise NotFound(f"registered model {name!r} not found (see: mloop models ls)")
    return int(found)


def version_id(conn: sa.Connection, name: str, version: int) -> int:
    """The key of a model version; NotFound if there is none."""
    found = conn.execute(
        sa.select(_V.c.version_id)
        .join(_M, _M.c.model_id == _V.c.model_id)
        .where(_M.c.name == name, _V.c.version == version)
    ).scalar()
    if found is None:
        model_id(conn, name)  # an unknown model says so
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


def _version_select() -> sa.Select[Any]:
    return (
        sa.select(*_VERSION_COLUMNS)
        .join(_M, _M.c.model_id == _V.c.model_id)
        .outerjoin(_A, _A.c.version_id == _V.c.version_id)
    )


def _grouped(rows: Sequence[Any]) -> list[ModelVersion]:
    """Versions from rows that repeat a version once per alias pointing at it."""
    grouped: dict[int, tuple[Any, list[str]]] = {}
    for row in rows:
        entry = grouped.setdefault(row.version_id, (row, []))
        if row.alias_name is not None:
            entry[1].append(row.alias_name)
    return [_version_entity(r.model_name, r, tuple(sorted(a))) for r, a in grouped.values()]


class _SqlBase:
    def __init__(self, database: Database) -> None:
        self._db = database
        # Resolving a version or an alias is what every model load does first: these two
        # statements are compiled once and run through the driver.
        self._by_number = database.prepare(
            _version_select().where(
                _M.c.name == sa.bindparam("name"), _V.c.version == sa.bindparam("version")
            )
        )
        pointed = (
            sa.select(_A.c.version_id)
            .join(_M, _M.c.model_id == _A.c.model_id)
            .where(_M.c.name == sa.bindparam("name"), _A.c.alias == sa.bindparam("alias"))
            .scalar_subquery()
        )
        self._by_alias = database.prepare(_version_select().where(_V.c.version_id == pointed))

    def _fetch_versions(
        self, conn: sa.Connection, prepared: Prepared, params: Mapping[str, Any]
    ) -> list[ModelVersion]:
        rows = [_Row(*r) for r in self._db.fetch_prepared(conn, prepared, params)]
        return _grouped(rows)

    def _versions(
        self, conn: sa.Connection, where: list[sa.ColumnElement[bool]]
    ) -> list[ModelVersion]:
        # One statement: each version row comes once per alias pointing at it (or once with none).
        rows = conn.execute(
            _version_select().where(*where).order_by(_M.c.name, _V.c.version, _A.c.alias)
        ).all()
        return _grouped(rows)

    def _missing(self, conn: sa.Connection, name: str, what: str) -> NotFound:
        model_id(conn, name)  # an unknown model says so
        return NotFound(f"model {name!r} has no {what}")


class SqlModelStore(_SqlBase):
    """:class:`~mloop.models.protocols.ModelStore` over SQL."""

    def _lock_model(self, conn: sa.Connection, name: str, owner: str) -> int:
        now = now_millis()
        conn.execute(
            self._db.upsert(_M)
            .values(
                name=name,
                description="",
                owner=owner,
                created_time=now,
                updated_time=now,
                last_version=0,
            )
            .on_conflict_do_nothing(index_elements=["name"])
        )
        # Versions of one model are numbered one at a time.
        return lock_model(self._db, conn, name)

    def create_model(self, name: str, *, description: str = "", owner: str = "") -> RegisteredModel:
        """Create an empty registered model; AlreadyExists if the name is taken."""
        now = now_millis()
        try:
            with self._db.begin() as conn:
                conn.execute(
                    _M.insert().values(
                        name=name,
                        description=description,
                        owner=owner,
                        created_time=now,
                        updated_time=now,
                        last_version=0,
                    )
                )
        except SqlIntegrityError:
            raise AlreadyExists(f"registered model {name!r} already exists") from None
        return self.get_model(name)

    def get_model(self, name: str) -> RegisteredModel:
        """A model with its tags, aliases and latest version number."""
        with self._db.connect() as conn:
            found = self._models(conn, [_M.c.name == name])
        if not found:
            raise NotFound(f"registered model {name!r} not found (see: mloop models ls)")
        return found[0]

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""
        with self._db.connect() as conn:
            return self._models(conn, [])

    def _models(
        self, conn: sa.Connection, where: list[sa.ColumnElement[bool]]
    ) -> list[RegisteredModel]:
        rows = conn.execute(sa.select(_M).where(*where).order_by(_M.c.name)).all()
        ids = [r.model_id for r in rows]
        tags: dict[int, dict[str, str]] = {}
        aliases: dict[int, dict[str, int]] = {}
        latest: dict[int, int] = {}
        if ids:
            for mid, key, value in conn.execute(
                sa.select(_MT.c.model_id, _MT.c.key, _MT.c.value).where(_MT.c.model_id.in_(ids))
            ).all():
                tags.setdefault(mid, {})[key] = value
            for mid, alias, number in conn.execute(
                sa.select(_A.c.model_id, _A.c.alias, _V.c.version)
                .join(_V, _V.c.version_id == _A.c.version_id)
                .where(_A.c.model_id.in_(ids))
            ).all():
                aliases.setdefault(mid, {})[alias] = number
            for mid, number in conn.execute(
                sa.select(_V.c.model_id, sa.func.max(_V.c.version))
                .where(_V.c.model_id.in_(ids))
                .group_by(_V.c.model_id)
            ).all():
                latest[mid] = number
        return [
            RegisteredModel(
                name=r.name,
                created_time=r.created_time,
                updated_time=r.updated_time,
                description=r.description,
                owner=r.owner,
                tags=tags.get(r.model_id, {}),
                aliases=dict(sorted(aliases.get(r.model_id, {}).items())),
                latest_version=latest.get(r.model_id),
            )
            for r in rows
        ]

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
    ) -> RegisteredModel:
        """Change the description; set tags (a None value deletes the tag)."""
        with self._db.begin() as conn:
            mid = model_id(conn, name)
            values: dict[str, Any] = {"updated_time": now_millis()}
            if description is not None:
                values["description"] = description
            conn.execute(_M.update().where(_M.c.model_id == mid).values(**values))
            for key, value in (tags or {}).items():
                conn.execute(_MT.delete().where(_MT.c.model_id == mid, _MT.c.key == key))
                if value is not None:
                    conn.execute(_MT.insert().values(model_id=mid, key=key, value=value))
        return self.get_model(name)

    def delete_model(self, name: str) -> None:
        """Remove a model and everything of its versions."""
        with self._db.begin() as conn:
            mid = lock_model(self._db, conn, name)
            ids = list(
                conn.execute(sa.select(_V.c.version_id).where(_V.c.model_id == mid)).scalars()
            )
            _delete_versions(conn, ids)
            for table in (_A, _H, _MT, schema.alias_protections):
                conn.execute(table.delete().where(table.c.model_id == mid))
            conn.execute(_M.delete().where(_M.c.model_id == mid))

    def create_version(self, name: str, new: NewVersion) -> ModelVersion:
        """Register a new version, numbered after the model's highest number ever."""
        with self._db.begin() as conn:
            mid = self._lock_model(conn, name, new.created_by)
            number = (
                1
                + conn.execute(
                    sa.select(_M.c.last_version).where(_M.c.model_id == mid)
                ).scalar_one()
            )
            now = now_millis()
            conn.execute(
                _M.update()
                .where(_M.c.model_id == mid)
                .values(last_version=number, updated_time=now)
            )
            vid = conn.execute(
                _V.insert()
                .values(
                    model_id=mid,
                    version=number,
                    digest=new.digest,
                    manifest_digest=new.manifest_digest,
                    flavor=new.flavor,
                    source=new.source,
                    run_id=new.run_id,
                    status=ModelVersionStatus.READY.value,
                    created_by=new.created_by,
                    created_time=now,
                    description=new.description,
                    metrics=json.dumps(dict(new.metrics)),
                    signature=new.signature,
                    signing_key_id=new.signing_key_id,
                )
                .returning(_V.c.version_id)
            ).scalar_one()
            if new.files:
                conn.execute(
                    _F.insert(),
                    [
                        {"version_id": vid, "path": f.path, "digest": f.digest, "size": f.size}
                        for f in new.files
                    ],
                )
            found = self._versions(conn, [_V.c.version_id == vid])[0]
        return found

    def get_version(self, name: str, version: int, *, with_files: bool = False) -> ModelVersion:
        """One version, optionally with its file list; NotFound if there is none."""
        with self._db.connect() as conn:
            found = self._fetch_versions(conn, self._by_number, {"name": name, "version": version})
            if not found:
                raise self._missing(conn, name, f"version {version}")
            if not with_files:
                return found[0]
            files = tuple(
                ModelFile(p, d, s)
                for p, d, s in conn.execute(
                    sa.select(_F.c.path, _F.c.digest, _F.c.size)
                    .join(_V, _V.c.version_id == _F.c.version_id)
                    .join(_M, _M.c.model_id == _V.c.model_id)
                    .where(_M.c.name == name, _V.c.version == version)
                    .order_by(_F.c.path)
                ).all()
            )
        return dataclasses.replace(found[0], files=files)

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of a model, oldest first (without files)."""
        with self._db.connect() as conn:
            mid = model_id(conn, name)
            return self._versions(conn, [_V.c.model_id == mid])

    def find_versions(self, digest: str) -> list[ModelVersion]:
        """Versions of any model whose package digest is ``digest``."""
        with self._db.connect() as conn:
            return self._versions(conn, [_V.c.digest == digest])

    def set_status(self, name: str, version: int, status: ModelVersionStatus) -> ModelVersion:
        """Archive or restore a version."""
        with self._db.begin() as conn:
            vid = version_id(conn, name, version)
            conn.execute(_V.update().where(_V.c.version_id == vid).values(status=status.value))
        return self.get_version(name, version)

    def set_signature(self, name: str, version: int, key_id: str, signature: str) -> ModelVersion:
        """Record the signature of a version's package digest."""
        with self._db.begin() as conn:
            vid = version_id(conn, name, version)
            conn.execute(
                _V.update()
                .where(_V.c.version_id == vid)
                .values(signature=signature, signing_key_id=key_id)
            )
        return self.get_version(name, version)

    def delete_version(self, name: str, version: int) -> ModelVersion:
        """Remove one version with its aliases, decisions, gates and evaluations."""
        with self._db.begin() as conn:
            lock_model(self._db, conn, name)  # not while an alias moves onto it
            vid = version_id(conn, name, version)
            found = self._versions(conn, [_V.c.version_id == vid])[0]
            _delete_versions(conn, [vid])
        return found


def _delete_versions(conn: sa.Connection, ids: list[int]) -> None:
    if not ids:
        return
    for table in (
        _A,
        _F,
        schema.model_decisions,
        schema.model_gate_results,
        schema.model_evaluations,
    ):
        conn.execute(table.delete().where(table.c.version_id.in_(ids)))
    conn.execute(_V.delete().where(_V.c.version_id.in_(ids)))


class SqlAliasStore(_SqlBase):
    """:class:`~mloop.models.protocols.AliasStore` over SQL."""

    def get_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at; NotFound if the alias is not set."""
        with self._db.connect() as conn:
            found = self._fetch_versions(conn, self._by_alias, {"name": name, "alias": alias})
            if not found:
                raise self._missing(conn, name, f"alias {alias!r}")
            return found[0]

    def _current(self, conn: sa.Connection, mid: int, alias: str) -> int | None:
        found = conn.execute(
            sa.select(_V.c.version)
            .join(_A, _A.c.version_id == _V.c.version_id)
            .where(_A.c.model_id == mid, _A.c.alias == alias)
        ).scalar()
        return None if found is None else int(found)

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str,
        reason: str = "",
        action: str = "set",
        check: Callable[[int | None], None] | None = None,
    ) -> AliasChange:
        """Point an alias at a version and record the move, in one transaction.

        The model's row is locked first, so ``check`` sees the version the alias
        points at until this move commits, and concurrent moves form a chain.
        """
        with self._db.begin() as conn:
            mid = lock_model(self._db, conn, name)
            vid = version_id(conn, name, version)
            current = self._current(conn, mid, alias)
            if check is not None:
                check(current)
            stmt = self._db.upsert(_A).values(model_id=mid, alias=alias, version_id=vid)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["model_id", "alias"],
                    set_={"version_id": stmt.excluded.version_id},
                )
            )
            return self._record(conn, mid, name, alias, action, current, version, actor, reason)

    def delete_alias(self, name: str, alias: str, *, actor: str, reason: str = "") -> AliasChange:
        """Remove an alias and record it; NotFound if it is not set."""
        with self._db.begin() as conn:
            mid = lock_model(self._db, conn, name)
            current = self._current(conn, mid, alias)
            if current is None:
                raise NotFound(f"model {name!r} has no alias {alias!r}")
            conn.execute(_A.delete().where(_A.c.model_id == mid, _A.c.alias == alias))
            return self._record(conn, mid, name, alias, "delete", current, None, actor, reason)

    @staticmethod
    def _record(
        conn: sa.Connection,
        mid: int,
        name: str,
        alias: str,
        action: str,
        from_version: int | None,
        to_version: int | None,
        actor: str,
        reason: str,
    ) -> AliasChange:
        now = now_millis()
        conn.execute(
            _H.insert().values(
                model_id=mid,
                alias=alias,
                action=action,
                from_version=from_version,
                to_version=to_version,
                actor=actor,
                reason=reason,
                created_time=now,
            )
        )
        conn.execute(_M.update().where(_M.c.model_id == mid).values(updated_time=now))
        return AliasChange(name, alias, action, from_version, to_version, actor, reason, now)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        """Moves of one alias (or every alias of the model), oldest first."""
        with self._db.connect() as conn:
            mid = model_id(conn, name)
            query = sa.select(_H).where(_H.c.model_id == mid)
            if alias is not None:
                query = query.where(_H.c.alias == alias)
            rows = conn.execute(query.order_by(_H.c.change_id)).all()
        return [
            AliasChange(
                name,
                r.alias,
                r.action,
                r.from_version,
                r.to_version,
                r.actor,
                r.reason,
                r.created_time,
            )
            for r in rows
        ]
