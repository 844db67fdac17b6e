"""Serving deployments over real HTTP: canary shares, sticky callers, shadows, blue-green, and
following every change of the deployment while requests flow."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import mloop
import mloop.serving
from mloop.errors import InvalidInput, NotFound
from mloop.models.backend import backend
from mloop.serving.asgi import app
from mloop.serving.endpoints import bucket, target_of
from mloop.serving.prediction_log import PredictionLogSettings
from mloop.serving.server import ModelServer, ServerSettings
from tests.models.conftest import corrupt_object
from tests.serving.live import running

FAST = ServerSettings(refresh_seconds=0.1, prediction_log=PredictionLogSettings(flush_seconds=0.1))


def register_scorers(home: Path, count: int = 4) -> None:
    """``scorer/k`` answers ``k * x``: every version tells by its answer that it answered."""
    example = pd.DataFrame({"x": [1.0, 2.0]})
    for k in range(1, count + 1):
        path = home.parent / f"scorer-{k}"
        model = LinearRegression().fit(example, [k * 1.0, k * 2.0])
        mloop.models.save(model, str(path), input_example=example)
        mloop.models.register(str(path), "scorer")
    mloop.models.set_alias("scorer", "champion", 1)
    mloop.models.set_alias("scorer", "challenger", 2)


@pytest.fixture
def scorers(home: Path) -> None:
    register_scorers(home)


def ask(url: str, x: float = 1.0, **headers: str) -> tuple[float, str]:
    """One prediction of the deployment at ``url``: (the answer, the x-model-version header)."""
    response = httpx.post(f"{url}/invocations", json={"inputs": {"x": [x]}}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["predictions"][0], response.headers["x-model-version"]


def eventually(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the change was not picked up in time"
        time.sleep(0.05)


@pytest.fixture
def served(scorers: None) -> Callable[..., Any]:
    """Serve a deployment (made with the given routing) on a live server; yields its URL."""

    def serve(**routing: Any) -> Any:
        mloop.serving.create_deployment("scorer-api", "scorer@champion", **routing)
        return running(app(["scorer-api"], settings=FAST))

    return serve


def test_a_canary_takes_its_share_and_each_answer_is_its_versions_own(
    served: Callable[..., Any],
) -> None:
    with served(canary="scorer@challenger", canary_percent=30) as url:
        answers = [ask(url, 2.0) for _ in range(400)]
    versions = Counter(version for _, version in answers)
    assert set(versions) == {"1", "2"}
    assert 80 <= versions["2"] <= 160  # 30% of 400, give or take four standard deviations
    assert all(value == pytest.approx(2.0 * int(version)) for value, version in answers)


def test_a_sticky_header_keeps_each_caller_on_one_version(served: Callable[..., Any]) -> None:
    with served(canary="scorer/2", canary_percent=50, sticky_header="x-customer-id") as url:
        seen = {
            customer: {ask(url, **{"x-customer-id": customer})[1] for _ in range(5)}
            for customer in (f"customer-{n}" for n in range(40))
        }
    assert all(len(versions) == 1 for versions in seen.values())
    assert {next(iter(v)) for v in seen.values()} == {"1", "2"}
    for customer, versions in seen.items():  # the bucket decides, the same in every process
        expected = "2" if bucket("scorer-api", customer) < 5000 else "1"
        assert versions == {expected}


def test_shadow_answers_are_logged_and_never_returned(
    served: Callable[..., Any], home: Path
) -> None:
    with served(shadow="scorer/3") as url:
        answers = [ask(url, 1.0, **{"x-request-id": f"r{n}"}) for n in range(20)]
        assert all(answer == (pytest.approx(1.0), "1") for answer in answers)
        metrics = httpx.get(f"{url}/metrics").text
    assert (
        'mloop_shadow_requests_total{model="scorer-api",outcome="answered",version="3"} 20.0'
        in (metrics)
    )
    assert 'role="shadow"' in metrics and 'role="primary"' in metrics
    logged = mloop.serving.predictions("scorer-api")
    assert sorted(logged["request_id"]) == sorted(f"r{n}" for n in range(20))
    assert set(logged["version"]) == {"1"} and set(logged["model"]) == {"scorer"}
    for row in logged.itertuples():
        assert row.outputs == pytest.approx([1.0])
        assert row.shadow["version"] == "3" and row.shadow["outputs"] == pytest.approx([3.0])


def test_a_failing_shadow_never_touches_the_answer(served: Callable[..., Any], home: Path) -> None:
    # scorer/4 takes another column: every copy fails its signature check, and is logged so.
    path = home.parent / "other"
    example = pd.DataFrame({"y": [1.0, 2.0]})
    mloop.models.save(LinearRegression().fit(example, [0.0, 1.0]), str(path), input_example=example)
    mloop.models.register(str(path), "scorer")
    with served(shadow="scorer/5") as url:
        assert ask(url, 1.0, **{"x-request-id": "only"}) == (pytest.approx(1.0), "1")
    (row,) = mloop.serving.predictions("scorer-api").itertuples()
    assert row.status == 200 and row.shadow["version"] == "5"
    assert "y" in row.shadow["error"] and "outputs" not in row.shadow


def test_changes_of_the_deployment_are_followed_live(served: Callable[..., Any]) -> None:
    with served(canary="scorer/2", canary_percent=0) as url:
        assert {ask(url)[1] for _ in range(20)} == {"1"}
        mloop.serving.update_deployment("scorer-api", canary_percent=100, reason="all in")
        eventually(lambda: ask(url)[1] == "2")
        assert {ask(url)[1] for _ in range(20)} == {"2"}
        mloop.serving.promote("scorer-api", reason="it won")  # moves scorer@champion to 2
        eventually(lambda: httpx.get(f"{url}/health").json()["models"][0]["revision"] == 3)
        assert {ask(url)[1] for _ in range(20)} == {"2"}
        health = httpx.get(f"{url}/health").json()["models"][0]
        assert [(v["role"], v["version"]) for v in health["versions"]] == [("primary", "2")]
        mloop.serving.rollback("scorer-api", reason="undo")  # champion back to 1, canary back
        eventually(lambda: httpx.get(f"{url}/health").json()["models"][0]["revision"] == 4)
        assert {ask(url)[1] for _ in range(20)} == {"2"}  # the canary at 100% again
        mloop.serving.update_deployment("scorer-api", canary="", reason="canary off")
        eventually(lambda: ask(url)[1] == "1")


def test_blue_green_keeps_the_twin_idle_then_switches_at_once(
    served: Callable[..., Any],
) -> None:
    with served(canary="scorer/2", mode="blue-green") as url:
        assert {ask(url)[1] for _ in range(30)} == {"1"}
        twin = httpx.post(
            f"{url}/v2/models/scorer-api/versions/2/infer",
            json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
        )
        assert twin.status_code == 200 and twin.json()["outputs"][0]["data"] == [pytest.approx(2.0)]
        metadata = httpx.get(f"{url}/v2/models/scorer-api").json()
        assert metadata["versions"] == ["1", "2"]
        mloop.serving.promote("scorer-api", reason="switch")
        eventually(lambda: ask(url)[1] == "2")
        assert {ask(url)[1] for _ in range(30)} == {"2"}
        health = httpx.get(f"{url}/health").json()["models"][0]
        assert [(v["role"], v["version"]) for v in health["versions"]] == [
            ("primary", "2"),
            ("twin", "1"),
        ]
        missing = httpx.post(
            f"{url}/v2/models/scorer-api/versions/9/infer",
            json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
        )
    assert missing.status_code == 404 and "serves versions 1, 2" in missing.json()["error"]
    logged = mloop.serving.predictions("scorer-api")  # the twin was asked for, not routed
    assert set(logged.loc[logged["version"] == "2", "role"].head(1)) == {"direct"}
    assert set(logged.loc[logged["version"] == "1", "role"]) == {"primary"}


def test_a_routing_whose_version_fails_to_load_leaves_the_old_one_serving(
    served: Callable[..., Any], home: Path
) -> None:
    full = backend().stores.models.get_version("scorer", 3, with_files=True)
    corrupt_object(next(f for f in full.files if f.path == "model.skops").digest)
    shutil.rmtree(home / "models", ignore_errors=True)  # no local copy: loads read the store
    with served() as url:
        mloop.serving.update_deployment("scorer-api", canary="scorer/3", canary_percent=100)
        eventually(lambda: httpx.get(f"{url}/health").json()["models"][0]["error"] is not None)
        health = httpx.get(f"{url}/health").json()["models"][0]
        assert health["revision"] == 1 and "scorer" in health["error"]
        assert {ask(url)[1] for _ in range(10)} == {"1"}


def test_a_deleted_deployment_keeps_serving_its_last_routing(served: Callable[..., Any]) -> None:
    with served(canary="scorer/2", canary_percent=100) as url:
        mloop.serving.delete_deployment("scorer-api", reason="gone")
        eventually(lambda: httpx.get(f"{url}/health").json()["models"][0]["error"] is not None)
        assert "not found" in httpx.get(f"{url}/health").json()["models"][0]["error"]
        assert ask(url)[1] == "2"


def test_failed_requests_are_logged_with_their_status(served: Callable[..., Any]) -> None:
    with served() as url:
        bad = httpx.post(
            f"{url}/invocations", json={"inputs": {"z": [1.0]}}, headers={"x-request-id": "bad"}
        )
        assert bad.status_code == 400 and bad.headers["x-model-version"] == "1"
        assert ask(url, **{"x-request-id": "good"})[1] == "1"
    logged = mloop.serving.predictions("scorer-api").set_index("request_id")
    assert logged.loc["bad", "status"] == 400 and "x" in logged.loc["bad", "error"]
    assert logged.loc["bad", "outputs"] is None and logged.loc["bad", "version"] == "1"
    assert logged.loc["good", "status"] == 200


def test_what_is_served_names_a_deployment_or_a_model(home: Path) -> None:
    assert target_of("scorer-api") == "deployments:/scorer-api"
    assert target_of("deployments:/scorer-api") == "deployments:/scorer-api"
    assert target_of("scorer@champion") == "models:/scorer@champion"
    folder = home.parent / "scorer-folder"
    folder.mkdir()
    assert target_of(str(folder)) == str(folder)
    with pytest.raises(InvalidInput, match="deployment name"):
        target_of("deployments:/bad name")
    server = ModelServer.from_uris(["nobody"])
    with pytest.raises(NotFound, match="deployment 'nobody' not found"):
        server.load()


@pytest.fixture
def two_routes(scorers: None) -> Iterator[str]:
    mloop.serving.create_deployment("scorer-api", "scorer@champion")
    with running(app({"api": "scorer-api", "pinned": "models:/scorer/4"}, settings=FAST)) as url:
        yield url


def test_a_deployment_and_a_model_share_one_server(two_routes: str) -> None:
    body = {"inputs": {"x": [1.0]}}
    api = httpx.post(f"{two_routes}/models/api/invocations", json=body)
    pinned = httpx.post(f"{two_routes}/models/pinned/invocations", json=body)
    assert api.json()["predictions"] == [pytest.approx(1.0)]
    assert pinned.json()["predictions"] == [pytest.approx(4.0)]


def test_a_version_that_fails_at_start_is_named_with_its_deployment_and_role(
    scorers: None, home: Path
) -> None:
    from mloop.errors import IntegrityError

    full = backend().stores.models.get_version("scorer", 3, with_files=True)
    corrupt_object(next(f for f in full.files if f.path == "model.skops").digest)
    shutil.rmtree(home / "models", ignore_errors=True)
    mloop.serving.create_deployment("scorer-api", "scorer@champion", shadow="scorer/3")
    server = ModelServer.from_uris(["scorer-api"])
    with pytest.raises(IntegrityError, match=r"deployment 'scorer-api', revision 1: its shadow "
                       r"scorer/3: "):  # fmt: skip
        server.load()


def test_a_promoted_canary_is_not_loaded_a_second_time(scorers: None) -> None:
    from mloop.serving.endpoints import DeploymentEndpoint

    mloop.serving.create_deployment(
        "scorer-api", "scorer@champion", canary="scorer/2", canary_percent=10
    )
    endpoint = DeploymentEndpoint("scorer-api", "scorer-api")
    endpoint.refresh()
    canary = dict(endpoint.members())["canary"].current
    mloop.serving.promote("scorer-api")  # scorer@champion moves to 2
    retired = endpoint.refresh()
    primary = dict(endpoint.members())["primary"].current
    assert primary is not None and canary is not None
    assert primary.version == "2" and primary.model is canary.model
    assert [m.uri for m in retired] == ["models:/scorer/2"]
