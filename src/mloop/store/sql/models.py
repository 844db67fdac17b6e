"""Registered models and their versions over SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mloop.entities import ModelFile, ModelVersion, ModelVersionStatus, RegisteredModel
from mloop.errors import AlreadyExists, Conflict, NotFound
from mloop.store import schema
from mloop.store.database import now_millis
from mloop.store.protocols.registry import NewVersion
from mloop.store.sql.model_rows import (
    VersionReader,
    lock_model,
    model_id,
    named,
    version_id,
)

_M = schema.registered_models
_MT = schema.registered_model_tags
_V = schema.model_versions
_F = schema.model_version_files
_A = schema.model_aliases
_H = schema.model_alias_history


class SqlModelStore(VersionReader):
    """:class:`~mloop.store.protocols.registry.ModelStore` over SQL."""

    def _lock_model(self, conn: sa.Connection, name: str, owner: str) -> int:
        now = now_millis()
        conn.execute(
            self._db.upsert(_M)
            .values(
                project_id=self._scope.write_id(conn),
                name=name,
                description="",
                owner=owner,
                created_time=now,
                updated_time=now,
                last_version=0,
            )
            .on_conflict_do_nothing(index_elements=["project_id", "name"])
        )
        # Versions of one model are numbered one at a time.
        return lock_model(self._db, conn, self._scope, name)

    def create_model(self, name: str, *, description: str = "", owner: str = "") -> RegisteredModel:
        """Create an empty registered model; AlreadyExists if the name is taken."""
        now = now_millis()
        try:
            with self._db.begin() as conn:
                conn.execute(
                    _M.insert().values(
                        project_id=self._scope.write_id(conn),
                        name=name,
                        description=description,
                        owner=owner,
                        created_time=now,
                        updated_time=now,
                        last_version=0,
                    )
                )
        except SqlIntegrityError:
            raise AlreadyExists(
                f"registered model {name!r} already exists{self._scope.shown}"
            ) from None
        return self.get_model(name)

    def get_model(self, name: str) -> RegisteredModel:
        """A model with its tags, aliases and latest version number."""
        with self._db.connect() as conn:
            found = self._models(conn, [named(conn, self._scope, name)])
        if not found:
            raise NotFound(
                f"registered model {name!r} not found{self._scope.shown} (see: mloop models ls)"
            )
        return found[0]

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model of the project, by name."""
        with self._db.connect() as conn:
            return self._models(conn, [self._scope.owns(_M.c.project_id)])

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
            mid = model_id(conn, self._scope, name)
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
            mid = lock_model(self._db, conn, self._scope, name)
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
            found = self._fetch_versions(
                conn,
                self._by_number,
                {"name": name, "version": version, "project": self._scope.name},
            )
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
                    .where(named(conn, self._scope, name), _V.c.version == version)
                    .order_by(_F.c.path)
                ).all()
            )
        return dataclasses.replace(found[0], files=files)

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of a model, oldest first (without files)."""
        with self._db.connect() as conn:
            mid = model_id(conn, self._scope, name)
            return self._versions(conn, [_V.c.model_id == mid])

    def find_versions(self, digest: str, *, with_files: bool = False) -> list[ModelVersion]:
        """Versions of any model, in any project, whose package digest is ``digest``."""
        with self._db.connect() as conn:
            found = self._versions(conn, [_V.c.digest == digest])
            if not with_files or not found:
                return found
            files: dict[tuple[str, int], list[ModelFile]] = {}
            for name, number, path, file_digest, size in conn.execute(
                sa.select(_M.c.name, _V.c.version, _F.c.path, _F.c.digest, _F.c.size)
                .join(_V, _V.c.version_id == _F.c.version_id)
                .join(_M, _M.c.model_id == _V.c.model_id)
                .where(_V.c.digest == digest)
                .order_by(_F.c.path)
            ).all():
                files.setdefault((name, number), []).append(ModelFile(path, file_digest, size))
        return [
            dataclasses.replace(v, files=tuple(files.get((v.name, v.version), ()))) for v in found
        ]

    def set_status(self, name: str, version: int, status: ModelVersionStatus) -> ModelVersion:
        """Archive or restore a version; Conflict to archive one an alias points at."""
        with self._db.begin() as conn:
            lock_model(self._db, conn, self._scope, name)  # not while an alias moves onto it
            vid = version_id(conn, self._scope, name, version)
            if status == ModelVersionStatus.ARCHIVED:
                held = conn.execute(
                    sa.select(_A.c.alias).where(_A.c.version_id == vid).order_by(_A.c.alias)
                ).scalars()
                aliases = list(held)
                if aliases:
                    raise Conflict(
                        f"{name}/{version} holds alias(es) {aliases}; move them before archiving it"
                    )
            conn.execute(_V.update().where(_V.c.version_id == vid).values(status=status.value))
        return self.get_version(name, version)

    def set_signature(self, name: str, version: int, key_id: str, signature: str) -> ModelVersion:
        """Record the signature of a version's package digest."""
        with self._db.begin() as conn:
            vid = version_id(conn, self._scope, name, version)
            conn.execute(
                _V.update()
                .where(_V.c.version_id == vid)
                .values(signature=signature, signing_key_id=key_id)
            )
        return self.get_version(name, version)

    def delete_version(self, name: str, version: int) -> ModelVersion:
        """Remove one version with its aliases, decisions, gates and evaluations."""
        with self._db.begin() as conn:
            lock_model(self._db, conn, self._scope, name)  # not while an alias moves onto it
            vid = version_id(conn, self._scope, name, version)
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
