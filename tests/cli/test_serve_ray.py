"""``mloop serve --executor ray``'s code path: errors before Ray, a real local Ray until SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.cli import serve_ray
from mloop.errors import InvalidInput, NotFound
from mloop.serving.server import ServerSettings


def _model(home: Path) -> str:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    path = home.parent / "iris"
    mloop.models.save(LogisticRegression().fit(frame, [0, 0, 1, 1]), path, input_example=frame)
    return str(path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_bad_options_and_missing_models_are_refused_before_ray_starts(home: Path) -> None:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    pytest.importorskip("ray.serve", reason="Ray Serve's dependencies are not installed")
    common = {"host": "127.0.0.1", "port": 8080, "address": None}
    with pytest.raises(InvalidInput, match="--replicas must be at least 1"):
        serve_ray.serve_on_ray([("iris", _model(home))], ServerSettings(), replicas=0, **common)
    with pytest.raises(NotFound):
        serve_ray.serve_on_ray(
            [("gone", str(home / "nope"))], ServerSettings(), replicas=2, **common
        )
    assert not ray.is_initialized()


@pytest.mark.slow
def test_serves_on_a_local_ray_until_sigterm(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    pytest.importorskip("ray.serve", reason="Ray Serve's dependencies are not installed")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    said: list[str] = []
    serving = threading.Event()

    def say(text: str, **_: object) -> None:  # what the command prints, as it prints it
        said.append(text)
        if text.startswith("serving "):
            serving.set()

    monkeypatch.setattr(serve_ray, "say", say)
    answers: list[object] = []

    def client() -> None:
        """Ask once the command says it serves, then stop it as a supervisor would."""
        try:
            if serving.wait(240):
                body = {
                    "dataframe_split": {"columns": ["a", "b"], "data": [[0.0, 1.0], [3.0, 0.0]]}
                }
                answers.append(httpx.post(f"{url}/invocations", json=body, timeout=30).json())
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=client, daemon=True)
    helper.start()
    before = signal.getsignal(signal.SIGTERM)
    serve_ray.serve_on_ray(
        [("iris", _model(home))],
        ServerSettings(),
        host="127.0.0.1",
        port=port,
        replicas=1,
        address=None,
    )
    helper.join(10)
    assert answers == [{"predictions": [0, 1]}]
    assert said[0].startswith("serving iris (")
    assert said[0].endswith(f"on {url} with 1 replica on a local Ray")
    assert said[1].startswith("stopping")
    assert not ray.is_initialized()  # the Ray it started is stopped
    assert signal.getsignal(signal.SIGTERM) == before
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/ping", timeout=2)
