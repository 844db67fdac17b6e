"""The contract every deployment store passes: subclass and provide ``deployment_store_uri``.

``deployment_store_uri`` names a fresh, empty store; the suite opens store sets
on it (:func:`mloop.store.sql.open_sql_store_set`) and uses their
``deployments`` part, opening a second, independent client where a test needs
concurrent writers.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest

from mloop.entities import Deployment
from mloop.errors import AlreadyExists, Conflict, NotFound
from mloop.store.set import StoreSet
from tests.contracts.opening import OpenStores, store_opener


def now() -> int:
    return time.time_ns() // 1_000_000


def api(**changes: object) -> Deployment:
    base = Deployment(
        "credit-api",
        "credit@champion",
        canary="credit/4",
        canary_percent=10,
        shadow="credit@challenger",
        sticky_header="x-customer",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class DeploymentStoreContract:
    """Shared tests; a subclass supplies ``deployment_store_uri``, a fresh store per test."""

    __test__ = False

    @pytest.fixture
    def open_stores(self, deployment_store_uri: str) -> Iterator[OpenStores]:
        yield from store_opener(deployment_store_uri)

    @pytest.fixture
    def stores(self, open_stores: OpenStores) -> StoreSet:
        return open_stores()

    def test_create_get_and_list(self, stores: StoreSet) -> None:
        deployments = stores.deployments
        assert deployments.list_deployments() == []
        before = now()
        created = deployments.create_deployment(api(), actor="ana", reason="launch")
        assert created.routing() == api().routing()
        assert (created.revision, created.created_by, created.updated_by) == (1, "ana", "ana")
        assert (created.project, created.name) == ("default", "credit-api")
        assert before <= created.created_time == created.updated_time <= now()
        assert deployments.get_deployment("credit-api") == created
        deployments.create_deployment(Deployment("a-api", "fraud/1"), actor="bo")
        assert [d.name for d in deployments.list_deployments()] == ["a-api", "credit-api"]
        [change] = deployments.deployment_history("credit-api")
        assert (change.revision, change.action, change.actor, change.reason) == (
            1,
            "create",
            "ana",
            "launch",
        )
        assert (change.before, change.after, change.alias_move) == (None, api().routing(), None)
        assert change.time >= created.created_time

    def test_a_taken_name_is_refused_and_changes_nothing(self, stores: StoreSet) -> None:
        deployments = stores.deployments
        created = deployments.create_deployment(api(), actor="ana")
        with pytest.raises(AlreadyExists, match="'credit-api'"):
            deployments.create_deployment(api(primary="other/1"), actor="bo")
        assert deployments.get_deployment("credit-api") == created
        assert len(deployments.deployment_history("credit-api")) == 1

    def test_update_is_compare_and_set_on_the_revision(self, stores: StoreSet) -> None:
        deployments = stores.deployments
        seen = deployments.create_deployment(api(), actor="ana")
        wanted = dataclasses.replace(seen, canary_percent=50, shadow=None)
        moved = {"model": "credit", "alias": "champion", "from": 3, "to": 4}
        updated = deployments.update_deployment(
            wanted, expected_revision=1, actor="bo", reason="more", action="promote",
            alias_move=moved,
        )  # fmt: skip
        assert (updated.revision, updated.canary_percent, updated.shadow) == (2, 50, None)
        assert (updated.created_by, updated.updated_by) == ("ana", "bo")
        assert updated.updated_time >= seen.updated_time
        with pytest.raises(Conflict, match=r"revision 2.*revision 1"):
            deployments.update_deployment(
                dataclasses.replace(seen, canary_percent=90), expected_revision=1, actor="cy"
            )
        assert deployments.get_deployment("credit-api") == updated
        history = deployments.deployment_history("credit-api")
        assert [(c.revision, c.action, c.actor) for c in history] == [
            (1, "create", "ana"),
            (2, "promote", "bo"),
        ]
        assert history[1].before == seen.routing()
        assert history[1].after == updated.routing()
        assert (history[1].reason, history[1].alias_move) == ("more", moved)

    def test_a_policy_and_the_evidence_of_a_decision_are_kept(self, stores: StoreSet) -> None:
        deployments = stores.deployments
        policy = {"steps": [10, 25, 50], "min_requests": 100, "max_shift": 0.1}
        seen = deployments.create_deployment(api(policy=policy), actor="ana")
        assert seen.policy == policy and seen.routing()["policy"] == policy
        evidence = {"decision": "step", "canary": {"requests": 120, "p99_ms": 4.5}}
        stepped = deployments.update_deployment(
            dataclasses.replace(seen, canary_percent=25), expected_revision=1,
            actor="canary-analysis", reason="all checks passed", action="step",
            evidence=evidence,
        )  # fmt: skip
        assert deployments.get_deployment("credit-api") == stepped
        history = deployments.deployment_history("credit-api")
        assert [(c.action, c.evidence) for c in history] == [("create", None), ("step", evidence)]
        cleared = deployments.update_deployment(
            dataclasses.replace(stepped, policy=None), expected_revision=2, actor="ana"
        )
        assert cleared.policy is None
        assert deployments.deployment_history("credit-api")[-1].before["policy"] == policy

    def test_of_two_concurrent_updates_exactly_one_wins(self, open_stores: OpenStores) -> None:
        clients = [open_stores(), open_stores()]
        seen = clients[0].deployments.create_deployment(api(), actor="ana")
        outcomes: list[object] = [None, None]
        barrier = threading.Barrier(2)

        def change(i: int) -> None:
            barrier.wait()
            try:
                outcomes[i] = clients[i].deployments.update_deployment(
                    dataclasses.replace(seen, canary_percent=20 + i),
                    expected_revision=1,
                    actor=f"user{i}",
                )
            except Conflict as err:
                outcomes[i] = err

        threads = [threading.Thread(target=change, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [o for o in outcomes if isinstance(o, Deployment)]
        assert len(winners) == 1 and sum(isinstance(o, Conflict) for o in outcomes) == 1
        assert clients[1].deployments.get_deployment("credit-api") == winners[0]
        assert len(clients[1].deployments.deployment_history("credit-api")) == 2

    def test_delete_keeps_the_history(self, stores: StoreSet) -> None:
        deployments = stores.deployments
        seen = deployments.create_deployment(api(), actor="ana")
        with pytest.raises(Conflict, match="revision 1"):
            deployments.delete_deployment("credit-api", expected_revision=7, actor="bo")
        assert deployments.get_deployment("credit-api") == seen
        change = deployments.delete_deployment(
            "credit-api", expected_revision=1, actor="bo", reason="retired"
        )
        assert (change.action, change.revision, change.before, change.after) == (
            "delete",
            2,
            seen.routing(),
            None,
        )
        with pytest.raises(NotFound, match="'credit-api'"):
            deployments.get_deployment("credit-api")
        assert deployments.list_deployments() == []
        assert [c.action for c in deployments.deployment_history("credit-api")] == [
            "create",
            "delete",
        ]
        again = deployments.create_deployment(api(canary=None, canary_percent=0), actor="cy")
        assert again.revision == 1
        assert [c.action for c in deployments.deployment_history("credit-api")] == [
            "create",
            "delete",
            "create",
        ]

    def test_unknown_deployment(self, stores: StoreSet) -> None:
        deployments = stores.deployments
        with pytest.raises(NotFound, match="'nope'"):
            deployments.get_deployment("nope")
        with pytest.raises(NotFound, match="'nope'"):
            deployments.update_deployment(api(name="nope"), expected_revision=1, actor="a")
        with pytest.raises(NotFound, match="'nope'"):
            deployments.delete_deployment("nope", expected_revision=1, actor="a")
        with pytest.raises(NotFound, match="'nope'"):
            deployments.deployment_history("nope")

    def test_names_are_unique_per_project(self, stores: StoreSet) -> None:
        here, there = stores.deployments, stores.in_project("fraud").deployments
        mine = here.create_deployment(api(), actor="ana")
        theirs = there.create_deployment(api(primary="fraud/1", canary=None), actor="bo")
        assert theirs.project == "fraud" and theirs.primary == "fraud/1"
        assert here.get_deployment("credit-api") == mine
        assert [d.primary for d in there.list_deployments()] == ["fraud/1"]
        there.delete_deployment("credit-api", expected_revision=1, actor="bo")
        assert here.get_deployment("credit-api") == mine
        assert len(here.deployment_history("credit-api")) == 1
        with pytest.raises(NotFound):
            stores.in_project("empty").deployments.deployment_history("credit-api")
