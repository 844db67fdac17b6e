"""The storage seam of leases: which agent runs a job, until when.

An agent runs a job (a monitor, a policy) only while it holds the job's
lease, and renews it while it works; a lease not renewed in time expires, and
another agent may take the job over. The SQL implementation is
:class:`mloop.store.sql.leases.SqlLeaseStore`; the contract suite in
``tests/contracts/lease_store_contract.py`` races holders on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from typing import Protocol

from mloop.entities import Lease


class LeaseStore(Protocol):
    """Leases on the jobs of one project: at most one live holder per job.

    Contract:
    - ``acquire`` is atomic: of any number of holders racing for a free or
      expired job, exactly one gets True; a live lease of another holder is
      never taken (False); the holder acquiring its own live lease extends it;
    - ``renew`` extends the lease only for its live holder (False otherwise,
      including after it expired and another took it);
    - ``release`` frees the job only for its holder (a no-op for anyone else);
    - times are milliseconds since the epoch; ``now`` defaults to the store's
      clock, and is given in tests; ``ttl`` is in milliseconds and positive.
    """

    def acquire(self, job: str, holder: str, ttl: int, *, now: int | None = None) -> bool:
        """Take the lease on ``job`` for ``ttl`` milliseconds if it is free, expired or ours."""

    def renew(self, job: str, holder: str, ttl: int, *, now: int | None = None) -> bool:
        """Extend our live lease by ``ttl`` milliseconds from ``now``."""

    def release(self, job: str, holder: str) -> None:
        """Give up our lease on ``job``."""

    def holder(self, job: str, *, now: int | None = None) -> str | None:
        """Who holds a live lease on ``job``, or None."""

    def get_lease(self, job: str) -> Lease | None:
        """The lease row of ``job``, live or expired, or None."""
