"""The contract every step cache backend passes: subclass and provide ``step_cache``."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

from mloop.store.protocols.steps import StepCacheStore


def key(seed: str) -> str:
    return (seed * 64)[:64]


def hashed(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


class StepCacheContract:
    """Shared tests; a subclass supplies a fresh ``step_cache`` fixture for its backend."""

    __test__ = False

    def test_unknown_key(self, step_cache: StepCacheStore) -> None:
        assert step_cache.get(key("a")) is None

    def test_put_and_get_round_trip(self, step_cache: StepCacheStore) -> None:
        outputs = {
            "output": {"digest": "d" * 64, "materializer": "json"},
            "n": 3,
            "nested": [1, 2.5, None, "ü"],
        }
        step_cache.put_many({key("a"): ("run-a", outputs), key("b"): ("run-b", {})})
        assert step_cache.get(key("a")) == ("run-a", outputs)
        assert step_cache.get(key("b")) == ("run-b", {})

    def test_put_replaces_an_entry(self, step_cache: StepCacheStore) -> None:
        step_cache.put_many({key("a"): ("run-1", {"x": 1})})
        step_cache.put_many({key("a"): ("run-2", {"x": 2}), key("c"): ("run-3", {})})
        assert step_cache.get(key("a")) == ("run-2", {"x": 2})
        assert step_cache.get(key("c")) == ("run-3", {})

    def test_put_nothing(self, step_cache: StepCacheStore) -> None:
        step_cache.put_many({})
        assert step_cache.get(key("a")) is None

    def test_forget(self, step_cache: StepCacheStore) -> None:
        step_cache.put_many({key("a"): ("run-a", {}), key("b"): ("run-b", {})})
        step_cache.forget(key("a"))
        step_cache.forget(key("never"))  # no error
        assert step_cache.get(key("a")) is None
        assert step_cache.get(key("b")) == ("run-b", {})

    def test_many_entries_in_one_put(self, step_cache: StepCacheStore) -> None:
        entries = {hashed(i): (f"run-{i}", {"i": i}) for i in range(2000)}
        step_cache.put_many(entries)
        for k in list(entries)[::97]:
            assert step_cache.get(k) == entries[k]

    def test_concurrent_puts_of_one_key(self, step_cache: StepCacheStore) -> None:
        start = threading.Barrier(4)

        def put(n: int) -> None:
            start.wait(timeout=30)
            for _ in range(10):
                step_cache.put_many({key("a"): (f"run-{n}", {"n": n})})

        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(put, n) for n in range(4)]:
                future.result(timeout=120)
        found = step_cache.get(key("a"))
        assert found is not None
        run_id, outputs = found
        assert run_id == f"run-{outputs['n']}"  # one writer's entry, whole
