"""Leases over SQL: one INSERT ... ON CONFLICT DO UPDATE ... WHERE decides who holds a job.

The statement inserts the lease, or takes over a row that has expired (or is
already the holder's); a live lease of another holder makes it change
nothing, and return no row. On PostgreSQL the conflicting row is
locked and the condition read again after a concurrent writer commits; on
SQLite every write transaction holds the database's write lock. Either way, of
holders racing for a job exactly one wins. Without a ``now`` the time is the
database's clock, read in the same transaction, so agents on hosts whose
clocks differ agree on when a lease expires.

Example:
    >>> from mloop.store.database import Database
    >>> leases = SqlLeaseStore(Database.open("sqlite://"))
    >>> job = "monitor:drift"
    >>> leases.acquire(job, "a", 1000, now=0), leases.acquire(job, "b", 1000, now=10)
    (True, False)
    >>> leases.acquire(job, "b", 1000, now=1000), leases.holder(job, now=1001)
    (True, 'b')
"""

from __future__ import annotations

import sqlalchemy as sa

from mloop.entities import Lease
from mloop.errors import InvalidInput
from mloop.store import schema
from mloop.store.database import Database
from mloop.store.names import check_storable
from mloop.store.sql.projects import ProjectScope

_L = schema.leases
MAX_JOB = 300
_SQLITE_NOW = "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
_POSTGRES_NOW = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"


class SqlLeaseStore:
    """:class:`~mloop.store.protocols.leases.LeaseStore` over SQL."""

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)

    def acquire(self, job: str, holder: str, ttl: int, *, now: int | None = None) -> bool:
        """Take the lease on ``job`` for ``ttl`` milliseconds if it is free, expired or ours.

        Raises:
            InvalidInput: an empty or overlong job or holder, or a ttl that is not positive.
        """
        _check(job, holder, ttl)
        insert = self._db.upsert(_L)
        with self._db.begin() as conn:
            at = self._clock(conn) if now is None else now
            pid = self._scope.write_id(conn)
            statement = insert.values(
                project_id=pid, job=job, holder=holder, acquired_time=at, expires_time=at + ttl
            ).on_conflict_do_update(
                index_elements=[_L.c.project_id, _L.c.job],
                set_={
                    "holder": insert.excluded.holder,
                    # The holder extending its own lease keeps the time it first took it.
                    "acquired_time": sa.case(
                        (_L.c.holder == insert.excluded.holder, _L.c.acquired_time),
                        else_=insert.excluded.acquired_time,
                    ),
                    "expires_time": insert.excluded.expires_time,
                },
                where=sa.or_(_L.c.expires_time <= at, _L.c.holder == insert.excluded.holder),
            )
            # A row comes back only if it was inserted or taken over (a row count
            # is not reliable for an upsert on every driver).
            return conn.execute(statement.returning(_L.c.job)).first() is not None

    def renew(self, job: str, holder: str, ttl: int, *, now: int | None = None) -> bool:
        """Extend our live lease to ``now + ttl``; False if it is not ours or has expired."""
        _check(job, holder, ttl)
        with self._db.begin() as conn:
            at = self._clock(conn) if now is None else now
            changed = conn.execute(
                _L.update()
                .where(self._mine(job, holder), _L.c.expires_time > at)
                .values(expires_time=at + ttl)
            )
            return bool(changed.rowcount)

    def release(self, job: str, holder: str) -> None:
        """Give up our lease on ``job``; nothing happens if another holds it."""
        with self._db.begin() as conn:
            conn.execute(_L.delete().where(self._mine(job, holder)))

    def holder(self, job: str, *, now: int | None = None) -> str | None:
        """Who holds a live lease on ``job`` at ``now``, or None."""
        with self._db.connect() as conn:
            at = self._clock(conn) if now is None else now
            lease = self._read(conn, job)
        return lease.holder if lease is not None and lease.expires_time > at else None

    def get_lease(self, job: str) -> Lease | None:
        """The lease row of ``job``, live or expired, or None."""
        with self._db.connect() as conn:
            return self._read(conn, job)

    def _read(self, conn: sa.Connection, job: str) -> Lease | None:
        row = conn.execute(
            sa.select(_L).where(self._scope.owns(_L.c.project_id), _L.c.job == job)
        ).first()
        if row is None:
            return None
        return Lease(row.job, row.holder, row.acquired_time, row.expires_time)

    def _clock(self, conn: sa.Connection) -> int:
        # clock_timestamp() moves within a transaction (now() would not); SQLite's
        # 'now' is the host's clock, the same one every local writer reads.
        sql = _SQLITE_NOW if self._db.dialect == "sqlite" else _POSTGRES_NOW
        return int(conn.exec_driver_sql(sql).scalar_one())

    def _mine(self, job: str, holder: str) -> sa.ColumnElement[bool]:
        return sa.and_(self._scope.owns(_L.c.project_id), _L.c.job == job, _L.c.holder == holder)


def _check(job: object, holder: object, ttl: object) -> None:
    for what, text in (("lease job", job), ("lease holder", holder)):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_JOB:
            raise InvalidInput(
                f"{what} must be a non-empty string of at most {MAX_JOB} characters, got {text!r}"
            )
        check_storable(what, text)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise InvalidInput(f"lease ttl must be a positive number of milliseconds, got {ttl!r}")
