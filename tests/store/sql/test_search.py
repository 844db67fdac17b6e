"""One page of a run search as ids or as rows of run fields, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.entities import ViewType
from mloop.errors import InvalidInput
from mloop.store.database import Database
from mloop.store.protocols.tracking import Batch
from mloop.store.sql import open_sql_store_set
from mloop.store.sql.search import search_run_ids, search_run_rows


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def page(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Database, int, list[str]]]:
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path}/search.db"
    else:
        uri = str(request.getfixturevalue("postgres_store"))
    stores = open_sql_store_set(uri)
    exp = stores.experiments.create_experiment("s")
    ids = [stores.runs.create_run(exp, f"r{i}", 100 + i, {}).run_id for i in range(4)]
    stores.runs.write_batch(
        Batch(
            metrics=[(run_id, "auc", i / 10, 1, 0) for i, run_id in enumerate(ids)],
            params=[(run_id, "model", "a" if i % 2 else "b") for i, run_id in enumerate(ids)],
        )
    )
    stores.close()
    db = Database.open(uri)
    yield db, int(exp), ids
    db.dispose()


def test_rows_carry_the_asked_fields_in_search_order(
    page: tuple[Database, int, list[str]],
) -> None:
    db, exp, ids = page
    with db.connect() as conn:
        rows, token = search_run_rows(
            conn,
            [exp],
            "params.model = 'a' and metrics.auc >= 0",
            ViewType.ACTIVE_ONLY,
            10,
            ["metrics.auc DESC"],
            None,
            ("run_id", "name", "start_time", "end_time"),
        )
    assert [tuple(row) for row in rows] == [(ids[3], "r3", 103, None), (ids[1], "r1", 101, None)]
    assert token is None


def test_ids_and_rows_page_alike(page: tuple[Database, int, list[str]]) -> None:
    db, exp, ids = page
    args = ([exp], None, ViewType.ACTIVE_ONLY, 3, ["metrics.auc ASC"])
    with db.connect() as conn:
        first, token = search_run_ids(conn, *args, None)
        rest, end = search_run_ids(conn, *args, token)
        rows, row_token = search_run_rows(conn, *args, None, ("run_id",))
    assert first == ids[:3] and rest == ids[3:] and end is None
    assert [row[0] for row in rows] == first and row_token == token


def test_a_bad_page_size_is_refused_before_any_query(
    page: tuple[Database, int, list[str]],
) -> None:
    db, exp, _ = page
    with db.connect() as conn, pytest.raises(InvalidInput, match="max_results"):
        search_run_rows(conn, [exp], None, ViewType.ACTIVE_ONLY, 0, None, None, ("run_id",))


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.model = 'a' and metrics.auc > 0.15", [3]),
        ("metrics.auc > 0.05 and metrics.auc < 0.25", [1, 2]),
        ("params.model != 'a' and attributes.run_name LIKE 'r%'", [0, 2]),
        ("params.model IN ('a', 'b') and metrics.auc <= 0.1", [0, 1]),
        ("(params.model = 'a' or metrics.auc < 0.1) and metrics.auc >= 0", [0, 1, 3]),
        ("params.missing = 'a' and metrics.auc >= 0", []),
    ],
)
def test_conjunctions_of_fields_match_as_each_term_says(
    page: tuple[Database, int, list[str]], filter_string: str, expected: list[int]
) -> None:
    db, exp, ids = page
    with db.connect() as conn:
        found, _ = search_run_ids(
            conn, [exp], filter_string, ViewType.ACTIVE_ONLY, 10, ["start_time ASC"], None
        )
    assert found == [ids[i] for i in expected]
