from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from mloop.errors import InvalidInput, NotFound, PermissionDenied, StoreError
from mloop.importing.mlflow.http import MlflowHttp
from tests.importing.mlflow.stores import free_port


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers like MLflow: JSON bodies, MLflow's error JSON for unknown runs; keeps what it saw."""

    seen: ClassVar[list[dict[str, str]]] = []

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        Recorder.seen.append({"path": self.path, "auth": self.headers.get("Authorization", "")})
        if "runs/get" in self.path:
            self._answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run"})
        elif "guarded" in self.path and not self.headers.get("Authorization"):
            self._answer(401, {"message": "You are not authenticated."})
        elif "failing" in self.path:
            self._answer(500, {"oops": True})
        else:
            self._answer(200, {"ok": True})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Recorder.seen.append({"path": self.path, "body": self.rfile.read(length).decode()})
        self._answer(200, {"experiments": []})

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_credentials_in_the_url_go_as_basic_auth(server: str) -> None:
    client = MlflowHttp(f"http://ana:p%40ss@{server}/")
    assert client.get("experiments/get", {"experiment_id": "1", "skip": None}) == {"ok": True}
    (request,) = Recorder.seen
    assert request["path"] == "/api/2.0/mlflow/experiments/get?experiment_id=1"
    assert base64.b64decode(request["auth"].removeprefix("Basic ")) == b"ana:p@ss"
    assert "p@ss" not in client.base and "p%40ss" not in client.shown


def test_a_post_sends_json(server: str) -> None:
    assert MlflowHttp(f"http://{server}").post("experiments/search", {"max_results": 1}) == {
        "experiments": []
    }
    assert json.loads(Recorder.seen[0]["body"]) == {"max_results": 1}


def test_mlflows_own_errors_keep_their_code(server: str) -> None:
    client = MlflowHttp(f"http://{server}")
    with pytest.raises(NotFound, match="RESOURCE_DOES_NOT_EXIST: no run"):
        client.get("runs/get", {"run_id": "x"})
    with pytest.raises(StoreError, match=r"refused /api/2\.0/mlflow/failing: HTTP 500"):
        client.get("failing")


def test_nothing_listening_is_said_without_the_password() -> None:
    client = MlflowHttp(f"http://ana:S3CRET@127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="cannot reach the MLflow server") as caught:
        client.get("experiments/search")
    assert "S3CRET" not in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://host", "http://", "localhost:5000"])
def test_a_url_that_is_not_http(url: str) -> None:
    with pytest.raises(InvalidInput, match="HOST"):
        MlflowHttp(url)


def test_mlflows_login_variables_go_as_basic_auth(server: str) -> None:
    env = {"MLFLOW_TRACKING_USERNAME": "ana", "MLFLOW_TRACKING_PASSWORD": "S3CRET"}
    client = MlflowHttp(f"http://{server}", environ=env)
    client.get("guarded")
    assert base64.b64decode(Recorder.seen[0]["auth"].removeprefix("Basic ")) == b"ana:S3CRET"
    assert "S3CRET" not in client.shown + repr(vars(client).get("base"))


def test_mlflows_token_variable_goes_as_a_bearer_token(server: str) -> None:
    client = MlflowHttp(f"http://{server}", environ={"MLFLOW_TRACKING_TOKEN": "tok-123"})
    client.get("guarded")
    assert Recorder.seen[0]["auth"] == "Bearer tok-123"


def test_credentials_in_the_url_come_before_the_variables(server: str) -> None:
    client = MlflowHttp(f"http://bo:pw@{server}", environ={"MLFLOW_TRACKING_TOKEN": "tok-123"})
    client.get("guarded")
    assert Recorder.seen[0]["auth"].startswith("Basic ")


def test_a_server_that_needs_a_login_says_how_to_give_one(server: str) -> None:
    with pytest.raises(PermissionDenied, match=r"HTTP 401.*MLFLOW_TRACKING_USERNAME"):
        MlflowHttp(f"http://{server}", environ={}).get("guarded")
