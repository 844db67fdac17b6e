"""The demo's closing of the loop, unattended: watch, alert, retrain, gate, canary, promote.

``make demo`` calls :func:`close_the_loop` from ``quickstart.py`` once the
deployment ``credit-api`` serves ``credit@champion``. The demo serves it,
starts a webhook receiver and ``mloop agent``, and sends applicants. A
monitor watches the traffic; when the applicants' incomes move, it alerts,
and a policy retrains on the newly versioned data, gates the candidate,
waits for a reviewer's approval, canaries it and promotes it. Then a
second policy's candidate, which leaks a column known only after a loan
ends, shines in its gate, fails on live requests, and the canary analysis
rolls it back. Nothing but the reviewer's approval is done by hand.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from serving_demo import _call, _Callers, _free_port, _stop, _wait_ready


class Receiver:
    """A webhook receiver on 127.0.0.1: prints each alert it gets."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                for alert in body.get("alerts", []):
                    owner.alerts.append(alert)
                    print(f"   webhook got: {alert['name']} {alert['state']}: {alert['summary']}")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)


class Agent:
    """``mloop agent`` in the background; its lines printed as they come."""

    def __init__(self, mloop_cli: str, env: dict[str, str]) -> None:
        command = [mloop_cli, "agent", "--tick", "0.5"]
        print(f"   $ mloop {' '.join(command[1:])} &")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            print(f"   agent: {line.rstrip()}")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.lines)
        while not any(text in line for line in self.lines[start:]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the agent printed no {text!r} in {timeout:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        _stop(self.process)
        self._thread.join(10)


def _send(url: str, rows: list[dict[str, float]], batch: int = 20) -> None:
    for start in range(0, len(rows), batch):
        body = {"dataframe_records": rows[start : start + batch]}
        status, _, text = _call(f"{url}/invocations", body)
        if status != 200:
            raise RuntimeError(f"the deployment answered {status}: {text}")


def _cli(mloop_cli: str, *args: str, env: dict[str, str], user: str | None = None) -> None:
    who = f"MLOOP_USER={user} " if user else ""
    print(f"   $ {who}mloop {' '.join(args)}")
    subprocess.run(
        [mloop_cli, *args], check=True, env={**env, **({"MLOOP_USER": user} if user else {})}
    )


def _wait_run(name: str, done: tuple[str, ...], timeout: float = 90) -> Any:
    """The newest run of policy ``name`` once its status is one of ``done``."""
    from mloop.automation import policy_runs

    deadline = time.monotonic() + timeout
    while True:
        runs = policy_runs.list_runs(name, limit=1)
        if runs and runs[0].status in done:
            return runs[0]
        if time.monotonic() > deadline:
            status = runs[0].status if runs else "no run"
            raise RuntimeError(f"policy {name}: {status} after {timeout:.0f} s")
        time.sleep(0.2)


POLICY = """\
name: {name}
trigger: {trigger}
dataset: credit
pipeline:
  file: {pipeline}
  pipeline: retrain
  params: {{data: "${{dataset}}", features: "{features}"}}
model: credit
gate:   # what the champion's protection asks for (section 10)
  rules: ["roc_auc >= champion.roc_auc - 0.01", "dp_diff <= 0.25"]
  data: "${{dataset}}"
  targets: label
  sensitive: [region]
deploy:
  deployment: credit-api
  canary_percent: 20
  # A model retrained because the world moved is meant to answer differently from the
  # champion: its canary is judged on errors and latency, not on how far its answers move.
  analysis: {{steps: [20, 50], min_requests: 40, min_seconds: 1, interval_seconds: 0.5,
             max_latency_ratio: 20, latency_grace_ms: 500, max_shift: 1.0}}
notify:
  - {{kind: webhook, url: "${{DEMO_HOOK_URL}}"}}
"""


def _moved(frame: Any, seed: int) -> Any:
    """Applicants whose incomes moved up by 60%, with the outcome of each loan."""
    import numpy as np

    rng = np.random.default_rng(seed)
    moved = frame[["income", "debt", "region"]].assign(income=frame["income"] * 1.6)
    moved["label"] = (moved["income"] - 1.5 * moved["debt"] + rng.normal(0, 8, len(moved))) > 40
    moved["label"] = moved["label"].astype(int)
    # Known only once a loan has ended: a model must not read it.
    moved["repaid"] = moved["label"] * rng.uniform(0.8, 1.0, len(moved))
    return moved


def close_the_loop(mloop_cli: str, work: Path) -> None:
    """Sections 23 to 25: watch live traffic, retrain on drift, roll a leaky candidate back."""
    import os

    import mloop

    print("23. Monitoring live traffic: the agent runs a monitor; drift alerts a webhook")
    frame = mloop.data.get("credit@raw").to_pandas()
    usual = frame[["income", "debt"]].to_dict(orient="records")
    moved = _moved(frame, seed=3)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [mloop_cli, "serve", "credit-api", "--port", str(port), "--refresh", "0.3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with Receiver() as receiver:
        env = {**os.environ, "DEMO_HOOK_URL": receiver.url}
        _cli(
            mloop_cli, "monitor", "create", "credit-watch", "--target", "deployment:credit-api",
            "--reference", "credit@raw", "--schedule", "4s", "--check", "drift",
            "--check", "quality", "--rule", "drift_share > 0.3",
            "--notify", '{"kind": "webhook", "url": "${DEMO_HOOK_URL}"}', env=env,
        )  # fmt: skip
        pipeline = Path(__file__).with_name("retraining.py")
        for name, trigger, features in (
            ("retrain-credit", "{on: alert, monitor: credit-watch}", "income,debt"),
            ("retrain-leaky", '{on: schedule, cron: "0 0 1 1 *"}', "income,debt,repaid"),
        ):
            spec = work / f"{name}.yaml"
            spec.write_text(
                POLICY.format(name=name, trigger=trigger, pipeline=pipeline, features=features)
            )
            _cli(mloop_cli, "policy", "create", str(spec), env=env)
        print("   retrain-credit: on credit-watch's alerts, retrain on the newest credit data,")
        print("   gate against the champion, canary at 20%, promote if the canary holds up")
        agent = None
        try:
            _wait_ready(url, server)
            _send(url, usual)
            agent = Agent(mloop_cli, env)
            agent.wait_for("credit-watch: ok")
            print("   the world changes: incomes move up by 60%; the outcomes are versioned")
            path = work / "credit-moved.csv"
            moved.to_csv(path, index=False)
            _cli(mloop_cli, "data", "add", str(path), "--name", "credit", env=env)
            rows = moved[["income", "debt"]].to_dict(orient="records")
            with _Callers(url, rows):
                agent.wait_for("credit-watch: alerting")

                print("24. The loop closes: the alert retrains, gates, waits for approval,")
                print("    canaries and promotes, with nobody at the keyboard but the reviewer")
                waiting = _wait_run("retrain-credit", ("waiting-approval", "failed"))
                candidate = next(s["ref"] for s in waiting.chain if s["step"] == "model-version")
                version = candidate.split("/")[1]
                _cli(mloop_cli, "models", "approve", "credit", version, "-m", "retrained on the "
                     "moved applicants", env=env, user="risk-officer")  # fmt: skip
                done = _wait_run("retrain-credit", ("succeeded", "failed", "rolled-back"))
                _cli(mloop_cli, "policy", "show", done.run_id, env=env)

                print("25. A leaky candidate: it reads `repaid`, known only after a loan ends;")
                print("    its gate looks perfect, live requests fail: the canary is rolled back")
                leaky = ["policy", "run", "retrain-leaky", "--dataset", "credit@latest"]
                print(f"   $ mloop {' '.join(leaky)}")
                subprocess.run([mloop_cli, *leaky], check=False, env=env)
                waiting = _wait_run("retrain-leaky", ("waiting-approval", "failed"))
                bad = next(s["ref"] for s in waiting.chain if s["step"] == "model-version")
                _cli(mloop_cli, "models", "approve", "credit", bad.split("/")[1], "-m",
                     "gate passed", env=env, user="risk-officer")  # fmt: skip
                rolled = _wait_run("retrain-leaky", ("succeeded", "failed", "rolled-back"))
                print(f"   retrain-leaky: {rolled.status}: {rolled.error}")
            champion = mloop.models.get_version("credit@champion")
            retrained = " (retrained on the moved applicants)" if champion.ref == candidate else ""
            print(f"   credit@champion is {champion.ref}{retrained}")
            fired = [f"{a['name']} {a['state']}" for a in receiver.alerts]
            print(f"   the webhook got {len(fired)} message(s): {', '.join(fired)}")
        finally:
            if agent is not None:
                agent.stop()
            _stop(server)
