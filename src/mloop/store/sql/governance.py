"""Protections, decisions, gate results, evaluations and signing keys over SQL."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mloop.entities import (
    AliasProtection,
    Decision,
    EvaluationRecord,
    GateRecord,
    SigningKey,
)
from mloop.errors import AlreadyExists, NotFound
from mloop.store import schema
from mloop.store.database import Database, now_millis
from mloop.store.sql.model_rows import model_id, version_id
from mloop.store.sql.projects import ProjectScope

_P = schema.alias_protections
_D = schema.model_decisions
_G = schema.model_gate_results
_E = schema.model_evaluations
_K = schema.signing_keys


class SqlGovernanceStore:
    """:class:`~mloop.store.protocols.registry.GovernanceStore` over SQL."""

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)

    def set_protection(self, protection: AliasProtection) -> None:
        """Create or replace the protection of an alias."""
        with self._db.begin() as conn:
            mid = model_id(conn, self._scope, protection.name)
            conn.execute(_P.delete().where(_P.c.model_id == mid, _P.c.alias == protection.alias))
            conn.execute(
                _P.insert().values(
                    model_id=mid,
                    alias=protection.alias,
                    approvals=protection.approvals,
                    gates=json.dumps(list(protection.gates)),
                    created_by=protection.created_by,
                    created_time=protection.created_time,
                    allow_canary=protection.allow_canary,
                )
            )

    def remove_protection(self, name: str, alias: str) -> None:
        """Lift an alias's protection; NotFound if it has none."""
        with self._db.begin() as conn:
            mid = model_id(conn, self._scope, name)
            removed = conn.execute(_P.delete().where(_P.c.model_id == mid, _P.c.alias == alias))
            if not removed.rowcount:
                raise NotFound(f"alias {alias!r} of model {name!r} is not protected")

    def list_protections(self, name: str) -> list[AliasProtection]:
        """A model's protected aliases, by alias."""
        with self._db.connect() as conn:
            mid = model_id(conn, self._scope, name)
            rows = conn.execute(sa.select(_P).where(_P.c.model_id == mid).order_by(_P.c.alias))
            return [
                AliasProtection(
                    name,
                    r.alias,
                    r.approvals,
                    tuple(json.loads(r.gates)),
                    r.created_by,
                    r.created_time,
                    bool(r.allow_canary),
                )
                for r in rows
            ]

    def record_decision(self, decision: Decision) -> None:
        """Store an approval or rejection of a version."""
        with self._db.begin() as conn:
            conn.execute(
                _D.insert().values(
                    version_id=version_id(conn, self._scope, decision.name, decision.version),
                    actor=decision.actor,
                    decision=decision.decision,
                    comment=decision.comment,
                    created_time=decision.time,
                )
            )

    def list_decisions(self, name: str, version: int) -> list[Decision]:
        """A version's decisions, oldest first."""
        with self._db.connect() as conn:
            vid = version_id(conn, self._scope, name, version)
            rows = conn.execute(
                sa.select(_D).where(_D.c.version_id == vid).order_by(_D.c.decision_id)
            )
            return [
                Decision(name, version, r.actor, r.decision, r.comment, r.created_time)
                for r in rows
            ]

    def record_gate(self, record: GateRecord) -> None:
        """Store a gate result with the version it judged."""
        with self._db.begin() as conn:
            conn.execute(
                _G.insert().values(
                    version_id=version_id(conn, self._scope, record.name, record.version),
                    against=record.against,
                    data=record.data,
                    passed=record.passed,
                    rules=json.dumps([dict(r) for r in record.rules], default=str),
                    details=json.dumps(dict(record.details), default=str),
                    actor=record.actor,
                    run_id=record.run_id,
                    created_time=record.time,
                )
            )

    def list_gates(self, name: str, version: int) -> list[GateRecord]:
        """A version's gate results, newest first."""
        with self._db.connect() as conn:
            vid = version_id(conn, self._scope, name, version)
            rows = conn.execute(
                sa.select(_G).where(_G.c.version_id == vid).order_by(_G.c.gate_id.desc())
            )
            return [
                GateRecord(
                    name=name,
                    version=version,
                    against=r.against,
                    data=r.data,
                    passed=bool(r.passed),
                    rules=tuple(json.loads(r.rules)),
                    actor=r.actor,
                    time=r.created_time,
                    run_id=r.run_id,
                    details=json.loads(r.details),
                )
                for r in rows
            ]

    def record_evaluation(self, record: EvaluationRecord) -> None:
        """Store an evaluation with the version it measured."""
        with self._db.begin() as conn:
            conn.execute(
                _E.insert().values(
                    version_id=version_id(conn, self._scope, record.name, record.version),
                    data=record.data,
                    result=json.dumps(dict(record.result), default=str),
                    actor=record.actor,
                    run_id=record.run_id,
                    created_time=record.time,
                )
            )

    def list_evaluations(self, name: str, version: int) -> list[EvaluationRecord]:
        """A version's evaluations, newest first."""
        with self._db.connect() as conn:
            vid = version_id(conn, self._scope, name, version)
            rows = conn.execute(
                sa.select(_E).where(_E.c.version_id == vid).order_by(_E.c.evaluation_id.desc())
            )
            return [
                EvaluationRecord(
                    name,
                    version,
                    r.data,
                    json.loads(r.result),
                    r.actor,
                    r.created_time,
                    r.run_id,
                )
                for r in rows
            ]


class SqlKeyStore:
    """:class:`~mloop.store.protocols.registry.KeyStore` over SQL."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add_key(self, key: SigningKey) -> None:
        """Trust a public key; AlreadyExists if it is there."""
        try:
            with self._db.begin() as conn:
                conn.execute(
                    _K.insert().values(
                        key_id=key.key_id,
                        public_key=key.public_key,
                        created_by=key.created_by,
                        created_time=key.created_time,
                        revoked_time=key.revoked_time,
                    )
                )
        except SqlIntegrityError:
            raise AlreadyExists(f"signing key {key.key_id} is already trusted") from None

    def list_keys(self, *, include_revoked: bool = False) -> list[SigningKey]:
        """Trusted keys (and revoked ones, if asked), oldest first."""
        query = sa.select(_K).order_by(_K.c.created_time, _K.c.key_id)
        if not include_revoked:
            query = query.where(_K.c.revoked_time.is_(None))
        with self._db.connect() as conn:
            return [
                SigningKey(r.key_id, r.public_key, r.created_by, r.created_time, r.revoked_time)
                for r in conn.execute(query)
            ]

    def revoke_key(self, key_id: str) -> SigningKey:
        """Stop trusting a key; NotFound if the project never trusted it."""
        with self._db.begin() as conn:
            updated = conn.execute(
                _K.update()
                .where(_K.c.key_id == key_id, _K.c.revoked_time.is_(None))
                .values(revoked_time=now_millis())
            )
            if not updated.rowcount:
                exists = conn.execute(sa.select(_K.c.key_id).where(_K.c.key_id == key_id)).scalar()
                if exists is None:
                    raise NotFound(f"no signing key {key_id!r} (see: mloop keys ls)")
        return next(k for k in self.list_keys(include_revoked=True) if k.key_id == key_id)
