"""Deployments and their history over SQL: compare-and-set on the revision the caller read.

Example:
    >>> from mloop.store.database import Database
    >>> store = SqlDeploymentStore(Database.open("sqlite://"))
    >>> store.create_deployment(Deployment("api", "credit/1"), actor="ana").revision
    1
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mloop.entities import Deployment, DeploymentChange
from mloop.errors import AlreadyExists, Conflict, NotFound
from mloop.store import schema
from mloop.store.database import Database, now_millis
from mloop.store.sql.projects import ProjectScope

_D = schema.deployments
_H = schema.deployment_history


class SqlDeploymentStore:
    """:class:`~mloop.store.protocols.deployments.DeploymentStore` over SQL."""

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)

    def create_deployment(
        self, deployment: Deployment, *, actor: str, reason: str = ""
    ) -> Deployment:
        """Store a new deployment at revision 1; record its creation.

        Raises:
            AlreadyExists: the project has a deployment of that name.
        """
        now = now_millis()
        try:
            with self._db.begin() as conn:
                pid = self._scope.write_id(conn)
                conn.execute(
                    _D.insert().values(
                        project_id=pid,
                        name=deployment.name,
                        revision=1,
                        created_by=actor,
                        created_time=now,
                        updated_by=actor,
                        updated_time=now,
                        **_routing_columns(deployment),
                    )
                )
                self._record(
                    conn, pid, deployment.name, 1, "create", None, deployment, actor, reason=reason
                )
                created = self._read(conn, deployment.name)
        except SqlIntegrityError:
            raise AlreadyExists(
                f"deployment {deployment.name!r} already exists{self._scope.shown}; "
                "change it with `mloop deploy set`, or pick another name"
            ) from None
        assert created is not None
        return created

    def get_deployment(self, name: str) -> Deployment:
        """The deployment called ``name``; NotFound otherwise."""
        with self._db.connect() as conn:
            found = self._read(conn, name)
        if found is None:
            raise self._missing(name)
        return found

    def list_deployments(self) -> list[Deployment]:
        """Every deployment of the project, by name."""
        with self._db.connect() as conn:
            rows = conn.execute(
                sa.select(_D).where(self._scope.owns(_D.c.project_id)).order_by(_D.c.name)
            ).all()
        return [self._entity(r) for r in rows]

    def update_deployment(
        self,
        deployment: Deployment,
        *,
        expected_revision: int,
        actor: str,
        reason: str = "",
        action: str = "set",
        alias_move: Mapping[str, Any] | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> Deployment:
        """Replace the routing of ``deployment.name`` if still at ``expected_revision``.

        Raises:
            NotFound: no such deployment.
            Conflict: it changed since revision ``expected_revision``; nothing changed.
        """
        with self._db.begin() as conn:
            before = self._read(conn, deployment.name)
            if before is None:
                raise self._missing(deployment.name)
            revision = expected_revision + 1
            changed = conn.execute(
                _D.update()
                .where(
                    self._scope.owns(_D.c.project_id),
                    _D.c.name == deployment.name,
                    _D.c.revision == expected_revision,
                )
                .values(
                    revision=revision,
                    updated_by=actor,
                    updated_time=now_millis(),
                    **_routing_columns(deployment),
                )
            )
            if not changed.rowcount:
                raise self._stale(deployment.name, expected_revision, before.revision)
            pid = self._scope.write_id(conn)
            self._record(
                conn, pid, deployment.name, revision, action, before, deployment, actor,
                reason=reason, alias_move=alias_move, evidence=evidence,
            )  # fmt: skip
            after = self._read(conn, deployment.name)
        assert after is not None
        return after

    def delete_deployment(
        self, name: str, *, expected_revision: int, actor: str, reason: str = ""
    ) -> DeploymentChange:
        """Remove a deployment if still at ``expected_revision``; record it.

        Raises:
            NotFound: no such deployment.
            Conflict: it changed since revision ``expected_revision``; nothing was removed.
        """
        with self._db.begin() as conn:
            before = self._read(conn, name)
            if before is None:
                raise self._missing(name)
            removed = conn.execute(
                _D.delete().where(
                    self._scope.owns(_D.c.project_id),
                    _D.c.name == name,
                    _D.c.revision == expected_revision,
                )
            )
            if not removed.rowcount:
                raise self._stale(name, expected_revision, before.revision)
            pid = self._scope.write_id(conn)
            revision = expected_revision + 1
            return self._record(
                conn, pid, name, revision, "delete", before, None, actor, reason=reason
            )

    def deployment_history(self, name: str) -> list[DeploymentChange]:
        """Every change of the deployments called ``name``, oldest first.

        Raises:
            NotFound: no deployment of that name ever existed in the project.
        """
        with self._db.connect() as conn:
            found = _history(conn, sa.and_(self._scope.owns(_H.c.project_id), _H.c.name == name))
        if not found:
            raise self._missing(name)
        return found

    # -- rows ------------------------------------------------------------
    def _read(self, conn: sa.Connection, name: str) -> Deployment | None:
        row = conn.execute(
            sa.select(_D).where(self._scope.owns(_D.c.project_id), _D.c.name == name)
        ).first()
        return None if row is None else self._entity(row)

    def _entity(self, row: sa.Row[Any]) -> Deployment:
        return Deployment(
            name=row.name,
            primary=row.primary_ref,
            canary=row.canary_ref,
            canary_percent=row.canary_percent,
            shadow=row.shadow_ref,
            sticky_header=row.sticky_header,
            mode=row.mode,
            policy=_load(row.policy),
            project=self._scope.name,
            revision=row.revision,
            created_by=row.created_by,
            created_time=row.created_time,
            updated_by=row.updated_by,
            updated_time=row.updated_time,
        )

    @staticmethod
    def _record(
        conn: sa.Connection,
        pid: int,
        name: str,
        revision: int,
        action: str,
        before: Deployment | None,
        after: Deployment | None,
        actor: str,
        *,
        reason: str = "",
        alias_move: Mapping[str, Any] | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> DeploymentChange:
        change = DeploymentChange(
            name=name,
            revision=revision,
            action=action,
            before=None if before is None else before.routing(),
            after=None if after is None else after.routing(),
            actor=actor,
            reason=reason,
            time=now_millis(),
            alias_move=None if alias_move is None else dict(alias_move),
            evidence=None if evidence is None else dict(evidence),
        )
        conn.execute(
            _H.insert().values(
                project_id=pid,
                name=name,
                revision=revision,
                action=action,
                before=_dump(change.before),
                after=_dump(change.after),
                alias_move=_dump(change.alias_move),
                evidence=_dump(change.evidence),
                actor=actor,
                reason=reason,
                created_time=change.time,
            )
        )
        return change

    def _missing(self, name: str) -> NotFound:
        return NotFound(f"deployment {name!r} not found{self._scope.shown} (see: mloop deploy ls)")

    @staticmethod
    def _stale(name: str, expected: int, current: int) -> Conflict:
        return Conflict(
            f"deployment {name!r} is at revision {current}, but this change was made from "
            f"revision {expected}: another change came first; nothing was changed. "
            "Read the deployment again and retry"
        )


def _routing_columns(deployment: Deployment) -> dict[str, Any]:
    return {
        "primary_ref": deployment.primary,
        "canary_ref": deployment.canary,
        "canary_percent": deployment.canary_percent,
        "shadow_ref": deployment.shadow,
        "sticky_header": deployment.sticky_header,
        "mode": deployment.mode,
        "policy": _dump(deployment.policy),
    }


def _dump(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), sort_keys=True)


def _load(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


def _history(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[DeploymentChange]:
    rows = conn.execute(sa.select(_H).where(where).order_by(_H.c.change_id)).all()
    return [
        DeploymentChange(
            name=r.name,
            revision=r.revision,
            action=r.action,
            before=_load(r.before),
            after=_load(r.after),
            actor=r.actor,
            reason=r.reason,
            time=r.created_time,
            alias_move=_load(r.alias_move),
            evidence=_load(r.evidence),
        )
        for r in rows
    ]
