"""Aliases of registered models, and every move they made, over SQL."""

from __future__ import annotations

import sqlalchemy as sa

from mloop.entities import AliasChange, ModelVersion, ModelVersionStatus
from mloop.errors import Conflict
from mloop.store import schema
from mloop.store.database import now_millis
from mloop.store.sql.model_rows import VersionReader, lock_model, model_id, version_id

_M = schema.registered_models
_V = schema.model_versions
_A = schema.model_aliases
_H = schema.model_alias_history


class SqlAliasStore(VersionReader):
    """:class:`~mloop.store.protocols.registry.AliasStore` over SQL."""

    def get_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at; NotFound if the alias is not set."""
        with self._db.connect() as conn:
            found = self._fetch_versions(
                conn,
                self._by_alias,
                {"name": name, "alias": alias, "project": self._scope.name},
            )
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
        expected: int | None,
        actor: str,
        reason: str = "",
        action: str = "set",
    ) -> AliasChange:
        """Point an alias at a version if it still points at ``expected``; record the move.

        Raises:
            NotFound: no such model or version.
            Conflict: the alias points elsewhere than ``expected`` now, or the version
                is archived; nothing changed.
        """
        with self._db.begin() as conn:
            mid = lock_model(self._db, conn, self._scope, name)
            vid = version_id(conn, self._scope, name, version)
            current = self._current(conn, mid, alias)
            _compare(name, alias, expected, current)
            status = conn.execute(sa.select(_V.c.status).where(_V.c.version_id == vid)).scalar()
            if status != ModelVersionStatus.READY.value:  # archived while the move was checked
                raise Conflict(
                    f"{name}/{version} is archived; restore it before it takes {alias!r}"
                )
            stmt = self._db.upsert(_A).values(model_id=mid, alias=alias, version_id=vid)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["model_id", "alias"],
                    set_={"version_id": stmt.excluded.version_id},
                )
            )
            return self._record(conn, mid, name, alias, action, current, version, actor, reason)

    def delete_alias(
        self, name: str, alias: str, *, expected: int, actor: str, reason: str = ""
    ) -> AliasChange:
        """Remove an alias if it still points at ``expected``; record it.

        Raises:
            NotFound: no such model.
            Conflict: the alias points elsewhere (or nowhere) now; nothing changed.
        """
        with self._db.begin() as conn:
            mid = lock_model(self._db, conn, self._scope, name)
            current = self._current(conn, mid, alias)
            _compare(name, alias, expected, current)
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
            mid = model_id(conn, self._scope, name)
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


def _compare(name: str, alias: str, expected: int | None, current: int | None) -> None:
    if current == expected:
        return
    seen = "unset" if expected is None else f"at version {expected}"
    now = "is not set" if current is None else f"points at version {current}"
    raise Conflict(
        f"{name}@{alias} {now}, but this move expected it {seen}: another move came first; "
        "nothing was changed. Read the alias again and retry"
    )
