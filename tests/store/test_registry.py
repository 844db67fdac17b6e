from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mloop.errors import InvalidInput
from mloop.store import registry
from mloop.store.set import StoreSet


def test_one_store_set_per_uri(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/a.db"
    other = f"sqlite:///{tmp_path}/b.db"
    try:
        first = registry.open_store_set(uri)
        assert registry.open_store_set(uri) is first
        assert registry.open_store_set(other) is not first
        info = first.runs.create_run(first.experiments.create_experiment("e"), "r", 0, {})
        registry.close_all()
        reopened = registry.open_store_set(uri)
        assert reopened is not first  # closed and forgotten, opened again
        assert reopened.runs.get_run(info.run_id).info.run_name == "r"
    finally:
        registry.close_all()


def test_concurrent_first_opens_open_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"sqlite:///{tmp_path}/c.db"
    opened: list[str] = []
    real = registry.store_factories.load("sqlite")

    def counting(uri: str) -> StoreSet:
        opened.append(uri)
        return real(uri)  # type: ignore[no-any-return]

    monkeypatch.setattr(registry.store_factories, "load", lambda scheme: counting)
    start = threading.Barrier(4)

    def open_() -> StoreSet:
        start.wait(timeout=30)
        return registry.open_store_set(uri)

    try:
        with ThreadPoolExecutor(4) as pool:
            sets = [f.result(timeout=60) for f in [pool.submit(open_) for _ in range(4)]]
        assert opened == [uri]
        assert all(s is sets[0] for s in sets)
    finally:
        registry.close_all()


def test_unknown_scheme_opens_nothing() -> None:
    with pytest.raises(InvalidInput, match="no store for nosuch"):
        registry.open_store_set("nosuch://x")


@pytest.mark.parametrize(
    "uri", ["sqlite:relative.db", "sqlite://relative.db", "sqlite://host/x.db", "SQLITE:x"]
)
def test_a_malformed_sqlite_url_is_refused_with_the_form_that_works(uri: str) -> None:
    with pytest.raises(InvalidInput, match="three slashes"):
        registry.check_tracking_uri(uri)


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///x.db", "sqlite+pysqlite:////abs/x.db"])
def test_the_sqlite_forms_that_work(uri: str) -> None:
    assert registry.check_tracking_uri(uri) == "sqlite"
