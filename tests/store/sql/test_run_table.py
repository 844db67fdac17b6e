"""Reading a page of runs as columns, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.entities import ViewType
from mloop.store.database import Database
from mloop.store.protocols.tracking import Batch, NewRun
from mloop.store.sql import open_sql_store_set
from mloop.store.sql.run_table import (
    RUN_FIELDS,
    chunked_positioned_rows,
    positioned_rows,
    read_run_table,
    run_table_from_rows,
)
from mloop.store.sql.search import search_run_ids, search_run_rows


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/table.db"
    return str(request.getfixturevalue("postgres_store"))


@pytest.fixture
def database(store_uri: str) -> Iterator[tuple[Database, list[str]]]:
    stores = open_sql_store_set(store_uri)
    exp = stores.experiments.create_experiment("t")
    ids = [stores.runs.create_run(exp, f"r{i}", 100 + i, {"i": str(i)}).run_id for i in range(5)]
    stores.runs.log_params(ids[1], {"lr": "0.1"})
    stores.runs.write_batch(Batch(metrics=[(ids[3], "auc", 0.75, 1, 0)]))
    db = Database.open(store_uri)
    yield db, ids
    db.dispose()
    stores.close()


def test_positions_follow_the_order_of_the_ids(database: tuple[Database, list[str]]) -> None:
    db, ids = database
    wanted = [ids[3], ids[0], ids[4]]
    with db.connect() as conn:
        rows = sorted(positioned_rows(db, conn, "tags", ("key", "value"), wanted))
        chunked = sorted(chunked_positioned_rows(db, conn, "tags", ("key", "value"), wanted))
    assert rows == [(0, "i", "3"), (1, "i", "0"), (2, "i", "4")]
    assert chunked == rows


def test_read_run_table_keeps_order_and_skips_unknown_ids(
    database: tuple[Database, list[str]],
) -> None:
    db, ids = database
    with db.connect() as conn:
        table = read_run_table(db, conn, [ids[3], "f" * 32, ids[1]], "token")
        empty = read_run_table(db, conn, [], None)
    assert table.run_id == [ids[3], ids[1]]
    assert table.run_name == ["r3", "r1"]
    assert table.start_time == [103, 101]
    assert table.end_time == [None, None]
    assert table.status == ["RUNNING", "RUNNING"]
    assert table.metrics == {"auc": [0.75, None]}
    assert table.params == {"lr": [None, "0.1"]}
    assert table.tags == {"i": ["3", "1"]}
    assert table.next_page_token == "token"
    assert (len(empty), empty.metrics, empty.experiment_id) == (0, {}, [])


def test_a_page_costs_the_same_statements_whatever_its_size(tmp_path: Path) -> None:
    """Five statements for a page of 2,000 runs as for a page of 3 (SQLite's own trace)."""
    uri = f"sqlite:///{tmp_path}/count.db"
    stores = open_sql_store_set(uri)
    exp = stores.experiments.create_experiment("many")
    runs = [NewRun.build(exp, f"r{i}", i, {"i": str(i)}) for i in range(2_000)]
    stores.runs.write_batch(
        Batch(
            runs=runs,
            params=[(r.info.run_id, "lr", "0.1") for r in runs],
            metrics=[(r.info.run_id, "auc", i / 2_000, 1, 0) for i, r in enumerate(runs)],
        )
    )
    stores.close()
    db = Database.open(uri)

    def statements(max_results: int) -> tuple[int, int]:
        seen: list[str] = []
        with db.connect() as conn:
            conn.connection.driver_connection.set_trace_callback(seen.append)  # type: ignore[union-attr]
            ids, token = search_run_ids(
                conn,
                [int(exp)],
                "metrics.auc >= 0",
                ViewType.ACTIVE_ONLY,
                max_results,
                ["metrics.auc DESC"],
                None,
            )
            table = read_run_table(db, conn, ids, token)
            conn.connection.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]
        return len(table), sum(s.lstrip().upper().startswith(("SELECT", "WITH")) for s in seen)

    assert statements(3) == (3, 5)
    assert statements(2_000) == (2_000, 5)
    db.dispose()


def test_dense_and_sparse_pages_read_the_same_values(store_uri: str) -> None:
    """Every run with the same keys (sliced) or not (placed one by one): NaN, ±inf and -0.0 kept."""
    stores = open_sql_store_set(store_uri)
    exp = stores.experiments.create_experiment("shapes")
    ids = [stores.runs.create_run(exp, f"r{i}", 100 + i, {"t": f"v{i}"}).run_id for i in range(4)]
    specials = [math.nan, math.inf, -math.inf, -0.0]
    stores.runs.write_batch(
        Batch(
            metrics=[(run_id, "m", specials[i], 1, 0) for i, run_id in enumerate(ids)]
            + [(ids[2], "only", 5e-324, 1, 0)],
            params=[(run_id, "p", f'é{i}\x1f"') for i, run_id in enumerate(ids)],
        )
    )
    stores.close()
    db = Database.open(store_uri)
    try:
        with db.connect() as conn:
            table = read_run_table(db, conn, [ids[3], ids[0], ids[2], ids[1]], None)
    finally:
        db.dispose()
    m = table.metrics["m"]
    assert m[0] == 0.0  # SQLite stores -0.0 as 0
    assert m[1] is None  # NaN reads back as None
    assert m[2:] == [-math.inf, math.inf]
    assert table.metrics["only"] == [None, None, 5e-324, None]
    assert table.params == {"p": ['é3\x1f"', 'é0\x1f"', 'é2\x1f"', 'é1\x1f"']}
    assert table.tags["t"] == ["v3", "v0", "v2", "v1"]


def test_a_table_from_search_rows_equals_one_read_by_ids(
    database: tuple[Database, list[str]],
) -> None:
    db, ids = database
    with db.connect() as conn:
        exp = conn.exec_driver_sql("SELECT experiment_id FROM runs").scalar()
        rows, token = search_run_rows(
            conn, [int(exp)], None, ViewType.ACTIVE_ONLY, 3, ["start_time ASC"], None, RUN_FIELDS
        )
        from_rows = run_table_from_rows(db, conn, rows, token)
        by_ids = read_run_table(db, conn, ids[:3], token)
        empty = run_table_from_rows(db, conn, [], None)
    assert from_rows == by_ids
    assert from_rows.run_id == ids[:3] and from_rows.experiment_id == [str(exp)] * 3
    assert token is not None
    assert (len(empty), empty.params, empty.run_id) == (0, {}, [])
