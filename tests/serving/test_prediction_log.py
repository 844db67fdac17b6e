"""The prediction log over real HTTP: what it writes, when, what it drops and counts, PII, feedback."""

from __future__ import annotations

import concurrent.futures
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest

import mloop
import mloop.serving
from mloop.artifacts.objects.schemes import open_object_store
from mloop.config import forget_settings
from mloop.data.privacy import pseudonym
from mloop.errors import InvalidInput
from mloop.serving.asgi import app
from mloop.serving.log_records import PREDICTION_SCHEMA
from mloop.serving.prediction_log import PredictionLogSettings
from mloop.serving.server import ServerSettings
from tests.serving.live import running


class Doubler(mloop.models.PythonModel):  # type: ignore[misc]
    """Answers column "x" doubled; column "email" is there to be hidden."""

    def predict(self, model_input: pd.DataFrame) -> Any:
        return model_input["x"].to_numpy() * 2


@pytest.fixture
def model_dir(home: Path) -> Path:
    path = home.parent / "doubler"
    example = pd.DataFrame({"x": [1.0], "email": ["someone@example.com"]})
    mloop.models.save(Doubler(), path, input_example=example)
    return path


@pytest.fixture
def artifacts(home: Path) -> Path:
    return home / "artifacts"


def serve(model_dir: Path, **log: Any) -> Any:
    settings = ServerSettings(prediction_log=PredictionLogSettings(**log))
    return app([str(model_dir)], settings=settings)


def predict(url: str, rows: list[dict[str, Any]], request_id: str | None = None) -> httpx.Response:
    headers = {"x-request-id": request_id} if request_id else {}
    answer = httpx.post(f"{url}/predict", json=rows, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def metric(url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    found = re.search(rf"^{name}\{{{wanted}\}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def log_files(artifacts: Path, kind: str = "predictions") -> list[Path]:
    return sorted((artifacts / kind).rglob("*.parquet"))


def wait_for(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)


ROW = {"x": 1.5, "email": "ana@example.com"}


def test_answers_are_written_as_parquet_with_their_id_version_and_values(
    model_dir: Path, artifacts: Path
) -> None:
    with running(serve(model_dir, flush_seconds=0.05)) as url:
        answer = predict(url, [ROW, {**ROW, "x": 2.0}], request_id="req-1")
        scored = httpx.post(
            f"{url}/invocations", json={"dataframe_records": [ROW]}, headers={"x-request-id": "r2"}
        )
        version = answer.headers["x-model-version"]
        wait_for(lambda: sum(pq.read_table(p).num_rows for p in log_files(artifacts)) == 2)
    assert answer.headers["x-request-id"] == "req-1" and scored.status_code == 200
    for path in log_files(artifacts):
        assert path.relative_to(artifacts).parts[:3] == ("predictions", "doubler", version)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d", path.parent.name)
        assert pq.read_schema(path).equals(PREDICTION_SCHEMA)
    table = mloop.serving.predictions("doubler", with_feedback=False)
    assert table["request_id"].tolist() == ["req-1", "r2"]
    first = table.iloc[0]
    assert [first["deployment"], first["model"], first["version"]] == [
        "doubler",
        "doubler",
        version,
    ]
    assert first["protocol"] == "plain" and table.iloc[1]["protocol"] == "mlflow"
    assert first["inputs"] == {"x": [1.5, 2.0], "email": ["ana@example.com"] * 2}
    assert first["outputs"] == [3.0, 4.0] and first["rows"] == 2
    assert 0 < first["latency_seconds"] < 5
    assert first["shadow"] is None
    assert pd.Timestamp.now(tz="UTC") - first["time"] < pd.Timedelta(minutes=5)


def test_a_failing_store_drops_and_counts_while_answers_go_on(
    model_dir: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with running(serve(model_dir, flush_seconds=0.05, uri=str(blocker / "log"))) as url:
        started = time.monotonic()
        for index in range(20):
            predict(url, [ROW], request_id=f"r{index}")
        answered = time.monotonic() - started
        dropped = "mloop_prediction_log_dropped_total"
        wait_for(lambda: metric(url, dropped, reason="write_failed") == 20)
        assert metric(url, "mloop_prediction_log_written_total", kind="prediction") == 0
    assert answered < 10  # no answer waited for the store (each write failure sleeps too)


def test_a_full_buffer_drops_new_records_and_counts_them(model_dir: Path) -> None:
    with running(serve(model_dir, flush_seconds=3600, max_records=2)) as url:
        answers = [predict(url, [ROW], request_id=f"r{i}").status_code for i in range(5)]
        assert metric(url, "mloop_prediction_log_dropped_total", reason="buffer_full") == 3
    assert answers == [200] * 5
    kept = mloop.serving.predictions("doubler")
    assert kept["request_id"].tolist() == ["r0", "r1"]


def test_a_clean_shutdown_writes_every_record(model_dir: Path) -> None:
    ids = [f"req-{i}" for i in range(60)]
    with (
        running(serve(model_dir, flush_seconds=3600)) as url,
        concurrent.futures.ThreadPoolExecutor(8) as pool,
    ):
        list(pool.map(lambda rid: predict(url, [ROW], request_id=rid), ids))
    assert sorted(mloop.serving.predictions("doubler")["request_id"]) == sorted(ids)


def test_pii_columns_are_keyed_hashes_before_they_are_written(
    model_dir: Path, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_SECRET_KEY", "test-key")
    forget_settings()
    with running(serve(model_dir, pii=("email",))) as url:
        predict(url, [ROW])
    files = log_files(artifacts)
    assert files
    for path in files:
        text = str(pq.read_table(path).to_pylist())
        assert "ana@example.com" not in text
        assert b"ana@example.com" not in path.read_bytes()
    logged = mloop.serving.predictions("doubler").iloc[0]
    assert logged["inputs"] == {"x": [1.5], "email": [pseudonym("ana@example.com", b"test-key")]}


def test_feedback_is_joined_to_the_predictions_it_labels(model_dir: Path, artifacts: Path) -> None:
    with running(serve(model_dir)) as url:
        for rid in ("a", "b", "c"):
            predict(url, [ROW], request_id=rid)
        one = httpx.post(f"{url}/feedback", json={"request_id": "a", "label": 0})
        many = httpx.post(
            f"{url}/feedback",
            json={"feedback": [{"request_id": "b", "label": 1}, {"request_id": "a", "label": 1}]},
        )
        wrong = [
            httpx.post(f"{url}/feedback", content=b"not json"),
            httpx.post(f"{url}/feedback", json={"request_id": "a"}),
            httpx.post(f"{url}/feedback", json={"feedback": []}),
            httpx.post(f"{url}/feedback", json={"request_id": 5, "label": 1}),
        ]
        named = httpx.post(f"{url}/models/doubler/feedback", json={"request_id": "c", "label": 0})
        unknown = httpx.post(f"{url}/models/nope/feedback", json={"request_id": "c", "label": 0})
    assert one.json() == {"recorded": 1, "dropped": 0} and "x-request-id" in one.headers
    assert many.json() == {"recorded": 2, "dropped": 0} and named.status_code == 200
    assert [answer.status_code for answer in wrong] == [400] * 4
    assert "request_id" in wrong[1].json()["error"]
    assert unknown.status_code == 404
    assert log_files(artifacts, "feedback")
    table = mloop.serving.predictions("doubler").set_index("request_id")
    assert table["label"].to_dict() == {"a": 1, "b": 1, "c": 0}  # the latest label wins
    assert table["label_time"].notna().all()
    assert "label" not in mloop.serving.predictions("doubler", with_feedback=False)


def test_without_the_log_nothing_is_written_and_feedback_is_refused(
    model_dir: Path, artifacts: Path
) -> None:
    with running(serve(model_dir, enabled=False)) as url:
        predict(url, [ROW])
        refused = httpx.post(f"{url}/feedback", json={"request_id": "a", "label": 0})
    assert refused.status_code == 409
    assert log_files(artifacts) == []


def test_a_store_named_by_uri_takes_the_log(model_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "prediction-log"
    with running(serve(model_dir, uri=str(elsewhere))) as url:
        predict(url, [ROW], request_id="there")
    assert list(open_object_store(str(elsewhere)).list("predictions/"))
    read = mloop.serving.predictions("doubler", uri=str(elsewhere))
    assert read["request_id"].tolist() == ["there"]


@pytest.fixture
def served(model_dir: Path) -> Iterator[str]:
    with running(serve(model_dir)) as url:
        yield url


def test_a_v2_request_is_logged_with_its_named_inputs(served: str) -> None:
    body = {
        "inputs": [
            {"name": "x", "shape": [1], "datatype": "FP64", "data": [4.0]},
            {"name": "email", "shape": [1], "datatype": "BYTES", "data": ["b@example.com"]},
        ]
    }
    answer = httpx.post(f"{served}/v2/models/doubler/infer", json=body)
    assert answer.status_code == 200, answer.text
    wait_for(lambda: len(mloop.serving.predictions("doubler")) == 1)
    logged = mloop.serving.predictions("doubler").iloc[0]
    assert logged["protocol"] == "v2"
    assert logged["inputs"]["x"] == [4.0]
    assert logged["outputs"] == [8.0]


def test_numeric_frames_are_logged_as_the_python_encoder_writes_them() -> None:
    import json

    import numpy as np

    from mloop.serving.log_records import json_text, jsonable, to_json

    for rows in (1, 50, 1000):  # lists for small frames, arrays for large ones
        values = np.random.default_rng(0).normal(size=(rows, 4))
        frame = pd.DataFrame(values, columns=list("abcd"))
        frame.iloc[rows // 2, 2] = np.nan
        assert json.loads(json_text(frame)) == json.loads(to_json(jsonable(frame)))
        ints = pd.DataFrame(values.astype("int32"), columns=[1, 2, "c", "d"])
        assert json.loads(json_text(ints)) == json.loads(to_json(jsonable(ints)))
    texts = pd.DataFrame({"name": ["x", None], "n": [1, 2]})  # object columns: Python's way
    assert json_text(texts) == to_json(jsonable(texts))
    assert json_text(np.array([[1, 2], [3, 4]])) == "[[1,2],[3,4]]"


def one_row(index: int) -> Any:
    """A one-row prediction of a 30-column float frame, as the server hands one over."""
    import numpy as np

    from mloop.serving.log_records import Prediction

    columns = [f"f{i}" for i in range(30)]
    frame = pd.DataFrame([[index + i / 100 for i in range(30)]], columns=columns)
    return Prediction(
        f"r{index}", 1.7e9 + index, "cancer", "cancer", "1", "mlflow", frame, np.ones(1), 0.001
    )


def test_a_flush_larger_than_a_slice_is_one_file_of_every_record_in_order(tmp_path: Path) -> None:
    from mloop.serving.prediction_log import SLICE_ROWS, PredictionLog

    written: list[tuple[str, int]] = []
    objects = open_object_store(str(tmp_path / "log"))
    log = PredictionLog(objects, PredictionLogSettings(), on_written=lambda *a: written.append(a))
    count = 2 * SLICE_ROWS + 7
    for index in range(count):
        assert log.record(one_row(index))
    assert log.buffered == count
    log.close()
    assert written == [("prediction", count)]
    [info] = objects.list("predictions/")
    table = pq.read_table(tmp_path / "log" / info.key)
    assert table.schema.equals(PREDICTION_SCHEMA)
    assert table["request_id"].to_pylist() == [f"r{i}" for i in range(count)]
    read = mloop.serving.predictions("cancer", uri=str(tmp_path / "log"), with_feedback=False)
    assert read["inputs"].iloc[-1]["f1"] == [count - 1 + 0.01]
    assert read["outputs"].iloc[0] == [1.0] and read["rows"].tolist() == [1] * count


def test_a_record_is_converted_when_it_is_recorded_not_when_it_is_written(tmp_path: Path) -> None:
    from mloop.serving.prediction_log import PredictionLog

    log = PredictionLog(open_object_store(str(tmp_path / "log")), PredictionLogSettings())
    record = one_row(0)
    log.record(record)
    record.inputs.iloc[0, 0] = 99.0  # the caller reuses its frame after the answer
    log.close()
    read = mloop.serving.predictions("cancer", uri=str(tmp_path / "log"))
    assert read["inputs"].iloc[0]["f0"] == [0.0]


def test_a_record_that_cannot_be_converted_is_dropped_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from mloop.serving.prediction_log import PredictionLog

    class Unreadable:
        def tolist(self) -> Any:
            raise RuntimeError("no values here")

    dropped: list[tuple[str, int]] = []
    log = PredictionLog(
        open_object_store(str(tmp_path / "log")),
        PredictionLogSettings(),
        on_dropped=lambda *a: dropped.append(a),
    )
    assert log.record(one_row(0)._replace(request_id="bad", outputs=Unreadable())) is False
    assert log.record(one_row(1))
    log.close()
    assert dropped == [("unwritable", 1)] and log.dropped == 1
    assert "request bad cannot be logged" in caplog.text and "no values here" in caplog.text
    read = mloop.serving.predictions("cancer", uri=str(tmp_path / "log"))
    assert read["request_id"].tolist() == ["r1"]


def test_the_byte_bound_counts_the_json_text_the_buffer_holds(tmp_path: Path) -> None:
    from mloop.serving.log_records import json_text
    from mloop.serving.prediction_log import ROW_BYTES, PredictionLog

    record = one_row(0)
    held = ROW_BYTES + len(json_text(record.inputs)) + len(json_text(record.outputs))
    dropped: list[tuple[str, int]] = []
    settings = PredictionLogSettings(max_bytes=3 * held + held // 2)
    log = PredictionLog(
        open_object_store(str(tmp_path / "log")), settings, on_dropped=lambda *a: dropped.append(a)
    )
    assert [log.record(record) for _ in range(5)] == [True, True, True, False, False]
    assert dropped == [("buffer_full", 1)] * 2
    log.flush()  # a flush empties the buffer
    assert log.record(record, size=held * 4) is False  # the caller's size, when larger
    assert log.record(record)
    log.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux nices one thread")
def test_the_writer_thread_runs_at_a_lower_cpu_priority_than_the_server(tmp_path: Path) -> None:
    import os
    import threading

    from mloop.serving.prediction_log import PredictionLog

    settings = PredictionLogSettings(writer_niceness=7)
    log = PredictionLog(open_object_store(str(tmp_path / "log")), settings)
    log.start()
    try:
        [writer] = [t for t in threading.enumerate() if t.name == "mloop-prediction-log"]
        assert writer.native_id is not None
        server = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        wanted = min(server + 7, 19)
        wait_for(lambda: os.getpriority(os.PRIO_PROCESS, writer.native_id) == wanted)
    finally:
        log.close()
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == server


@pytest.mark.parametrize("niceness", [-1, 20, 1.5, True])
def test_a_writer_niceness_out_of_range_is_refused(niceness: Any) -> None:
    with pytest.raises(InvalidInput, match="writer_niceness must be an integer from 0 to 19"):
        PredictionLogSettings(writer_niceness=niceness)


def test_large_frames_of_numbers_and_objects_are_logged_as_the_python_encoder_writes_them() -> None:
    import datetime
    import json

    import numpy as np

    from mloop.serving.log_records import json_text, jsonable, to_json

    def typed(text: str) -> Any:  # 1 and 1.0 told apart
        return json.loads(text, parse_int=lambda s: f"int {s}", parse_float=lambda s: f"float {s}")

    rows = 400
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(rows, 3)), columns=list("abc"))
    frame["n"] = np.arange(rows)
    frame["f32"] = np.float32(0.1)
    frame["flag"] = True
    frame["name"] = "ana"
    frame.loc[3, "name"] = None
    frame.loc[4, "a"] = np.nan
    frame["thing"] = [datetime.date(2026, 1, 2), b"\xff", 2.5, None] * (rows // 4)
    assert typed(json_text(frame)) == typed(to_json(jsonable(frame)))
    frame["huge"] = 2**70  # past orjson's integers: the Python way
    assert typed(json_text(frame)) == typed(to_json(jsonable(frame)))
    frame["when"] = pd.Timestamp("2026-01-02")  # datetimes: the Python way
    assert typed(json_text(frame)) == typed(to_json(jsonable(frame)))
