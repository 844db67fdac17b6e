"""The contract every lease store passes: subclass and provide ``lease_store_uri``.

``lease_store_uri`` names a fresh, empty store; the suite opens store sets on
it and uses their ``leases`` part, one independent client per racing holder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from mloop.entities import Lease
from mloop.errors import InvalidInput
from mloop.store.set import StoreSet
from tests.contracts.opening import OpenStores, store_opener

JOB = "monitor:credit-drift"
RACERS = 4


def race(clients: list[StoreSet], attempt: Callable[[StoreSet, str], bool]) -> list[bool]:
    """Every client tries at once (holder ``h<i>``); what each got."""
    outcomes: list[bool | BaseException] = [False] * len(clients)
    barrier = threading.Barrier(len(clients))

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = attempt(clients[i], f"h{i}")
        except BaseException as err:  # surfaced below
            outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    return [bool(o) for o in outcomes]


class LeaseStoreContract:
    """Shared tests; a subclass supplies ``lease_store_uri``, a fresh store per test."""

    __test__ = False

    @pytest.fixture
    def open_stores(self, lease_store_uri: str) -> Iterator[OpenStores]:
        yield from store_opener(lease_store_uri)

    @pytest.fixture
    def stores(self, open_stores: OpenStores) -> StoreSet:
        return open_stores()

    def test_acquire_renew_release(self, stores: StoreSet) -> None:
        leases = stores.leases
        assert (leases.holder(JOB, now=0), leases.get_lease(JOB)) == (None, None)
        assert leases.acquire(JOB, "a", 100, now=1000)
        assert leases.get_lease(JOB) == Lease(JOB, "a", 1000, 1100)
        assert not leases.acquire(JOB, "b", 100, now=1099)
        assert leases.holder(JOB, now=1099) == "a"
        assert leases.acquire(JOB, "a", 100, now=1050)  # the holder extends its own
        assert leases.get_lease(JOB) == Lease(JOB, "a", 1000, 1150)
        assert leases.renew(JOB, "a", 200, now=1100)
        assert leases.get_lease(JOB) == Lease(JOB, "a", 1000, 1300)
        leases.release(JOB, "b")  # not b's: nothing happens
        assert leases.holder(JOB, now=1200) == "a"
        leases.release(JOB, "a")
        assert leases.get_lease(JOB) is None
        assert leases.acquire(JOB, "b", 100, now=1200)
        assert leases.holder(JOB, now=1200) == "b"

    def test_an_expired_lease_is_taken_over_and_its_holder_cannot_renew(
        self, stores: StoreSet
    ) -> None:
        leases = stores.leases
        assert leases.acquire(JOB, "a", 100, now=0)
        assert leases.holder(JOB, now=100) is None
        assert leases.get_lease(JOB) == Lease(JOB, "a", 0, 100)  # expired, still readable
        assert not leases.renew(JOB, "a", 100, now=100)  # too late
        assert leases.acquire(JOB, "b", 100, now=100)
        assert leases.get_lease(JOB) == Lease(JOB, "b", 100, 200)
        assert not leases.renew(JOB, "a", 100, now=150)
        assert not leases.acquire(JOB, "a", 100, now=150)
        assert leases.holder(JOB, now=150) == "b"

    def test_renew_by_anyone_but_the_holder_fails(self, stores: StoreSet) -> None:
        leases = stores.leases
        assert not leases.renew(JOB, "a", 100, now=0)  # no lease at all
        assert leases.acquire(JOB, "a", 100, now=0)
        assert not leases.renew(JOB, "b", 1000, now=50)
        assert leases.get_lease(JOB) == Lease(JOB, "a", 0, 100)

    def test_the_clock_defaults_to_now(self, stores: StoreSet) -> None:
        leases = stores.leases
        assert leases.acquire(JOB, "a", 60_000)
        assert leases.holder(JOB) == "a"
        lease = leases.get_lease(JOB)
        assert lease is not None and lease.expires_time - lease.acquired_time == 60_000
        assert abs(lease.acquired_time - time.time_ns() // 1_000_000) < 60_000

    @pytest.mark.parametrize(
        ("job", "holder", "ttl", "message"),
        [
            ("", "a", 10, "lease job must be a non-empty string"),
            (JOB, " ", 10, "lease holder must be a non-empty string"),
            ("j" * 301, "a", 10, "lease job must be a non-empty string of at most 300"),
            (JOB, "a\x00", 10, "NUL"),
            (JOB, "a", 0, "lease ttl must be a positive number"),
            (JOB, "a", 1.5, "lease ttl must be a positive number"),
            (JOB, "a", True, "lease ttl must be a positive number"),
        ],
    )
    def test_bad_input_is_refused(
        self, stores: StoreSet, job: str, holder: str, ttl: int, message: str
    ) -> None:
        with pytest.raises(InvalidInput, match=message):
            stores.leases.acquire(job, holder, ttl, now=0)
        with pytest.raises(InvalidInput, match=message):
            stores.leases.renew(job, holder, ttl, now=0)
        assert stores.leases.get_lease(JOB) is None

    def test_leases_belong_to_a_project(self, stores: StoreSet) -> None:
        assert stores.leases.acquire(JOB, "a", 100, now=0)
        assert stores.in_project("fraud").leases.acquire(JOB, "b", 100, now=0)
        assert stores.leases.holder(JOB, now=1) == "a"
        assert stores.in_project("fraud").leases.holder(JOB, now=1) == "b"

    def test_of_holders_racing_for_a_free_job_exactly_one_wins(
        self, open_stores: OpenStores
    ) -> None:
        clients = [open_stores() for _ in range(RACERS)]
        for round_ in range(5):
            job = f"job-{round_}"
            won = race(clients, lambda c, me, job=job: c.leases.acquire(job, me, 1000, now=0))
            assert sum(won) == 1, won
            assert clients[0].leases.holder(job, now=1) == f"h{won.index(True)}"

    def test_of_holders_racing_for_an_expired_job_exactly_one_wins(
        self, open_stores: OpenStores
    ) -> None:
        clients = [open_stores() for _ in range(RACERS)]
        for round_ in range(5):
            job = f"job-{round_}"
            assert clients[0].leases.acquire(job, "gone", 100, now=0)
            won = race(clients, lambda c, me, job=job: c.leases.acquire(job, me, 1000, now=500))
            assert sum(won) == 1, won
            winner = f"h{won.index(True)}"
            assert clients[0].leases.get_lease(job) == Lease(job, winner, 500, 1500)
            renewed = race(clients, lambda c, me, job=job: c.leases.renew(job, me, 1000, now=600))
            assert renewed == [f"h{i}" == winner for i in range(RACERS)]
