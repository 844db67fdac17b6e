"""Policies and their runs over SQL; a run's chain grows under a row lock, its status forward only.

Example:
    >>> from mloop.store.database import Database
    >>> store = SqlPolicyStore(Database.open("sqlite://"))
    >>> _ = store.create_policy(Policy("retrain", {"on": "dataset", "name": "credit"}, {}))
    >>> run = store.start_run("retrain", {"on": "dataset", "version": 4})
    >>> run = store.append_step(run.run_id, {"step": "pipeline-run", "id": "r1"})
    >>> store.set_run_status(run.run_id, "succeeded").chain
    [{'id': 'r1', 'step': 'pipeline-run'}]
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mloop.entities import POLICY_RUN_FINISHED, Policy, PolicyRun
from mloop.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from mloop.store import schema
from mloop.store.database import Database, now_millis
from mloop.store.loop_checks import dump_json, policy_columns, run_status_sources, step_json
from mloop.store.sql.projects import ProjectScope

_P = schema.policies
_R = schema.policy_runs


class SqlPolicyStore:
    """:class:`~mloop.store.protocols.policies.PolicyStore` over SQL."""

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)

    def create_policy(self, policy: Policy) -> Policy:
        """Store a new policy.

        Raises:
            InvalidInput: a bad value, or a secret in the spec; nothing is written.
            AlreadyExists: the project has a policy of that name.
        """
        columns = policy_columns(policy)
        now = now_millis()
        try:
            with self._db.begin() as conn:
                conn.execute(
                    _P.insert().values(
                        project_id=self._scope.write_id(conn),
                        name=policy.name,
                        created_time=now,
                        updated_time=now,
                        **columns,
                    )
                )
                created = self._read(conn, policy.name)
        except SqlIntegrityError:
            raise AlreadyExists(
                f"policy {policy.name!r} already exists{self._scope.shown}; "
                "change it, or pick another name"
            ) from None
        assert created is not None
        return created

    def get_policy(self, name: str) -> Policy:
        """The policy called ``name``; NotFound otherwise."""
        with self._db.connect() as conn:
            found = self._read(conn, name)
        if found is None:
            raise self._missing(name)
        return found

    def list_policies(self) -> list[Policy]:
        """Every policy of the project, by name."""
        with self._db.connect() as conn:
            rows = conn.execute(
                sa.select(_P).where(self._scope.owns(_P.c.project_id)).order_by(_P.c.name)
            ).all()
        return [self._entity(r) for r in rows]

    def update_policy(self, policy: Policy) -> Policy:
        """Replace the trigger, spec and paused flag of ``policy.name``; its state stays.

        Raises:
            InvalidInput: a bad value; nothing is changed.
            NotFound: no such policy.
        """
        columns = policy_columns(policy)
        columns.pop("state")
        return self._change(policy.name, updated_time=now_millis(), **columns)

    def set_policy_state(self, name: str, state: Mapping[str, Any]) -> Policy:
        """Replace the state a policy carries between runs.

        Raises:
            InvalidInput: a state that is not a JSON mapping.
            NotFound: no such policy.
        """
        if not isinstance(state, Mapping):
            raise InvalidInput(f"policy state must be a mapping, got {type(state).__name__}")
        return self._change(name, state=dump_json(state, "policy state"))

    def delete_policy(self, name: str) -> None:
        """Remove a policy and its runs; NotFound if there is none."""
        with self._db.begin() as conn:
            removed = conn.execute(_P.delete().where(self._named(name)))
        if not removed.rowcount:
            raise self._missing(name)

    def start_run(
        self, name: str, trigger_event: Mapping[str, Any], *, now: int | None = None
    ) -> PolicyRun:
        """Store a new ``running`` run of policy ``name`` with an empty chain.

        Raises:
            InvalidInput: an event that is not a JSON mapping.
            NotFound: no such policy.
        """
        if not isinstance(trigger_event, Mapping):
            raise InvalidInput(
                f"trigger event must be a mapping, got {type(trigger_event).__name__}"
            )
        event = dump_json(trigger_event, "trigger event")
        at = now_millis() if now is None else now
        run_id = uuid.uuid4().hex
        with self._db.begin() as conn:
            policy_id = conn.execute(sa.select(_P.c.policy_id).where(self._named(name))).scalar()
            if policy_id is None:
                raise self._missing(name)
            conn.execute(
                _R.insert().values(
                    run_id=run_id,
                    policy_id=policy_id,
                    status="running",
                    trigger_event=event,
                    chain="[]",
                    started_time=at,
                    updated_time=at,
                )
            )
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> PolicyRun:
        """The policy run with this id (of a policy of this project); NotFound otherwise."""
        with self._db.connect() as conn:
            found = self._runs(conn, _R.c.run_id == run_id, limit=1)
        if not found:
            raise NotFound(f"policy run {run_id!r} not found{self._scope.shown}")
        return found[0]

    def list_runs(self, name: str, *, limit: int = 100) -> list[PolicyRun]:
        """Runs of policy ``name``, newest first.

        Raises:
            InvalidInput: a limit below 1.
            NotFound: no such policy.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"run limit must be a positive number, got {limit!r}")
        self.get_policy(name)
        with self._db.connect() as conn:
            return self._runs(conn, _P.c.name == name, limit=limit)

    def append_step(self, run_id: str, step: Mapping[str, Any]) -> PolicyRun:
        """Add ``step`` to the end of a run's chain, under a lock on the run's row.

        Raises:
            InvalidInput: a step without a ``"step"`` name, not JSON, or holding a secret.
            NotFound: no such run.
            Conflict: the run has finished; nothing is added.
        """
        entry = step_json(step)
        with self._db.begin() as conn:
            run = self._locked(conn, run_id)
            if run.finished:
                raise Conflict(
                    f"policy run {run_id!r} has finished ({run.status}); it takes no more steps"
                )
            self._write(conn, run_id, chain=[*run.chain, entry])
            [after] = self._runs(conn, _R.c.run_id == run_id, limit=1)
        return after

    def set_run_status(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        step: Mapping[str, Any] | None = None,
    ) -> PolicyRun:
        """Move a run to ``status`` if the move is allowed; record ``error``, append ``step``.

        A move to a finished status sets the end time.

        Raises:
            InvalidInput: an unknown status, or a bad step.
            NotFound: no such run.
            Conflict: the run cannot move from its status to ``status``; nothing changes.
        """
        sources = run_status_sources(status)
        entry = None if step is None else step_json(step)
        if error is not None and not isinstance(error, str):
            raise InvalidInput(f"policy run error must be text or None, got {error!r}")
        with self._db.begin() as conn:
            run = self._locked(conn, run_id)
            if run.status not in sources:
                raise Conflict(
                    f"policy run {run_id!r} is {run.status}; it cannot become {status} "
                    f"(only from {', '.join(sorted(sources))})"
                )
            values: dict[str, Any] = {"status": status}
            if entry is not None:
                values["chain"] = [*run.chain, entry]
            if error is not None:
                values["error"] = error
            if status in POLICY_RUN_FINISHED:
                values["ended_time"] = now_millis()
            self._write(conn, run_id, **values)
            [after] = self._runs(conn, _R.c.run_id == run_id, limit=1)
        return after

    # -- rows ------------------------------------------------------------
    def _named(self, name: str) -> sa.ColumnElement[bool]:
        return sa.and_(self._scope.owns(_P.c.project_id), _P.c.name == name)

    def _change(self, name: str, **values: Any) -> Policy:
        with self._db.begin() as conn:
            changed = conn.execute(_P.update().where(self._named(name)).values(**values))
            if not changed.rowcount:
                raise self._missing(name)
            after = self._read(conn, name)
        assert after is not None
        return after

    def _read(self, conn: sa.Connection, name: str) -> Policy | None:
        row = conn.execute(sa.select(_P).where(self._named(name))).first()
        return None if row is None else self._entity(row)

    def _entity(self, row: sa.Row[Any]) -> Policy:
        return Policy(
            name=row.name,
            trigger=json.loads(row.trigger_spec),
            spec=json.loads(row.spec),
            paused=bool(row.paused),
            state=json.loads(row.state),
            project=self._scope.name,
            created_time=row.created_time,
            updated_time=row.updated_time,
        )

    def _locked(self, conn: sa.Connection, run_id: str) -> PolicyRun:
        # FOR UPDATE holds the row on PostgreSQL until commit, so concurrent
        # appends queue instead of overwriting each other's chain; SQLite's
        # write transaction already holds the whole database.
        found = self._runs(conn, _R.c.run_id == run_id, limit=1, lock=True)
        if not found:
            raise NotFound(f"policy run {run_id!r} not found{self._scope.shown}")
        return found[0]

    @staticmethod
    def _write(conn: sa.Connection, run_id: str, **values: Any) -> None:
        if "chain" in values:
            values["chain"] = dump_json(values["chain"], "policy run chain")
        conn.execute(
            _R.update().where(_R.c.run_id == run_id).values(updated_time=now_millis(), **values)
        )

    def _runs(
        self, conn: sa.Connection, *where: sa.ColumnElement[bool], limit: int, lock: bool = False
    ) -> list[PolicyRun]:
        query = (
            sa.select(_R, _P.c.name)
            .join(_P, _P.c.policy_id == _R.c.policy_id)
            .where(self._scope.owns(_P.c.project_id), *where)
            .order_by(_R.c.started_time.desc(), _R.c.run_id.desc())
            .limit(limit)
        )
        if lock:
            query = query.with_for_update(of=_R)
        return [
            PolicyRun(
                run_id=r.run_id,
                policy=r.name,
                status=r.status,
                trigger_event=json.loads(r.trigger_event),
                started_time=r.started_time,
                chain=json.loads(r.chain),
                ended_time=r.ended_time,
                error=r.error,
                updated_time=r.updated_time,
            )
            for r in conn.execute(query).all()
        ]

    def _missing(self, name: str) -> NotFound:
        return NotFound(f"policy {name!r} not found{self._scope.shown}")
