"""search_runs as a DataFrame: built from columns, the same frame the list of runs gives.

The frame path (a RunTable read straight from the store) and the list path
(Run entities, then ``runs_to_frame``) must agree cell for cell, on SQLite and
PostgreSQL, through filters, orders, ``max_results`` and several pages.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.entities import RunTable
from mloop.tracking import fluent_runs
from mloop.tracking.frames import concat_tables, runs_to_frame, runs_to_table, table_to_frame

SEARCHES: list[tuple[str | None, list[str] | None, int]] = [
    (None, None, 100_000),
    ("metrics.acc > 0.5 and params.model = 'xgb'", ["metrics.auc DESC"], 100_000),
    ("metrics.acc > 0.5 and params.model = 'xgb'", ["metrics.auc DESC"], 17),
    ("tags.team = 'risk' or params.depth IN ('3', '4')", ["params.depth", "metrics.loss"], 60),
    ("metrics.loss < 0.3", ["attributes.run_name DESC"], 100_000),
    ("params.model = 'none'", None, 100_000),
]


def _log_runs(count: int) -> None:
    mloop.set_experiment("frames")
    for i in range(count):
        rng = random.Random(i)
        with mloop.start_run(run_name=f"run-{i:03d}"):
            mloop.log_params({"model": "xgb" if i % 3 else "rf", "depth": str(rng.randint(2, 6))})
            if i % 5:
                mloop.log_param(f"only-{i % 4}", "x")  # keys only some runs have
            mloop.log_metrics({"acc": math.sqrt(rng.random()), "auc": rng.random()})
            mloop.log_metric("loss", math.nan if i % 11 == 0 else rng.random())
            if i % 7 == 0:
                mloop.log_metric("spike", math.inf)
            mloop.set_tag("team", rng.choice(["risk", "ops"]))
    mloop.flush()


def _check_frame_and_list_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small pages, so both paths walk several pages and join them.
    monkeypatch.setattr(fluent_runs, "_MAX_PAGE", 40)
    for flt, order, limit in SEARCHES:
        frame = mloop.search_runs(
            experiment_names=["frames"], filter_string=flt, order_by=order, max_results=limit
        )
        runs = mloop.search_runs(
            experiment_names=["frames"],
            filter_string=flt,
            order_by=order,
            max_results=limit,
            output_format="list",
        )
        pd.testing.assert_frame_equal(frame, runs_to_frame(runs))
        assert len(frame) == len(runs) <= limit


def test_frame_and_list_agree_on_sqlite(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _log_runs(150)
    _check_frame_and_list_agree(monkeypatch)


@pytest.mark.postgres
def test_frame_and_list_agree_on_postgres(
    postgres_store: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mloop.set_tracking_uri(postgres_store)
    _log_runs(150)
    _check_frame_and_list_agree(monkeypatch)


def test_frame_columns_and_types(home: Path) -> None:
    _log_runs(12)
    frame = mloop.search_runs(experiment_names=["frames"], order_by=["attributes.run_name"])
    assert frame.columns[:7].tolist() == [
        "run_id",
        "experiment_id",
        "run_name",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert frame["metrics.acc"].dtype == np.float64
    assert str(frame["start_time"].dt.tz) == "UTC"
    assert math.isnan(frame["metrics.loss"].iloc[0])  # NaN logged
    assert frame["metrics.spike"].iloc[0] == math.inf
    assert math.isnan(frame["metrics.spike"].iloc[1])  # never logged
    assert pd.isna(frame["params.only-1"].iloc[0])
    assert frame["params.only-1"].iloc[1] == "x"
    assert (frame["status"] == "FINISHED").all()


def test_concat_tables_pads_keys_a_page_lacks() -> None:
    a = RunTable(["r1"], ["1"], ["a"], ["FINISHED"], ["u"], [0], [1], metrics={"m": [0.5]})
    b = RunTable(
        ["r2", "r3"],
        ["1"] * 2,
        ["b", "c"],
        ["RUNNING"] * 2,
        ["u"] * 2,
        [1, 2],
        [None] * 2,
        tags={"t": ["x", None]},
        next_page_token="more",
    )
    joined = concat_tables([a, b])
    assert joined.run_id == ["r1", "r2", "r3"]
    assert joined.end_time == [1, None, None]
    assert joined.metrics == {"m": [0.5, None, None]}
    assert joined.tags == {"t": [None, "x", None]}
    assert joined.next_page_token == "more"
    assert concat_tables([]) == runs_to_table([])
    assert concat_tables([a]) is a


def test_empty_table_gives_the_empty_frame_layout() -> None:
    frame = table_to_frame(runs_to_table([]))
    assert frame.empty
    assert frame.columns.tolist()[:3] == ["run_id", "experiment_id", "run_name"]
