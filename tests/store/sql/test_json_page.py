"""Reading params, tags and run fields from SQLite as JSON arrays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.store.database import Database
from mloop.store.protocols.tracking import Batch
from mloop.store.sql import open_sql_store_set
from mloop.store.sql.json_page import json_key_lists, json_run_fields

# Quotes, backslashes, control characters, separators, NUL, non-ASCII, a long value.
AWKWARD = [
    'say "hi"',
    "back\\slash\\",
    "tab\tnew\nline\r",
    "unit\x1fsep,comma|pipe",
    "nul\x00inside",
    "ünïcødé ✓ 🚀 漢字",
    "x" * 8_000,
    "",
    "[1, 2]",
    "null",
]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[tuple[Database, list[str]]]:
    uri = f"sqlite:///{tmp_path}/page.db"
    stores = open_sql_store_set(uri)
    exp = stores.experiments.create_experiment("page")
    ids = [stores.runs.create_run(exp, f"run-{i}", 10 + i, {}).run_id for i in range(3)]
    stores.runs.write_batch(
        Batch(
            params=[(ids[0], f"p{i}", value) for i, value in enumerate(AWKWARD)]
            + [(ids[2], "p0", "only in run 2")],
        )
    )
    stores.close()
    db = Database.open(uri)
    yield db, ids
    db.dispose()


def test_text_values_come_back_exactly(page: tuple[Database, list[str]]) -> None:
    db, ids = page
    with db.connect() as conn:
        positions, keys, values = json_key_lists(conn, "params", [ids[2], ids[0]])
    got = sorted(zip(positions, keys, values, strict=True))
    expected = sorted(
        [(0, "p0", "only in run 2")] + [(1, f"p{i}", v) for i, v in enumerate(AWKWARD)]
    )
    assert got == expected


def test_an_empty_page_gives_empty_lists(page: tuple[Database, list[str]]) -> None:
    db, _ = page
    with db.connect() as conn:
        assert json_key_lists(conn, "tags", []) == ([], [], [])
        assert json_run_fields(conn, ("run_id", "name"), []) == [[], []]


def test_run_fields_follow_the_ids_and_skip_unknown_ones(page: tuple[Database, list[str]]) -> None:
    db, ids = page
    wanted = [ids[2], "0" * 32, ids[0], ids[1]]
    fields = ("run_id", "experiment_id", "name", "start_time", "end_time")
    with db.connect() as conn:
        run_id, experiment_id, name, start, end = json_run_fields(conn, fields, wanted)
    assert run_id == [ids[2], ids[0], ids[1]]
    assert name == ["run-2", "run-0", "run-1"]
    assert start == [12, 10, 11]
    assert end == [None, None, None]
    assert len(set(experiment_id)) == 1 and isinstance(experiment_id[0], str)
