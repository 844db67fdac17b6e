"""The contract every policy store passes: subclass and provide ``policy_store_uri``.

``policy_store_uri`` names a fresh, empty store; the suite opens store sets on
it and uses their ``policies`` part, opening independent clients where a test
needs concurrent writers.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mloop.entities import Policy, PolicyRun
from mloop.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from mloop.store.set import StoreSet
from tests.contracts.opening import OpenStores, store_opener


def now() -> int:
    return time.time_ns() // 1_000_000


ON_ALERT = {"on": "alert", "monitor": "credit-drift", "rule": "drift.share > 0.3"}
SPEC = {
    "pipeline": "training",
    "parameters": {"lr": 0.1, "data": "credit@latest"},
    "gate": ["accuracy >= 0.8", "accuracy >= champion - 0.01"],
    "deployment": "credit-api",
    "canary": {"percent": 10, "steps": [10, 50], "min_requests": 100},
}


def retrain(**changes: Any) -> Policy:
    return dataclasses.replace(Policy("retrain-credit", ON_ALERT, SPEC), **changes)


class PolicyStoreContract:
    """Shared tests; a subclass supplies ``policy_store_uri``, a fresh store per test."""

    __test__ = False

    @pytest.fixture
    def open_stores(self, policy_store_uri: str) -> Iterator[OpenStores]:
        yield from store_opener(policy_store_uri)

    @pytest.fixture
    def stores(self, open_stores: OpenStores) -> StoreSet:
        return open_stores()

    def test_create_get_list_update_and_state(self, stores: StoreSet) -> None:
        policies = stores.policies
        assert policies.list_policies() == []
        before = now()
        created = policies.create_policy(retrain(created_time=5))
        assert (created.trigger, created.spec, created.paused, created.state) == (
            ON_ALERT,
            SPEC,
            False,
            {},
        )
        assert before <= created.created_time == created.updated_time <= now()
        assert policies.get_policy("retrain-credit") == created
        on_data = {"on": "dataset", "name": "credit"}
        policies.create_policy(
            retrain(name="a-nightly", trigger={"on": "schedule", "cron": "0 3 * * *"})
        )
        assert [p.name for p in policies.list_policies()] == ["a-nightly", "retrain-credit"]
        state = {"last_event": {"version": 4}, "cooldown_until": 1.5}
        assert policies.set_policy_state("retrain-credit", state).state == state
        updated = policies.update_policy(retrain(trigger=on_data, paused=True, state={"x": 1}))
        assert (updated.trigger, updated.paused, updated.state) == (on_data, True, state)
        assert updated.created_time == created.created_time <= updated.updated_time
        assert policies.get_policy("retrain-credit") == updated

    def test_a_taken_name_is_refused(self, stores: StoreSet) -> None:
        created = stores.policies.create_policy(retrain())
        with pytest.raises(AlreadyExists, match="'retrain-credit'"):
            stores.policies.create_policy(retrain(spec={}))
        assert stores.policies.get_policy("retrain-credit") == created

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"name": "bad name"}, "invalid policy name"),
            ({"name": ""}, "invalid policy name"),
            ({"trigger": {"on": "drift"}}, "policy trigger \"on\" is 'drift'"),
            ({"trigger": {}}, 'policy trigger "on" is None'),
            ({"trigger": "alert"}, "policy trigger must be a mapping"),
            ({"trigger": {"on": "alert"}}, 'policy trigger "monitor" \\(on alert\\)'),
            ({"trigger": {"on": "dataset", "name": ""}}, 'policy trigger "name" \\(on dataset\\)'),
            ({"trigger": {"on": "schedule"}}, 'policy trigger "cron" \\(on schedule\\)'),
            ({"spec": [1]}, "policy spec must be a mapping"),
            ({"spec": {"at": {1, 2}}}, "policy spec is not JSON data"),
            ({"state": "x"}, "policy state must be a mapping"),
            ({"paused": 1}, "paused must be True or False"),
            (
                {"spec": {"notify": {"password": "hunter2"}}},
                "policy spec: 'password' holds a secret",
            ),
            ({"spec": {"registry": "https://u:pw@r.example.com"}}, "'registry' holds a secret"),
        ],
    )
    def test_bad_values_are_refused_before_anything_is_written(
        self, stores: StoreSet, changes: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(InvalidInput, match=message):
            stores.policies.create_policy(retrain(**changes))
        assert stores.policies.list_policies() == []

    def test_runs_and_their_chain(self, stores: StoreSet) -> None:
        policies = stores.policies
        policies.create_policy(retrain())
        event = {"on": "alert", "alert": {"rule": "drift.share > 0.3", "value": 0.41}}
        before = now()
        run = policies.start_run("retrain-credit", event)
        assert (run.policy, run.status, run.trigger_event, run.chain) == (
            "retrain-credit",
            "running",
            event,
            [],
        )
        assert before <= run.started_time == run.updated_time <= now()
        assert (run.ended_time, run.error, run.finished) == (None, None, False)
        steps = [
            {"step": "pipeline-run", "id": "ab" * 16},
            {"step": "register", "model": "credit", "version": 5},
            {"step": "gate", "passed": True, "rules": [{"rule": "accuracy >= 0.8", "value": 0.83}]},
        ]
        for step in steps:
            run = policies.append_step(run.run_id, step)
        assert run.chain == steps
        waiting = policies.set_run_status(run.run_id, "waiting-approval")
        resumed = policies.set_run_status(
            run.run_id, "running", step={"step": "approved", "by": "ana"}
        )
        assert (waiting.status, resumed.status, resumed.chain[-1]["by"]) == (
            "waiting-approval",
            "running",
            "ana",
        )
        done = policies.set_run_status(
            run.run_id, "succeeded", step={"step": "deploy", "to": "credit-api"}
        )
        assert (done.status, done.finished, len(done.chain)) == ("succeeded", True, 5)
        assert done.ended_time is not None and done.ended_time >= done.started_time
        assert policies.get_run(run.run_id) == done

    def test_a_finished_run_stays_finished(self, stores: StoreSet) -> None:
        policies = stores.policies
        policies.create_policy(retrain())
        failed = policies.set_run_status(
            policies.start_run("retrain-credit", {}).run_id, "failed", error="gate failed"
        )
        assert (failed.status, failed.error) == ("failed", "gate failed")
        for status in ("running", "waiting-approval", "succeeded", "cancelled", "rolled-back"):
            with pytest.raises(Conflict, match="is failed; it cannot become"):
                policies.set_run_status(failed.run_id, status)
        with pytest.raises(Conflict, match="has finished \\(failed\\); it takes no more steps"):
            policies.append_step(failed.run_id, {"step": "deploy"})
        assert policies.get_run(failed.run_id) == failed
        run = policies.start_run("retrain-credit", {})
        with pytest.raises(Conflict, match="is running; it cannot become running"):
            policies.set_run_status(run.run_id, "running")
        succeeded = policies.set_run_status(run.run_id, "succeeded")
        with pytest.raises(Conflict, match="is succeeded; it cannot become running"):
            policies.set_run_status(run.run_id, "running")
        rolled = policies.set_run_status(
            run.run_id, "rolled-back", step={"step": "rollback", "to": "credit/4"}
        )
        assert (rolled.status, rolled.chain) == (
            "rolled-back",
            [{"step": "rollback", "to": "credit/4"}],
        )
        assert rolled.ended_time is not None and rolled.ended_time >= succeeded.ended_time  # type: ignore[operator]
        with pytest.raises(Conflict):
            policies.set_run_status(run.run_id, "cancelled")

    @pytest.mark.parametrize(
        ("step", "message"),
        [
            ({"id": "x"}, 'policy run step "step" must be a non-empty string'),
            ({"step": ""}, 'policy run step "step" must be a non-empty string'),
            (["pipeline-run"], "policy run step must be a mapping"),
            ({"step": "x", "when": object()}, "policy run step is not JSON data"),
            ({"step": "notify", "token": "abc"}, "policy run step: 'token' holds a secret"),
        ],
    )
    def test_a_bad_step_or_status_is_refused(
        self, stores: StoreSet, step: Any, message: str
    ) -> None:
        policies = stores.policies
        policies.create_policy(retrain())
        run = policies.start_run("retrain-credit", {})
        with pytest.raises(InvalidInput, match=message):
            policies.append_step(run.run_id, step)
        with pytest.raises(InvalidInput, match=message):
            policies.set_run_status(run.run_id, "failed", step=step)
        with pytest.raises(InvalidInput, match="status 'done' is not one of running"):
            policies.set_run_status(run.run_id, "done")
        with pytest.raises(InvalidInput, match="trigger event must be a mapping"):
            policies.start_run("retrain-credit", [])  # type: ignore[arg-type]
        assert policies.list_runs("retrain-credit") == [run]

    def test_runs_are_listed_newest_first(self, stores: StoreSet) -> None:
        policies = stores.policies
        policies.create_policy(retrain())
        policies.create_policy(retrain(name="other"))
        runs = [
            policies.start_run("retrain-credit", {"n": n}, now=t)
            for n, t in ((0, 10), (1, 30), (2, 20))
        ]
        policies.start_run("other", {})
        assert [r.trigger_event["n"] for r in policies.list_runs("retrain-credit")] == [1, 2, 0]
        assert policies.list_runs("retrain-credit", limit=1) == [runs[1]]
        with pytest.raises(InvalidInput, match="run limit must be a positive number"):
            policies.list_runs("retrain-credit", limit=0)

    def test_concurrent_appends_lose_no_step(self, open_stores: OpenStores) -> None:
        clients = [open_stores(), open_stores()]
        clients[0].policies.create_policy(retrain())
        run = clients[0].policies.start_run("retrain-credit", {})
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def append(i: int) -> None:
            barrier.wait()
            try:
                for n in range(10):
                    clients[i].policies.append_step(run.run_id, {"step": "s", "by": i, "n": n})
            except BaseException as err:  # surfaced in the main thread
                errors.append(err)

        threads = [threading.Thread(target=append, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        chain = clients[1].policies.get_run(run.run_id).chain
        assert len(chain) == 20
        for i in range(2):
            assert [s["n"] for s in chain if s["by"] == i] == list(range(10))

    def test_delete_takes_the_runs_with_it(self, stores: StoreSet) -> None:
        policies = stores.policies
        policies.create_policy(retrain())
        run = policies.start_run("retrain-credit", {})
        policies.delete_policy("retrain-credit")
        with pytest.raises(NotFound, match="'retrain-credit'"):
            policies.get_policy("retrain-credit")
        with pytest.raises(NotFound, match=run.run_id):
            policies.get_run(run.run_id)
        policies.create_policy(retrain())
        assert policies.list_runs("retrain-credit") == []

    def test_unknown_policy_and_run(self, stores: StoreSet) -> None:
        policies = stores.policies
        for call in (
            lambda: policies.get_policy("nope"),
            lambda: policies.update_policy(retrain(name="nope")),
            lambda: policies.set_policy_state("nope", {}),
            lambda: policies.delete_policy("nope"),
            lambda: policies.start_run("nope", {}),
            lambda: policies.list_runs("nope"),
        ):
            with pytest.raises(NotFound, match="policy 'nope' not found"):
                call()
        for run_call in (
            lambda: policies.get_run("r0"),
            lambda: policies.append_step("r0", {"step": "x"}),
            lambda: policies.set_run_status("r0", "failed"),
        ):
            with pytest.raises(NotFound, match="policy run 'r0' not found"):
                run_call()

    def test_names_are_unique_per_project(self, stores: StoreSet) -> None:
        here, there = stores.policies, stores.in_project("fraud").policies
        mine = here.create_policy(retrain())
        there.create_policy(retrain(spec={"pipeline": "fraud"}))
        theirs: PolicyRun = there.start_run("retrain-credit", {})
        with pytest.raises(NotFound):
            here.get_run(theirs.run_id)
        assert here.list_runs("retrain-credit") == []
        there.delete_policy("retrain-credit")
        assert here.get_policy("retrain-credit") == mine
