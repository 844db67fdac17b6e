"""Serving on Ray Serve: two replicas on a real local Ray answer both protocols, then stop."""

from __future__ import annotations

import asyncio
import pickle
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.context import current
from mloop.errors import InvalidInput, MissingExtra
from mloop.serving.asgi import AppFactory, create_app
from mloop.serving.log_reading import predictions
from mloop.serving.ray_serve import (
    DEPLOYMENT,
    NotStarted,
    RayServeOptions,
    RayServing,
    _asgi_status,
    _Replica,
    build_app,
    import_serve,
)
from mloop.serving.server import ModelServer, ServerSettings
from tests.conftest import _reset_fluent

TIMEOUT = 30.0  # seconds for one HTTP answer through Serve's proxy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store of the module's own (its tests share one Ray): its home folder."""
    root = tmp_path_factory.mktemp("ray-serve") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOOP_HOME", str(root))
        patch.setenv("MLOOP_TRACKING_URI", f"sqlite:///{root}/mloop.db")
        patch.setenv("MLOOP_ARTIFACTS_URI", str(root / "artifacts"))
        _reset_fluent()
        yield root
    _reset_fluent()


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame.drop(columns="target")


@pytest.fixture(scope="module")
def model_dir(store: Path, features: pd.DataFrame) -> Path:
    """The breast-cancer LogisticRegression as a package folder named ``cancer``."""
    target = load_breast_cancer(as_frame=True).frame["target"]
    model = LogisticRegression(max_iter=5000).fit(features, target)
    path = store.parent / "cancer"
    mloop.models.save(model, path, input_example=features.head(3))
    return path


@pytest.fixture(scope="module")
def local_ray(store: Path) -> Iterator[Any]:
    """One local Ray for the module (starting one takes seconds), bound to 127.0.0.1."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    pytest.importorskip("ray.serve", reason="Ray Serve's dependencies are not installed")
    from ray import serve

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    yield serve
    serve.shutdown()
    ray.shutdown()


def v2_request(rows: pd.DataFrame) -> dict[str, Any]:
    inputs = [
        {"name": c, "shape": [len(rows)], "datatype": "FP64", "data": rows[c].tolist()}
        for c in rows.columns
    ]
    return {"id": "ray-1", "inputs": inputs}


@pytest.mark.slow
def test_two_replicas_answer_both_protocols_and_flush_their_log_on_stop(
    local_ray: Any, model_dir: Path, features: pd.DataFrame
) -> None:
    factory = AppFactory.here({"cancer": str(model_dir)}, ServerSettings())
    options = RayServeOptions(replicas=2, port=free_port(), replica_cpus=0.5, ready_timeout=240)
    expected = mloop.models.load(model_dir).predict(features.iloc[:40]).tolist()
    with RayServing(factory, options) as url, httpx.Client(timeout=TIMEOUT) as http:
        status = local_ray.status().applications["mloop"].deployments[DEPLOYMENT]
        assert status.replica_states == {"RUNNING": 2}  # both answered before start returned
        answers = []
        for start in range(0, 40, 4):  # several requests: Serve spreads them over the replicas
            rows = features.iloc[start : start + 4]
            body = {"dataframe_split": rows.to_dict(orient="split", index=False)}
            answer = http.post(f"{url}/invocations", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-model-version"]
            answers += answer.json()["predictions"]
        assert answers == expected

        answer = http.post(f"{url}/v2/models/cancer/infer", json=v2_request(features.iloc[:5]))
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"][0]["data"] == expected[:5]
        assert answer.json()["id"] == "ray-1"
        refused = http.post(f"{url}/v2/models/cancer/infer", json={"inputs": []})
        assert refused.status_code == 400  # the app's own errors pass through the proxy
        assert http.get(f"{url}/v2/models/nope/ready").status_code == 404

    # Deleting the application ran each replica's lifespan shutdown: its log was flushed.
    logged = predictions("cancer", with_feedback=False)
    assert sorted(logged["protocol"].unique()) == ["mlflow", "v2"]
    assert logged["rows"].sum() >= 45
    assert local_ray.status().applications.get("mloop") is None
    # Serve goes on (this Ray was not started by it); its proxy routes the path nowhere now.
    assert httpx.get(f"{url}/ping", timeout=TIMEOUT).status_code == 404


@pytest.mark.slow
def test_replicas_that_cannot_load_the_model_are_reported_not_started(
    local_ray: Any, store: Path
) -> None:
    factory = AppFactory.here({"gone": str(store.parent / "no-such-model")}, ServerSettings())
    options = RayServeOptions(replicas=1, port=free_port(), replica_cpus=0.5, ready_timeout=120)
    serving = RayServing(factory, options)
    with pytest.raises(NotStarted, match="did not start"):
        serving.start()
    assert local_ray.status().applications.get("mloop") is None  # nothing left behind


@pytest.mark.slow
def test_replicas_the_cluster_has_no_room_for_are_reported_in_time(
    local_ray: Any, model_dir: Path
) -> None:
    factory = AppFactory.here({"cancer": str(model_dir)}, ServerSettings())
    options = RayServeOptions(replicas=3, port=free_port(), replica_cpus=1, ready_timeout=20)
    message = r"2 of 3 replicas answered within 20 s \(each reserves 1 CPU; the cluster has 2\)"
    with pytest.raises(NotStarted, match=message):
        RayServing(factory, options).start()
    assert local_ray.status().applications.get("mloop") is None


def test_without_ray_serve_the_extra_to_install_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray.serve", None)  # as if it were not installed
    if "ray" in sys.modules:
        monkeypatch.delattr(sys.modules["ray"], "serve", raising=False)
    with pytest.raises(MissingExtra, match=r"pip install 'mloop\[ray-serve\]'"):
        import_serve()
    with pytest.raises(MissingExtra):
        RayServing(AppFactory((("m", "/m"),), ServerSettings()), RayServeOptions()).start()


def test_options_are_checked_before_ray_is_started() -> None:
    factory = AppFactory((("m", "/m"),), ServerSettings())
    for options, message in (
        (RayServeOptions(replicas=0), "--replicas must be at least 1"),
        (RayServeOptions(port=70000), "--port must be 0..65535"),
        (RayServeOptions(address=" "), "--ray-address is empty"),
        (RayServeOptions(ready_timeout=0), "ready timeout must be > 0"),
        (RayServeOptions(replica_cpus=-1), "CPUs per replica"),
        (RayServeOptions(app_name="a/b"), "not a Serve application name"),
    ):
        with pytest.raises(InvalidInput, match=message):
            RayServing(factory, options)


def test_the_replica_factory_travels_by_pickle_and_builds_the_app(
    model_dir: Path, store: Path
) -> None:
    factory = AppFactory.here({"cancer": str(model_dir)}, ServerSettings())
    assert factory.store is not None and str(store) in factory.store.tracking_uri
    copy = pickle.loads(pickle.dumps(factory))
    assert copy == factory
    try:
        assert copy().title == "mloop model server"  # as in a replica: the settings rule now
    finally:
        current.use_settings(None)


def test_a_replica_is_healthy_only_once_its_models_are_loaded(model_dir: Path) -> None:
    async def check() -> None:
        server = ModelServer([("cancer", str(model_dir))])
        replica = _Replica()
        replica.app = create_app(server)
        with pytest.raises(RuntimeError, match="answers /v2/health/ready with 503"):
            await replica.check_health()
        await server.start()
        try:
            await replica.check_health()
            assert await _asgi_status(replica.app, "/v2/health/live") == 200
        finally:
            await server.close()

    asyncio.run(check())


def test_a_serve_config_naming_no_models_is_refused() -> None:
    with pytest.raises(InvalidInput, match="name no models"):
        build_app({})
