"""The demo's serving section: the champion and the challenger behind HTTP with ``mloop serve``.

``make demo`` calls :func:`serve_models` from ``quickstart.py`` once the
registry holds ``credit@champion`` and ``credit@challenger``.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: Any = None) -> tuple[int, dict[str, str], str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def _wait_ready(url: str, process: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"mloop serve stopped: {process.communicate()[1]}")
        try:
            if _call(f"{url}/ping")[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)


def serve_models(mloop_cli: str) -> None:
    """Section 20: serve, predict in two protocols, a bad request, an alias move, metrics, stop."""
    print("20. Serving: the champion and the challenger behind HTTP")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        mloop_cli,
        "serve",
        "models:/credit@champion",
        "models:/credit@challenger=challenger",
        "--port",
        str(port),
        "--refresh",
        "0.5",
    ]
    print(f"   $ mloop {' '.join(command[1:])}")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        print(f"   ready in {_wait_ready(url, process):.1f} s (models loaded and verified)")
        applicant = {"income": 64.0, "debt": 12.5}
        status, headers, body = _call(
            f"{url}/models/credit/invocations", {"dataframe_records": [applicant]}
        )
        print(
            f"   POST /models/credit/invocations (MLflow's protocol): {status} {body}"
            f" from version {headers.get('x-model-version')}"
        )
        v2 = {
            "inputs": [
                {"name": "income", "shape": [1], "datatype": "FP64", "data": [64.0]},
                {"name": "debt", "shape": [1], "datatype": "FP64", "data": [12.5]},
            ]
        }
        status, _, body = _call(f"{url}/v2/models/challenger/infer", v2)
        outputs = json.loads(body)["outputs"] if status == 200 else body
        print(f"   POST /v2/models/challenger/infer (Open Inference V2): {status} {outputs}")
        status, _, body = _call(
            f"{url}/models/credit/invocations",
            {"dataframe_records": [{"income": "a lot", "debt": 12.5}]},
        )
        print(f"   a bad request: {status} {json.loads(body)['message']}")

        before = _call(f"{url}/models/challenger/predict", [applicant])[1]["x-model-version"]
        subprocess.run(
            [mloop_cli, "models", "alias", "credit", "challenger", "1", "--reason", "retry v1"],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 30
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.2)
            after = _call(f"{url}/models/challenger/predict", [applicant])[1]["x-model-version"]
        print(
            f"   challenger moved to credit/1: the server answers with version {before} -> {after}"
        )

        metrics = _call(f"{url}/metrics")[2].splitlines()
        shown = [line for line in metrics if line.startswith("mloop_requests_total{")]
        print("   GET /metrics:")
        for line in shown:
            print(f"     {line}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    print(f"   SIGTERM: in-flight requests answered, server stopped (status {process.returncode})")
