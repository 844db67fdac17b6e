"""Reading the prediction log: time ranges by hourly partition, feedback joins, bad input."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mloop.artifacts.objects.schemes import open_object_store
from mloop.errors import InvalidInput
from mloop.serving.log_reading import predictions
from mloop.serving.log_records import Feedback, Prediction
from mloop.serving.prediction_log import PredictionLog, PredictionLogSettings

HOUR = 3600.0
T0 = datetime.datetime(2026, 12, 5, 10, tzinfo=datetime.UTC).timestamp()


def answer(request_id: str, when: float, version: str = "1") -> Prediction:
    frame = pd.DataFrame({"x": [1.0], "when": pd.to_datetime(["2026-01-02"])})
    return Prediction(
        request_id, when, "credit", "credit", version, "plain", frame, np.ones(1), 0.0
    )


@pytest.fixture
def root(tmp_path: Path) -> str:
    log = PredictionLog(open_object_store(str(tmp_path / "log")), PredictionLogSettings())
    for index in range(4):  # one an hour, 10:30 to 13:30
        log.record(answer(f"r{index}", T0 + index * HOUR + 1800, version=str(1 + index % 2)))
    log.record(Feedback("r1", T0 + 5 * HOUR, "credit", "late"))
    log.close()
    return str(tmp_path / "log")


def test_a_time_range_reads_its_hours_only(root: str) -> None:
    objects = open_object_store(root)
    hours = sorted({info.key.split("/")[3] for info in objects.list("predictions/")})
    assert hours == ["2026-12-05T10", "2026-12-05T11", "2026-12-05T12", "2026-12-05T13"]
    got = predictions("credit", since="2026-12-05T11:00", until="2026-12-05T13:00", uri=root)
    assert got["request_id"].tolist() == ["r1", "r2"]
    assert got["version"].tolist() == ["2", "1"]
    assert got.iloc[0]["label"] == "late"
    assert pd.isna(got.iloc[1]["label"])
    naive = datetime.datetime(2026, 12, 5, 13)  # naive times are UTC
    assert predictions("credit", since=naive, uri=root)["request_id"].tolist() == ["r3"]


def test_datetimes_in_inputs_are_kept_as_text(root: str) -> None:
    inputs = predictions("credit", uri=root).iloc[0]["inputs"]
    assert inputs["x"] == [1.0]
    assert inputs["when"][0].startswith("2026-01-02")


def test_an_unknown_deployment_reads_as_an_empty_table(root: str) -> None:
    empty = predictions("nobody", uri=root)
    assert len(empty) == 0 and "label" in empty and "inputs" in empty


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deployment": "no/slash"}, "invalid model name"),
        ({"deployment": "credit", "since": "yesterday"}, "is not an ISO date"),
        ({"deployment": "credit", "until": 5}, "must be a datetime"),
    ],
)
def test_bad_arguments_are_clear_errors(root: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        predictions(uri=root, **kwargs)  # type: ignore[arg-type]


def test_failed_requests_and_shadow_answers_read_back(tmp_path: Path) -> None:
    uri = str(tmp_path / "log")
    log = PredictionLog(open_object_store(uri), PredictionLogSettings())
    shadow = {"model": "credit", "version": "4", "outputs": np.array([0]), "latency_seconds": 0.01}
    log.record(answer("ok", T0)._replace(shadow=shadow))
    failed = answer("bad", T0 + 1)._replace(outputs=None, status=500, error="the model failed")
    log.record(failed)
    log.close()
    got = predictions("credit", uri=uri).set_index("request_id")
    assert got.loc["ok", "shadow"] == {
        "model": "credit",
        "version": "4",
        "outputs": [0],
        "latency_seconds": 0.01,
    }
    assert got.loc["ok", "status"] == 200 and pd.isna(got.loc["ok", "error"])
    assert got.loc["bad", "status"] == 500 and got.loc["bad", "error"] == "the model failed"
    assert got.loc["bad", "outputs"] is None and got.loc["bad", "shadow"] is None


def test_files_written_before_the_status_columns_read_with_them_null(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mloop.serving.log_records import PREDICTION_SCHEMA, prediction_table

    older = prediction_table([answer("old", T0)], frozenset(), None)
    older = older.select([n for n in PREDICTION_SCHEMA.names if n not in ("status", "error")])
    folder = tmp_path / "log" / "predictions" / "credit" / "1" / "2026-12-05T10"
    folder.mkdir(parents=True)
    pq.write_table(older, folder / "a.parquet")
    log = PredictionLog(open_object_store(str(tmp_path / "log")), PredictionLogSettings())
    log.record(answer("new", T0 + 60))
    log.close()
    got = predictions("credit", uri=str(tmp_path / "log"))
    assert got["request_id"].tolist() == ["old", "new"]
    assert pd.isna(got["status"].iloc[0]) and got["status"].iloc[1] == 200
    assert isinstance(older, pa.Table)


def test_some_versions_only(root: str) -> None:
    assert predictions("credit", versions=["2"], uri=root)["request_id"].tolist() == ["r1", "r3"]
    since = predictions("credit", since="2026-12-05T11:00", versions=["1"], uri=root)
    assert since["request_id"].tolist() == ["r2"]
    assert len(predictions("credit", since="2026-12-05T11:00", versions=["9"], uri=root)) == 0
