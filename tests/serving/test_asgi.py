"""The model server over real HTTP: each protocol, its errors, metrics, batching and alias moves."""

from __future__ import annotations

import concurrent.futures
import gzip
import json
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.errors import IntegrityError
from mloop.serving.asgi import app, create_app
from mloop.serving.batching import BatchSettings
from mloop.serving.server import ModelServer, ServerSettings
from tests.serving.live import running


def expected(model_dir: Path, rows: pd.DataFrame) -> list[Any]:
    return mloop.models.load(model_dir).predict(rows).tolist()


def test_health_endpoints_answer_when_the_model_is_loaded(server_url: str) -> None:
    assert httpx.get(f"{server_url}/ping").status_code == 200
    health = httpx.get(f"{server_url}/health").json()
    assert health["ready"] is True
    assert health["models"][0]["name"] == "cancer"
    assert httpx.get(f"{server_url}/version").text == mloop.__version__
    assert httpx.get(f"{server_url}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{server_url}/v2/health/ready").json() == {"ready": True}
    assert httpx.get(f"{server_url}/v2/models/cancer/ready").json() == {"ready": True}


def test_mlflow_scoring_formats_answer_as_the_model_does(
    server_url: str, model_dir: Path, features: pd.DataFrame
) -> None:
    rows = features.iloc[10:15]
    want = expected(model_dir, rows)
    bodies = [
        {"dataframe_split": rows.to_dict(orient="split")},
        {"dataframe_records": rows.to_dict(orient="records")},
        {"instances": rows.to_dict(orient="records")},
        {"inputs": rows.to_dict(orient="list")},
    ]
    for body in bodies:
        answer = httpx.post(f"{server_url}/invocations", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": want}
        assert answer.headers["x-model-version"]
    csv = httpx.post(
        f"{server_url}/invocations",
        content=rows.to_csv(index=False),
        headers={"content-type": "text/csv"},
    )
    assert csv.json() == {"predictions": want}


def test_a_request_that_misses_a_column_gets_400_naming_it(
    server_url: str, features: pd.DataFrame
) -> None:
    rows = features.iloc[:2].drop(columns="mean radius")
    answer = httpx.post(
        f"{server_url}/invocations", json={"dataframe_split": rows.to_dict(orient="split")}
    )
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "BAD_REQUEST"
    assert "mean radius" in answer.json()["message"]


def test_bad_bodies_get_4xx_with_the_reason(server_url: str) -> None:
    not_json = httpx.post(
        f"{server_url}/invocations", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    wrong_type = httpx.post(
        f"{server_url}/invocations", content=b"x", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    unknown = httpx.post(f"{server_url}/models/nope/invocations", json={"inputs": [[1]]})
    assert unknown.status_code == 404
    assert "cancer" in unknown.json()["message"]


def test_a_body_over_the_limit_gets_413(model_dir: Path, features: pd.DataFrame) -> None:
    settings = ServerSettings(max_body_bytes=1000)
    with running(app([str(model_dir)], settings=settings)) as url:
        body = {"dataframe_records": features.iloc[:50].to_dict(orient="records")}
        answer = httpx.post(f"{url}/invocations", json=body)
    assert answer.status_code == 413
    assert "limit" in answer.json()["message"]


def test_compressed_bodies_are_inflated_within_the_limit(
    model_dir: Path, features: pd.DataFrame
) -> None:
    rows = features.iloc[:3]
    raw = json.dumps({"dataframe_split": rows.to_dict(orient="split")}).encode()
    raw_deflate = zlib.compressobj(wbits=-15)
    bodies = {
        "gzip": gzip.compress(raw),
        "deflate": zlib.compress(raw),
        "Deflate": raw_deflate.compress(raw) + raw_deflate.flush(),  # raw, as some clients send
    }
    settings = ServerSettings(max_body_bytes=len(raw) + 10)
    with running(app([str(model_dir)], settings=settings)) as url:

        def post(body: bytes, encoding: str) -> httpx.Response:
            headers = {"content-type": "application/json", "content-encoding": encoding}
            return httpx.post(f"{url}/invocations", content=body, headers=headers)

        for encoding, body in bodies.items():
            answer = post(body, encoding)
            assert answer.status_code == 200, (encoding, answer.text)
            assert answer.json() == {"predictions": expected(model_dir, rows)}
        bomb = post(gzip.compress(raw + b" " * 100_000), "gzip")
        truncated = post(gzip.compress(raw)[:-12], "gzip")
        garbage = post(raw, "gzip")
        brotli = post(raw, "br")
    assert bomb.status_code == 413
    assert "decompressed" in bomb.json()["message"]
    assert truncated.status_code == 400
    assert "truncated" in truncated.json()["message"]
    assert garbage.status_code == 400
    assert "not valid gzip" in garbage.json()["message"]
    assert brotli.status_code == 415
    assert "'br'" in brotli.json()["message"]


def test_plain_predict_takes_records_and_columns(
    server_url: str, model_dir: Path, features: pd.DataFrame
) -> None:
    rows = features.iloc[:3]
    want = {"predictions": expected(model_dir, rows)}
    records = httpx.post(f"{server_url}/predict", json=rows.to_dict(orient="records"))
    columns = httpx.post(f"{server_url}/models/cancer/predict", json=rows.to_dict(orient="list"))
    assert records.json() == want
    assert columns.json() == want
    bad = httpx.post(f"{server_url}/predict", json={"a": 1})
    assert bad.status_code == 400
    assert "list" in bad.json()["error"]


def test_open_inference_metadata_and_infer(
    server_url: str, model_dir: Path, features: pd.DataFrame
) -> None:
    server = httpx.get(f"{server_url}/v2").json()
    assert server["name"] == "mloop"
    metadata = httpx.get(f"{server_url}/v2/models/cancer").json()
    assert metadata["name"] == "cancer"
    assert [t["name"] for t in metadata["inputs"]] == list(features.columns)
    rows = features.iloc[20:24]
    request = {
        "id": "req-1",
        "inputs": [
            {"name": c, "shape": [len(rows)], "datatype": "FP64", "data": rows[c].tolist()}
            for c in features.columns
        ],
    }
    answer = httpx.post(f"{server_url}/v2/models/cancer/infer", json=request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "req-1"
    assert body["model_name"] == "cancer"
    assert body["outputs"][0]["data"] == expected(model_dir, rows)
    request["inputs"] = request["inputs"][1:]
    missing = httpx.post(f"{server_url}/v2/models/cancer/infer", json=request)
    assert missing.status_code == 400
    assert "mean radius" in missing.json()["error"]
    other = httpx.post(f"{server_url}/v2/models/cancer/versions/99/infer", json=request)
    assert other.status_code == 404


def test_every_answer_carries_a_request_id(server_url: str, features: pd.DataFrame) -> None:
    body = {"dataframe_records": features.iloc[:1].to_dict(orient="records")}
    given = httpx.post(f"{server_url}/invocations", json=body, headers={"x-request-id": "abc"})
    assert given.headers["x-request-id"] == "abc"
    made = httpx.post(f"{server_url}/invocations", json=body)
    assert len(made.headers["x-request-id"]) == 32


def test_metrics_count_requests_per_model_and_code(server_url: str, features: pd.DataFrame) -> None:
    body = {"dataframe_records": features.iloc[:2].to_dict(orient="records")}
    httpx.post(f"{server_url}/invocations", json=body)
    httpx.post(f"{server_url}/invocations", json={"bad": 1})
    text = httpx.get(f"{server_url}/metrics").text
    assert 'mloop_requests_total{code="200",model="cancer"' in text
    assert 'code="400"' in text
    assert "mloop_request_seconds_bucket" in text
    assert "mloop_batch_rows_bucket" in text
    assert 'mloop_model_ready{model="cancer"} 1.0' in text
    assert "mloop_prediction_value_count" in text
    assert "mloop_queue_depth" in text


def test_concurrent_requests_each_get_their_own_answer(
    model_dir: Path, features: pd.DataFrame
) -> None:
    want = expected(model_dir, features)
    settings = ServerSettings(batching=BatchSettings(max_batch_rows=32, max_wait_ms=5))
    with running(app([str(model_dir)], settings=settings)) as url:
        with httpx.Client() as client:

            def one(i: int) -> tuple[int, Any]:
                rows = features.iloc[i : i + 1 + i % 3]
                body = {"dataframe_split": rows.to_dict(orient="split")}
                return i, client.post(f"{url}/invocations", json=body).json()["predictions"]

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(one, range(200)))
        metrics = httpx.get(f"{url}/metrics").text
    for i, predictions in answers:
        assert predictions == want[i : i + 1 + i % 3]
    assert "mloop_batch_requests_count" in metrics


def test_an_alias_move_is_served_without_a_restart(
    home: Path, data: pd.DataFrame, features: pd.DataFrame
) -> None:
    good = LogisticRegression(max_iter=5000).fit(features, data["target"])
    constant = DummyClassifier(strategy="constant", constant=0).fit(features, data["target"])
    for model in (good, constant):
        with mloop.start_run():
            info = mloop.models.log_model(model, "model", input_example=features.head(2))
        mloop.models.register(info, "cancer")
    mloop.models.set_alias("cancer", "champion", 1)
    rows = features.iloc[:40]
    body = {"dataframe_split": rows.to_dict(orient="split")}
    settings = ServerSettings(refresh_seconds=0.1)
    with running(app(["models:/cancer@champion"], settings=settings)) as url:
        first = httpx.post(f"{url}/invocations", json=body)
        assert first.headers["x-model-version"] == "1"
        assert first.json()["predictions"] == good.predict(rows).tolist()
        mloop.models.set_alias("cancer", "champion", 2)
        deadline = time.monotonic() + 20
        while httpx.get(f"{url}/health").json()["models"][0]["version"] != "2":
            assert time.monotonic() < deadline, "the alias move was not picked up"
            time.sleep(0.05)
        second = httpx.post(f"{url}/invocations", json=body)
        metrics = httpx.get(f"{url}/metrics").text
    assert second.headers["x-model-version"] == "2"
    assert second.json()["predictions"] == [0] * len(rows)
    assert "mloop_model_info{digest=" in metrics and 'version="2"' in metrics


def test_a_tampered_package_is_refused_at_start(model_dir: Path) -> None:
    import asyncio

    victim = next(p for p in model_dir.rglob("*") if p.is_file() and p.name != "MANIFEST.json")
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes() + b"tampered")
    server = ModelServer.from_uris([str(model_dir)])
    with pytest.raises(IntegrityError):
        asyncio.run(server.start())


def test_two_models_in_one_server_answer_at_their_own_paths(
    model_dir: Path, features: pd.DataFrame
) -> None:
    with running(app({"a": str(model_dir), "b": str(model_dir)})) as url:
        body = {"dataframe_records": features.iloc[:1].to_dict(orient="records")}
        assert httpx.post(f"{url}/models/a/invocations", json=body).status_code == 200
        assert httpx.post(f"{url}/models/b/invocations", json=body).status_code == 200
        several = httpx.post(f"{url}/invocations", json=body)
    assert several.status_code == 400
    assert "/models/NAME/invocations" in several.json()["message"]


def test_the_openapi_document_lists_every_endpoint(server_url: str) -> None:
    paths = httpx.get(f"{server_url}/openapi.json").json()["paths"]
    for path in ("/invocations", "/predict", "/v2/models/{name}/infer", "/metrics", "/health"):
        assert path in paths


def test_create_app_loads_nothing_until_it_starts(model_dir: Path) -> None:
    server = ModelServer.from_uris([str(model_dir)])
    create_app(server)
    assert not server.ready
    assert np.isfinite(server.started_at)


def test_an_empty_request_is_a_bad_request_not_a_model_failure(server_url: str) -> None:
    answer = httpx.post(f"{server_url}/invocations", json={"dataframe_records": []})
    assert answer.status_code == 400
    assert answer.json() == {
        "error_code": "BAD_REQUEST",
        "message": "the request holds no rows to predict",
    }


def test_mlflow_error_codes_follow_the_status(server_url: str) -> None:
    unknown = httpx.post(f"{server_url}/models/nope/invocations", json={"inputs": [[1]]})
    assert unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    wrong_type = httpx.post(
        f"{server_url}/invocations", content=b"x", headers={"content-type": "text/plain"}
    )
    assert wrong_type.json()["error_code"] == "BAD_REQUEST"
