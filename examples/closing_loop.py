"""The demo's closing of the loop: a live deployment watched by a monitor, run by the agent.

``make demo`` calls :func:`watch_live_traffic` from ``quickstart.py`` once the
deployment ``credit-api`` serves ``credit@champion``: the demo serves it,
starts a webhook receiver and ``mloop agent``, sends applicants like the
training data, then applicants whose incomes moved, and shows the alert the
monitor sends and then resolves.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from serving_demo import _call, _free_port, _stop, _wait_ready


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
        status, _, text = _call(
            f"{url}/invocations", {"dataframe_records": rows[start : start + batch]}
        )
        if status != 200:
            raise RuntimeError(f"the deployment answered {status}: {text}")


def watch_live_traffic(mloop_cli: str, env: dict[str, str]) -> None:
    """Section 23: a monitor on the live deployment, run by the agent, alerts through a webhook."""
    import mloop

    print("23. Monitoring live traffic: drift fires an alert to a webhook, then resolves")
    frame = mloop.data.get("credit@raw").to_pandas()
    usual = frame[["income", "debt"]].to_dict(orient="records")
    moved = frame[["income", "debt"]].assign(income=frame["income"] * 1.6).to_dict(orient="records")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [mloop_cli, "serve", "credit-api", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with Receiver() as receiver:
        hooked = {**env, "DEMO_HOOK_URL": receiver.url}
        create = [
            "monitor", "create", "credit-watch", "--target", "deployment:credit-api",
            "--reference", "credit@raw", "--schedule", "4s", "--check", "drift",
            "--check", "quality", "--rule", "drift_share > 0.3",
            "--notify", '{"kind": "webhook", "url": "${DEMO_HOOK_URL}"}',
        ]  # fmt: skip
        print(f"   $ mloop {' '.join(create)}")
        subprocess.run([mloop_cli, *create], check=True, env=hooked)
        agent = None
        try:
            _wait_ready(url, server)
            _send(url, usual)  # already in the first window
            agent = Agent(mloop_cli, hooked)
            agent.wait_for("credit-watch: ok")
            print("   applicants' incomes move up by 60%")
            time.sleep(2.0)  # the next window starts without the usual applicants
            _send(url, moved)
            agent.wait_for("credit-watch: alerting")
            time.sleep(2.0)
            _send(url, usual)
            agent.wait_for("credit-watch: ok")
            fired = [a["state"] for a in receiver.alerts]
            print(f"   the webhook got {len(fired)} message(s): {', '.join(fired)}")
        finally:
            if agent is not None:
                agent.stop()
            _stop(server)
    args = ["monitor", "report", "credit-watch"]
    print(f"   $ mloop {' '.join(args)}")
    subprocess.run([mloop_cli, *args], check=True, env=env)
