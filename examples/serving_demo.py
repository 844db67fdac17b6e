"""The demo's serving section: the champion and the challenger behind HTTP with ``mloop serve``.

``make demo`` calls :func:`serve_models` from ``quickstart.py`` once the
registry holds ``credit@champion`` and ``credit@challenger``, then
:func:`canary_taken_out`: a deployment whose canary the server judges on
live traffic.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
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


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, as an orchestrator stops a server; killed if it has not stopped in 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


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
        _stop(process)
    print(f"   SIGTERM: in-flight requests answered, server stopped (status {process.returncode})")


class _Callers:
    """Applicants sent to a deployment one after another, until stopped; who answered each."""

    def __init__(self, url: str, rows: list[dict[str, float]]) -> None:
        self.url, self.rows = url, rows
        self.versions: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            row = self.rows[index % len(self.rows)]
            index += 1
            try:
                status, headers, _ = _call(f"{self.url}/invocations", {"dataframe_records": [row]})
            except OSError:
                continue
            self.versions.append(headers.get("x-model-version", "-") if status == 200 else "error")

    def share(self, since: int, version: str) -> str:
        recent = self.versions[since:]
        return f"{sum(v == version for v in recent) / max(1, len(recent)):.0%} of {len(recent)}"

    def __enter__(self) -> _Callers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def canary_taken_out(mloop_cli: str) -> None:
    """Section 21: a deployment serves the champion; a buggy canary gets traffic and is judged
    on it, then taken out by the server's canary analysis, with the evidence recorded."""
    import mloop
    import mloop.serving

    print("21. Deployments: a canary judged on live traffic, and taken out when it misbehaves")
    frame = mloop.data.get("credit@raw").to_pandas()
    features = frame[["income", "debt"]]
    rows = features.head(200).to_dict(orient="records")
    # A retrained model with a bug: it gives every applicant the champion's rarer answer.
    from sklearn.dummy import DummyClassifier

    answers = list(mloop.models.load("models:/credit@champion").predict(features))
    rarer = min(set(answers) | {0, 1}, key=answers.count)
    buggy = DummyClassifier(strategy="constant", constant=rarer).fit(features, frame["label"])
    mloop.set_experiment("credit-models")
    with mloop.start_run(run_name="retrained-with-a-bug"):
        info = mloop.models.log_model(
            buggy, "model", input_example=features[:3], registered_model_name="credit"
        )
    assert info.registered_version is not None
    canary = f"credit/{info.registered_version.version}"
    [protection] = [p for p in mloop.models.protections("credit") if p.alias == "champion"]
    mloop.models.protect_alias(
        "credit", "champion", approvals=protection.approvals, gates=protection.gates,
        allow_canary=True,
    )  # fmt: skip
    print("   credit@champion now lets deployments try unapproved versions on a share of traffic")

    def cli(*args: str) -> None:
        print(f"   $ mloop {' '.join(args)}")
        subprocess.run([mloop_cli, *args], check=True)

    cli("deploy", "create", "credit-api", "--model", "credit@champion", "--reason", "go live")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [mloop_cli, "serve", "credit-api", "--port", str(port), "--refresh", "0.3"]
    print(f"   $ mloop {' '.join(command[1:])}")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(url, process)
        with _Callers(url, rows) as callers:
            time.sleep(1.0)
            champion = mloop.models.get_version("credit@champion").version
            print(f"   callers: {callers.share(0, str(champion))} answers from the champion")
            cli(
                "deploy", "policy", "credit-api", "--steps", "20,50", "--min-requests", "40",
                "--min-seconds", "1", "--interval", "0.5",
            )  # fmt: skip
            cli("deploy", "set", "credit-api", "--canary", f"{canary}:20", "--reason", "retrained")
            began = len(callers.versions)
            deadline = time.monotonic() + 60
            history = mloop.serving.deployment_history("credit-api")
            while history[-1].action != "abort" and time.monotonic() < deadline:
                time.sleep(0.25)
                history = mloop.serving.deployment_history("credit-api")
            label = canary.split("/")[1]
            print(f"   from the change to the decision, the canary answered "
                  f"{callers.share(began, label)} requests")  # fmt: skip
            verdict = history[-1]
            if verdict.action == "abort" and verdict.evidence is not None:
                print(
                    "   the server's canary analysis rolled it back (abort): "
                    f"{verdict.evidence['reason']}"
                )
            else:
                print("   the canary analysis made no decision within a minute")
            time.sleep(1.0)  # the server follows the change
            after = len(callers.versions)
            time.sleep(1.0)
            print(f"   afterwards: {callers.share(after, str(champion))} answers from the champion")
        cli("deploy", "history", "credit-api")
    finally:
        _stop(process)
