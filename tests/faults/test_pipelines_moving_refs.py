"""A cached pipeline never serves stale data for a reference that moved (``bc@latest``).

The README pattern: a step takes ``"bc@latest"`` and calls ``mloop.data.get``
inside; after ``bc@2`` is added, the next run must see the new rows. Reads
inside a step (by a reference not passed as a param) are recorded as the
step's inputs and checked before its cached output is reused.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.pipelines.runner import step_cache, step_runs


@mloop.step
def load(ref: str) -> pd.DataFrame:
    dataset = mloop.data.get(ref)
    mloop.log_input(dataset, context="training")
    return dataset.to_pandas()


@mloop.step
def count(frame: pd.DataFrame) -> int:
    return len(frame)


@mloop.pipeline
def rows(ref: str = "bc@latest") -> None:
    count(load(ref))


@mloop.step
def load_fixed() -> int:
    return len(mloop.data.get("bc").to_pandas())  # a reference the cache key cannot see


@mloop.pipeline
def fixed() -> None:
    load_fixed()


class Constant(mloop.models.PythonModel):
    def load_context(self, context: mloop.models.ModelContext) -> None:
        self.value = context.model_config["value"]

    def predict(self, model_input: object) -> list[int]:
        return [self.value]


@mloop.step
def champion_says() -> int:
    return int(mloop.models.load("models:/const@champion").predict({"x": [1]})[0])


@mloop.pipeline
def serve() -> None:
    champion_says()


def _add(tmp_path: Path, count_rows: int) -> None:
    frame = pd.DataFrame({"x": np.arange(count_rows), "label": np.arange(count_rows) % 2})
    path = tmp_path / f"bc-{count_rows}.csv"
    frame.to_csv(path, index=False)
    mloop.data.add(path, name="bc")


@pytest.mark.parametrize("pipeline", [rows, fixed], ids=["param", "read-inside"])
def test_a_new_version_behind_latest_is_seen_by_the_next_run(
    home: Path, tmp_path: Path, pipeline: mloop.pipelines.Pipeline
) -> None:
    _add(tmp_path, 569)
    first = pipeline.run()
    last = list(first.steps)[-1]
    assert first.output(last) == 569
    again = pipeline.run()
    assert all(s.cached for s in again.steps.values())  # nothing moved: all from the cache
    _add(tmp_path, 300)
    third = pipeline.run()
    assert third.output(last) == 300
    assert not third.steps[next(iter(third.steps))].cached


def test_reads_inside_a_step_are_its_recorded_inputs(home: Path, tmp_path: Path) -> None:
    _add(tmp_path, 10)
    result = fixed.run()
    client = mloop.Client()
    (step,) = step_runs(client, client.get_run(result.run_id))
    reads = [i for i in client.get_run(step.info.run_id).inputs if i.context == "read"]
    assert [(i.kind, i.source) for i in reads] == [("dataset", "mloop-dataset:bc@1")]


def test_a_model_alias_that_moved_is_not_served_from_the_cache(home: Path, tmp_path: Path) -> None:
    for value in (1, 2):
        mloop.models.save(Constant(), tmp_path / f"m{value}", model_config={"value": value})
        mloop.models.register(tmp_path / f"m{value}", "const")
    mloop.models.set_alias("const", "champion", 1)
    assert serve.run().output("champion_says") == 1
    assert serve.run().steps["champion_says"].cached
    mloop.models.set_alias("const", "champion", 2)
    assert serve.run().output("champion_says") == 2


def test_reads_in_worker_processes_count_too(home: Path, tmp_path: Path) -> None:
    _add(tmp_path, 5)
    assert fixed.run(max_workers=2).output("load_fixed") == 5
    _add(tmp_path, 7)
    assert fixed.run(max_workers=2).output("load_fixed") == 7


@pytest.mark.postgres
def test_a_new_version_behind_latest_on_postgresql(
    home: Path, tmp_path: Path, postgres_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_TRACKING_URI", postgres_store)
    assert mloop.get_tracking_uri().startswith("postgresql")
    name = f"bc{uuid.uuid4().hex[:8]}"  # the database is shared by the session's tests
    for count_rows in (569, 300):
        frame = pd.DataFrame({"x": np.arange(count_rows)})
        frame.to_csv(tmp_path / f"{count_rows}.csv", index=False)
        mloop.data.add(tmp_path / f"{count_rows}.csv", name=name)
        assert rows.run(ref=f"{name}@latest").output("count") == count_rows


def test_an_entry_cached_before_reads_were_recorded_is_not_served(
    home: Path, tmp_path: Path
) -> None:
    _add(tmp_path, 569)
    first = fixed.run()
    assert first.output("load_fixed") == 569
    client = mloop.Client()
    (step,) = step_runs(client, client.get_run(first.run_id))
    key = step.data.tags["mloop.step.cache_key"]
    cache = step_cache(client)
    hit = cache.get(key)
    assert hit is not None
    run_id, entry = hit
    del entry["mloop.reads"]  # as an older mloop wrote it: it did not record what the step read
    cache.put_many({key: (run_id, entry)})
    _add(tmp_path, 300)
    again = fixed.run()
    assert again.output("load_fixed") == 300
    assert not again.steps["load_fixed"].cached
    assert fixed.run().steps["load_fixed"].cached  # the entry it wrote records its reads
