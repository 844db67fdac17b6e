"""Side-by-side benchmark of model servers: ``mloop serve`` against MLflow, BentoML, uvicorn.

Usage (from the repository root, in the benchmark environment)::

    python bench/serving.py                      # full run: about 7 minutes
    python bench/serving.py --quick              # 1 round of 2 s points: a smoke test
    python bench/serving.py --only mloop,floor   # some servers only
    python bench/serving.py --json results.json  # also write every figure as JSON

Setting up the environment::

    python3 -m venv .bench-venv
    .bench-venv/bin/pip install -r bench/requirements.txt -e '.[serve,sklearn]'
    apt-get install wrk                          # the load generator (Debian's package)

Every server serves the same model: a ``LogisticRegression(max_iter=5000)`` fitted on
scikit-learn's breast-cancer table (569 rows, 30 float columns), written once by the
script in each server's own format, and each runs in its own process, with one worker,
bound to 127.0.0.1:

* ``mlflow``: ``mlflow models serve -m DIR --env-manager local --workers 1`` on the model
  saved by ``mlflow.sklearn.save_model``.
* ``bentoml``: ``bentoml serve service:Predictor`` on a service file the script writes:
  one worker, ``__init__`` unpickles the estimator, one sync API ``invocations`` whose
  parameter ``dataframe_split`` builds a DataFrame as the floor does and predicts.
* ``floor``: bare uvicorn + Starlette, the JSON parsed with ``json.loads``, its rows made
  one float64 array and a DataFrame of it (the estimator was fitted on named columns; a
  frame from the array costs about 45 us, from the nested lists about 210 us) and the raw
  (unpickled) estimator called once per request, in the event loop. Same uvicorn
  settings as ``mloop serve`` (httptools, uvloop, access log on).
* ``ceiling``: the same app, parsing the JSON but returning a constant without building a
  frame or calling the model: what HTTP and JSON alone cost.
* ``mloop``: ``mloop serve DIR`` on the model saved by ``mloop.models.save``, default
  settings (batching on).
* ``mloop+log``: the same with the prediction log on (its default), the configuration the
  goals are checked on; ``mloop`` runs with ``--no-prediction-log``, so the two rows give
  the log's cost.
* ``mloop+canary``: ``mloop serve bench-canary``, a deployment sending 10% of requests to a
  second version of the model (log on): what routing by a deployment costs.
* ``mloop+shadow`` (only with ``--only``): ``mloop serve bench-shadow``, every request
  copied to a second version whose answer is logged: the model's work doubles.

Every server gets the same request body, MLflow's ``dataframe_split`` (columns and one
row, 100 distinct rows in rotation), on ``POST /invocations``; the floor, the ceiling and
BentoML define their apps to take it too, so the JSON is the same size everywhere. Each
answer is checked once against the estimator's own prediction before the timing.

How it measures:

1. Start to ready: from spawning the process to the first 200 from its health endpoint
   (``/ping``; BentoML's ``/readyz``), polled every 5 ms. Each server is started alone,
   in turn, ``--starts`` times after one untimed start (bytecode caches); the median.
2. Throughput and latency: all servers up at once (idle ones use no CPU), then in each
   round, for c = 1, 8 and 32, each server gets ``--duration`` seconds of ``wrk`` with c
   connections, one thread, each connection sending its next request as soon as the last
   answer arrives. The servers' order rotates every round, so a burst of load from
   elsewhere hits them alike. Each server gets an untimed 2 s warm-up first. Figures are
   the medians over the rounds of wrk's req/s, p50 and p99.
3. 1,000-row latency: in each round, ``wrk`` with one connection posting the same
   1,000-row body for ``--duration`` seconds; p50 and p99.

With ``--pin`` (the default on a machine of 2 CPUs or more) every server runs on CPU 1
and ``wrk`` on CPU 0 (``taskset``), so the load generator never competes with the server
it measures, and each server, whatever threads it starts, has one core: what one worker
is given in a container of one CPU. Every server is stopped at the end (SIGTERM to its
process group, then SIGKILL), also on Ctrl-C or an error.

Ratios are "how many times better mloop does": rate(mloop) / rate(peer), or
time(peer) / time(mloop).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import os
import pickle
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import harness

REQUIREMENTS_HINT = "pip install -r bench/requirements.txt -e '.[serve,sklearn]'"
SERVERS = ("mlflow", "bentoml", "floor", "ceiling", "mloop", "mloop+log", "mloop+canary")
# Not in the default run: a shadow doubles the model's work (known by --only).
EXTRA_SERVERS = ("mloop+shadow",)
PENDING: dict[str, str] = {}
CONCURRENCY = (1, 8, 32)
DISTINCT_ROWS = 100
BIG_ROWS = 1000
READY_TIMEOUT = 180.0
PROFILE_CONNECTIONS = 8

FLOOR_APP = '''
"""Bare uvicorn + Starlette: the floor (the raw estimator per request) and the ceiling."""
import json
import pickle
import sys

import numpy as np
import pandas as pd
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

model_path, mode, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(model_path, "rb") as file:
    model = pickle.load(file)
CONSTANT = b'{"predictions": [0]}'


async def invocations(request):
    split = json.loads(await request.body())["dataframe_split"]
    if mode == "ceiling":
        return Response(CONSTANT, media_type="application/json")
    data = np.asarray(split["data"], dtype=np.float64)
    frame = pd.DataFrame(data, columns=split["columns"])
    body = json.dumps({"predictions": model.predict(frame).tolist()}).encode()
    return Response(body, media_type="application/json")


async def ping(request):
    return Response(b"\\n", media_type="text/plain")


app = Starlette(
    routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)]
)
uvicorn.run(app, host="127.0.0.1", port=port)
'''

BENTO_SERVICE = '''
"""A minimal BentoML service: the same estimator, one row (or more) per request."""
import pickle
from pathlib import Path
from typing import Any

import bentoml


@bentoml.service(workers=1)
class Predictor:
    def __init__(self) -> None:
        import numpy as np
        import pandas as pd

        self.np, self.pd = np, pd
        with (Path(__file__).parent / "model.pkl").open("rb") as file:
            self.model = pickle.load(file)

    @bentoml.api
    def invocations(self, dataframe_split: dict[str, Any]) -> dict[str, Any]:
        data = self.np.asarray(dataframe_split["data"], dtype=self.np.float64)
        frame = self.pd.DataFrame(data, columns=dataframe_split["columns"])
        return {"predictions": self.model.predict(frame).tolist()}
'''

WRK_SCRIPT = """
local bodies = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = wrk.format(
      "POST", args[2], {["Content-Type"] = "application/json"}, line)
  end
end

function request()
  counter = counter + 1
  return bodies[(counter % #bodies) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


# --------------------------------------------------------------------------- fixture


@dataclasses.dataclass(frozen=True)
class Fixture:
    """The model in every server's format, the request bodies and the expected answers."""

    root: Path
    mloop_model: Path
    mlflow_model: Path
    pickled: Path
    rows_file: Path
    big_file: Path
    first_body: bytes
    first_expected: list[Any]
    big_expected: list[Any]
    versions: dict[str, str]


def _split_body(frame: Any) -> str:
    split = frame.to_dict(orient="split")
    return json.dumps({"dataframe_split": {"columns": split["columns"], "data": split["data"]}})


def _register_deployments(home: Path, package: Path) -> None:
    """``bench-canary`` (the model at 90%, a second version of it at 10%) and ``bench-shadow``
    (the model, every request copied to the second version) in a store at ``home``."""
    code = f"""
import mloop, mloop.serving
for _ in range(2):
    mloop.models.register({str(package)!r}, "bench")
mloop.serving.create_deployment("bench-canary", "bench/1", canary="bench/2", canary_percent=10)
mloop.serving.create_deployment("bench-shadow", "bench/1", shadow="bench/2")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    env["MLOOP_HOME"] = str(home)
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def build_fixture(root: Path) -> Fixture:
    """Fit the model once and write it for every server, with the bodies they all get."""
    import bentoml
    import mlflow
    import mlflow.sklearn
    import sklearn
    import starlette
    import uvicorn
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    import mloop

    data = load_breast_cancer(as_frame=True).frame
    features = data.drop(columns="target")
    model = LogisticRegression(max_iter=5000).fit(features, data["target"])

    mloop_model = root / "mloop-model"
    mloop.models.save(model, mloop_model, input_example=features.head(3))
    _register_deployments(root / "mloop-home", mloop_model)
    mlflow_model = root / "mlflow-model"
    with warnings.catch_warnings():  # its hint about integer columns (the int prediction)
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(
            model,
            str(mlflow_model),
            input_example=features.head(3),
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
    pickled = root / "bento" / "model.pkl"
    pickled.parent.mkdir()
    pickled.write_bytes(pickle.dumps(model))
    (root / "bento" / "service.py").write_text(BENTO_SERVICE)
    (root / "floor_app.py").write_text(FLOOR_APP)
    (root / "wrk.lua").write_text(WRK_SCRIPT)

    rows = [_split_body(features.iloc[[i]]) for i in range(DISTINCT_ROWS)]
    rows_file = root / "rows.jsonl"
    rows_file.write_text("\n".join(rows) + "\n")
    big = features.sample(BIG_ROWS, replace=True, random_state=0)
    big_file = root / "big.jsonl"
    big_file.write_text(_split_body(big) + "\n")
    versions = {
        "mloop": mloop.__version__,
        "mlflow": mlflow.__version__,
        "bentoml": bentoml.__version__,
        "uvicorn": uvicorn.__version__,
        "starlette": starlette.__version__,
        "scikit-learn": sklearn.__version__,
    }
    return Fixture(
        root=root,
        mloop_model=mloop_model,
        mlflow_model=mlflow_model,
        pickled=pickled,
        rows_file=rows_file,
        big_file=big_file,
        first_body=rows[0].encode(),
        first_expected=model.predict(features.iloc[[0]]).tolist(),
        big_expected=model.predict(big).tolist(),
        versions=versions,
    )


# --------------------------------------------------------------------------- servers


@dataclasses.dataclass
class Server:
    """One server to start: its command, environment and health endpoint; its process once up."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    health: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def pending(self) -> str | None:
        return PENDING.get(self.name)


def _executable(name: str) -> str | None:
    """``name`` next to this interpreter (the benchmark venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOOP_", "MLFLOW_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # No network calls from any library while it is being timed.
    env.update(
        DO_NOT_TRACK="true",
        MLFLOW_DISABLE_TELEMETRY="true",
        BENTOML_DO_NOT_TRACK="true",
        BENTOML_HOME=str(root / "bentoml-home"),
        HOME=str(root / "home"),
        # As in an activated venv: MLflow starts `uvicorn` by name.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    )
    env.update(extra)
    return env


def build_servers(names: Sequence[str], fixture: Fixture, pin: bool) -> list[Server]:
    """The servers to compare, each with a free port (pending slots have no command)."""
    root = fixture.root
    (root / "home").mkdir(exist_ok=True)
    prefix = ["taskset", "-c", "1"] if pin else []
    servers = []
    for name in names:
        port = free_port()
        env = _environment(root)
        cwd = root
        health = "/ping"
        if name == "mlflow":
            mlflow = _executable("mlflow")
            if mlflow is None:
                raise RuntimeError(f"mlflow is not installed; {REQUIREMENTS_HINT}")
            argv = [mlflow, "models", "serve", "-m", str(fixture.mlflow_model)]
            argv += ["--env-manager", "local", "--workers", "1", "-h", "127.0.0.1", "-p", str(port)]
        elif name == "bentoml":
            bentoml = _executable("bentoml")
            if bentoml is None:
                raise RuntimeError(f"bentoml is not installed; {REQUIREMENTS_HINT}")
            argv = [bentoml, "serve", "service:Predictor", "--host", "127.0.0.1"]
            argv += ["--port", str(port)]
            cwd = fixture.pickled.parent
            health = "/readyz"
        elif name in ("floor", "ceiling"):
            argv = [sys.executable, str(root / "floor_app.py"), str(fixture.pickled), name]
            argv.append(str(port))
        elif name in ("mloop", "mloop+log", "mloop+canary", "mloop+shadow"):
            mloop = _executable("mloop")
            if mloop is None:
                raise RuntimeError(f"the mloop command is not installed; {REQUIREMENTS_HINT}")
            served = {"mloop+canary": "bench-canary", "mloop+shadow": "bench-shadow"}
            target = served.get(name, str(fixture.mloop_model))
            argv = [mloop, "serve", target, "--host", "127.0.0.1"]
            argv += ["--port", str(port)]
            env = _environment(root, MLOOP_HOME=str(root / "mloop-home"))
            if name == "mloop":
                argv.append("--no-prediction-log")
        else:
            raise ValueError(name)
        servers.append(Server(name, prefix + argv, env, cwd, health, port, root / f"{name}.log"))
    return servers


def _get(port: int, path: str, timeout: float = 2.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _post(port: int, body: bytes, timeout: float = 30.0) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        try:
            return response.status, json.loads(payload)
        except ValueError:
            return response.status, payload[:500]
    finally:
        connection.close()


def start(server: Server) -> float:
    """Spawn the server and wait for its health endpoint; seconds from spawn to the first 200."""
    log = server.log.open("ab")
    began = time.perf_counter()
    server.process = subprocess.Popen(
        server.argv,
        cwd=server.cwd,
        env=server.env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole, children too
    )
    log.close()
    deadline = began + READY_TIMEOUT
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited {server.process.returncode}: {_tail(server)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if _get(server.port, server.health, timeout=1.0) == 200:
                return time.perf_counter() - began
        time.sleep(0.005)
    raise RuntimeError(f"{server.name} not ready after {READY_TIMEOUT:.0f} s: {_tail(server)}")


def _tail(server: Server) -> str:
    text = server.log.read_text(errors="replace") if server.log.exists() else ""
    return "\n".join(text.strip().splitlines()[-15:])


def stop(server: Server) -> None:
    """SIGTERM to the server's process group, SIGKILL after 10 s; only what this script started."""
    process = server.process
    if process is None:
        return
    server.process = None
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children left behind (BentoML's workers)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


@contextlib.contextmanager
def stopped_at_exit(servers: Sequence[Server]) -> Iterator[None]:
    """Stop every server on leaving, also on Ctrl-C, SIGTERM or an error."""

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        for server in servers:
            stop(server)
        signal.signal(signal.SIGTERM, previous)


def check_answers(server: Server, fixture: Fixture) -> list[str]:
    """Problems with the server's answers to one row and to 1,000 rows (untimed)."""
    problems = []
    for body, expected in (
        (fixture.first_body, fixture.first_expected),
        (fixture.big_file.read_bytes().strip(), fixture.big_expected),
    ):
        status, payload = _post(server.port, body)
        got = payload.get("predictions") if isinstance(payload, dict) else payload
        if server.name == "ceiling":
            if status != 200:
                problems.append(f"answered {status}: {payload!r}")
        elif status != 200 or got != expected:
            problems.append(f"answered {status} {str(payload)[:200]!r}, expected {expected[:5]}")
    return problems


# --------------------------------------------------------------------------- load


def wrk_argv(
    server: Server, fixture: Fixture, bodies: Path, connections: int, seconds: float, pin: bool
) -> list[str]:
    """The wrk command for one point: one thread, ``connections`` connections, ``bodies``."""
    argv = ["taskset", "-c", "0"] if pin else []
    argv += ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s"]
    argv += ["-s", str(fixture.root / "wrk.lua"), f"http://127.0.0.1:{server.port}"]
    return [*argv, "--", str(bodies), "/invocations"]


def parse_wrk(stdout: str) -> dict[str, Any]:
    """wrk's summary, as the Lua script's ``done`` printed it, with req/s and all errors."""
    line = next((x for x in stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {stdout[-500:]}")
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return result


def run_wrk(
    server: Server, fixture: Fixture, bodies: Path, connections: int, seconds: float, pin: bool
) -> dict[str, Any]:
    """One wrk point against the server: its summary (req/s, latency percentiles, errors)."""
    argv = wrk_argv(server, fixture, bodies, connections, seconds, pin)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr[-500:]}")
    return parse_wrk(proc.stdout)


def profile_mloop(server: Server, fixture: Fixture, seconds: float, pin: bool) -> dict[str, Any]:
    """py-spy on ``mloop serve`` at c=8: CPU per request and where it goes, by stage."""
    import serving_profile

    def load(duration: float) -> subprocess.Popen[str]:
        argv = wrk_argv(server, fixture, fixture.rows_file, PROFILE_CONNECTIONS, duration, pin)
        return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)

    assert server.process is not None
    return serving_profile.profile_server(
        server.process.pid, load, lambda out: float(parse_wrk(out)["rps"]), seconds, pin
    )


def measure_startup(servers: Sequence[Server], starts: int) -> dict[str, list[float]]:
    """Each server started alone ``starts`` times (after one untimed start), in turn."""
    seconds: dict[str, list[float]] = {s.name: [] for s in servers}
    for attempt in range(starts + 1):
        order = servers if attempt % 2 == 0 else list(reversed(servers))
        for server in order:
            took = start(server)
            stop(server)
            if attempt > 0:
                seconds[server.name].append(took)
            print(f"  start {server.name}: {took:.2f} s", file=sys.stderr)
    return seconds


def measure_load(
    servers: Sequence[Server],
    fixture: Fixture,
    rounds: int,
    seconds: float,
    pin: bool,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Interleaved rounds of every (concurrency, server) point and the 1,000-row latency."""
    points: dict[str, dict[str, list[dict[str, Any]]]] = {s.name: {} for s in servers}
    for server in servers:
        run_wrk(server, fixture, fixture.rows_file, 8, 2, pin)  # warm-up, untimed
    for number in range(rounds):
        shift = number % len(servers)
        order = list(servers[shift:]) + list(servers[:shift])
        cases = [(f"c{c}", fixture.rows_file, c) for c in CONCURRENCY]
        cases.append(("rows1000", fixture.big_file, 1))
        for case, bodies, connections in cases:
            for server in order:
                point = run_wrk(server, fixture, bodies, connections, seconds, pin)
                points[server.name].setdefault(case, []).append(point)
                print(
                    f"  round {number + 1} {case:>8} {server.name:>9}: {point['rps']:8.0f} req/s"
                    f"  p50 {point['p50_us'] / 1000:6.2f} ms  p99 {point['p99_us'] / 1000:6.2f} ms"
                    + (f"  {point['errors']} errors" if point["errors"] else ""),
                    file=sys.stderr,
                )
    return points


def summarise(points: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds, with every round's figures kept."""
    return {
        "rps": statistics.median(p["rps"] for p in points),
        "p50_ms": statistics.median(p["p50_us"] for p in points) / 1000,
        "p99_ms": statistics.median(p["p99_us"] for p in points) / 1000,
        "errors": sum(p["errors"] for p in points),
        "rounds": list(points),
    }


# --------------------------------------------------------------------------- report


@dataclasses.dataclass(frozen=True)
class Row:
    """One goal line: mloop's figure against a peer's (a rate, a time in seconds, or a ratio)."""

    case: str
    label: str
    mloop: float | None
    peer_name: str
    peer: float | None
    kind: str  # "rate" (higher is better) or "time" (lower is better)
    goal_ratio: float | None = None  # mloop vs peer, at least
    goal_max: float | None = None  # mloop's time, at most (seconds)

    def ratio(self) -> float | None:
        if self.mloop is None or self.peer is None or self.mloop <= 0 or self.peer <= 0:
            return None
        return self.mloop / self.peer if self.kind == "rate" else self.peer / self.mloop

    def goal_text(self) -> str:
        if self.goal_ratio is not None:
            if self.goal_ratio < 1:
                return f">= {self.goal_ratio:.0%} of it"
            return f">= {self.goal_ratio:g}x"
        if self.goal_max is not None:
            return f"mloop <= {harness.seconds_text(self.goal_max)}"
        return ""

    def status(self) -> str:
        if self.goal_ratio is None and self.goal_max is None:
            return ""
        if self.goal_max is not None:
            return (
                "n/a" if self.mloop is None else "PASS" if self.mloop <= self.goal_max else "FAIL"
            )
        ratio = self.ratio()
        return "n/a" if ratio is None else "PASS" if ratio >= self.goal_ratio else "FAIL"  # type: ignore[operator]

    def cells(self) -> tuple[str, ...]:
        def text(value: float | None) -> str:
            if value is None:
                return "-"
            return f"{value:,.0f} req/s" if self.kind == "rate" else harness.seconds_text(value)

        ratio = self.ratio()
        return (
            self.label,
            text(self.mloop),
            self.peer_name,
            text(self.peer),
            "-" if ratio is None else f"{ratio:.3g}x",
            self.goal_text(),
            self.status(),
        )


def build_rows(summary: Mapping[str, Mapping[str, Any]]) -> list[Row]:
    """The goals of the serving issue, and the 1,000-row latency for information."""

    def get(name: str, case: str, key: str) -> float | None:
        found = summary.get(name, {}).get(case)
        if found is None or found.get(key) is None:
            return None
        value = float(found[key])
        return value / 1000 if key.endswith("_ms") else value

    rows = [
        Row(
            "c8",
            "req/s, c=8",
            get("mloop+log", "c8", "rps"),
            "mlflow",
            get("mlflow", "c8", "rps"),
            "rate",
            goal_ratio=10,
        ),
        Row(
            "c8",
            "req/s, c=8",
            get("mloop+log", "c8", "rps"),
            "bentoml",
            get("bentoml", "c8", "rps"),
            "rate",
            goal_ratio=5,
        ),
        Row(
            "c1",
            "req/s, c=1",
            get("mloop+log", "c1", "rps"),
            "floor",
            get("floor", "c1", "rps"),
            "rate",
            goal_ratio=0.7,
        ),
        Row(
            "c32",
            "req/s, c=32 (batching)",
            get("mloop+log", "c32", "rps"),
            "floor",
            get("floor", "c32", "rps"),
            "rate",
            goal_ratio=1.2,
        ),
        Row(
            "p99",
            "p99 latency, c=8",
            get("mloop+log", "c8", "p99_ms"),
            "floor",
            get("floor", "c8", "p99_ms"),
            "time",
            goal_max=0.010,
        ),
        Row(
            "c8",
            "req/s, c=8, prediction log on vs off",
            get("mloop+log", "c8", "rps"),
            "mloop",
            get("mloop", "c8", "rps"),
            "rate",
            goal_ratio=0.9,
        ),
        Row(
            "c8",
            "req/s, c=8, a deployment with a 10% canary vs one model",
            get("mloop+canary", "c8", "rps"),
            "mloop+log",
            get("mloop+log", "c8", "rps"),
            "rate",
        ),
        Row(
            "c8",
            "req/s, c=8, a deployment with a shadow vs one model",
            get("mloop+shadow", "c8", "rps"),
            "mloop+log",
            get("mloop+log", "c8", "rps"),
            "rate",
        ),
    ]
    for peer in ("mlflow", "bentoml", "floor"):
        rows.append(
            Row(
                "startup",
                "start to ready",
                get("mloop", "startup", "median_s"),
                peer,
                get(peer, "startup", "median_s"),
                "time",
                goal_max=1.5 if peer == "mlflow" else None,
            )
        )
    for peer in ("mlflow", "bentoml", "floor"):
        rows.append(
            Row(
                "rows1000",
                "1,000-row POST, p50",
                get("mloop", "rows1000", "p50_ms"),
                peer,
                get(peer, "rows1000", "p50_ms"),
                "time",
            )
        )
    return rows


def _grid(title: str, header: Sequence[str], lines: Sequence[Sequence[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
        print(title)
        for line in [header, ["-" * w for w in widths], *lines]:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        return
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for line in lines:
        table.add_row(*line)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 190))
    console.print(table)


def print_report(
    names: Sequence[str],
    summary: Mapping[str, Mapping[str, Any]],
    rows: Sequence[Row],
    footer: Sequence[str],
) -> None:
    """The figures per server and concurrency, then the goals."""
    header = ["server"]
    for c in CONCURRENCY:
        header += [f"c={c} req/s", f"c={c} p50", f"c={c} p99"]
    header += ["1,000 rows p50", "1,000 rows p99", "start to ready"]
    lines = []
    for name in names:
        found = summary.get(name, {})
        if name in PENDING:
            lines.append([name, *(["pending"] * (len(header) - 1))])
            continue
        line = [name]
        for c in CONCURRENCY:
            point = found.get(f"c{c}")
            if point is None:
                line += ["-", "-", "-"]
                continue
            line += [
                f"{point['rps']:,.0f}",
                f"{point['p50_ms']:.2f} ms",
                f"{point['p99_ms']:.2f} ms",
            ]
        big = found.get("rows1000")
        line += (
            ["-", "-"] if big is None else [f"{big['p50_ms']:.2f} ms", f"{big['p99_ms']:.2f} ms"]
        )
        up = found.get("startup")
        line.append("-" if up is None else f"{up['median_s']:.2f} s")
        lines.append(line)
    _grid("Model servers: one-row POSTs to /invocations (medians over rounds)", header, lines)
    harness.print_table("mloop serve: the serving goals", [r.cells() for r in rows], footer)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s points, 1 start")
    parser.add_argument(
        "--only", help=f"comma-separated servers to run (default: all of {','.join(SERVERS)})"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all results as JSON")
    parser.add_argument("--rounds", type=int, help="rounds of every load point (default 3)")
    parser.add_argument("--duration", type=float, help="seconds per load point (default 5)")
    parser.add_argument("--starts", type=int, help="timed starts per server (default 3)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the timing, sample mloop serve at c=8 with py-spy and print where the "
        "time goes per request (pip install py-spy)",
    )
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="servers on CPU 1 and wrk on CPU 0 (default: on with 2 CPUs or more)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = SERVERS if not args.only else tuple(n.strip() for n in args.only.split(","))
    unknown = sorted(set(names) - set(SERVERS) - set(EXTRA_SERVERS))
    if unknown:
        known = ", ".join((*SERVERS, *EXTRA_SERVERS))
        print(f"unknown server(s) {unknown}; choose from {known}", file=sys.stderr)
        return 2
    rounds = args.rounds or (1 if args.quick else 3)
    duration = args.duration or (2.0 if args.quick else 5.0)
    starts = args.starts or (1 if args.quick else 3)
    cpus = len(os.sched_getaffinity(0))
    pin = args.pin if args.pin is not None else cpus >= 2
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    if pin and shutil.which("taskset") is None:
        print("taskset is missing: pass --no-pin", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    notes: list[str] = []
    summary: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        try:
            fixture = build_fixture(Path(tmp))
        except ImportError as err:
            print(f"{err}; {REQUIREMENTS_HINT}", file=sys.stderr)
            return 2
        try:
            servers = build_servers(names, fixture, pin)
        except RuntimeError as err:
            print(err, file=sys.stderr)
            return 2
        runnable = [s for s in servers if s.pending is None]
        with stopped_at_exit(servers):
            print(f"start to ready, {starts} starts each ...", file=sys.stderr)
            startup = measure_startup(runnable, starts)
            print("starting every server for the load ...", file=sys.stderr)
            for server in runnable:
                start(server)
                for problem in check_answers(server, fixture):
                    notes.append(f"NOTE: {server.name} {problem}")
            print(f"load: {rounds} round(s) of {duration:g} s points ...", file=sys.stderr)
            points = measure_load(runnable, fixture, rounds, duration, pin)
            load_after = os.getloadavg()[0]
            for server in runnable:
                if server.process is not None and server.process.poll() is not None:
                    notes.append(f"NOTE: {server.name} exited during the load: {_tail(server)}")
            profile = None
            mloop = next((s for s in runnable if s.name == "mloop"), None)
            if args.profile and mloop is not None:
                print("profiling mloop serve ...", file=sys.stderr)
                try:
                    profile = profile_mloop(mloop, fixture, max(2 * duration, 5.0), pin)
                except RuntimeError as err:
                    notes.append(f"NOTE: no profile: {err}")
        for server in runnable:
            found = summary.setdefault(server.name, {"version": _version_of(server.name, fixture)})
            for case, values in points[server.name].items():
                found[case] = summarise(values)
                if found[case]["errors"]:
                    notes.append(f"NOTE: {server.name} {case}: {found[case]['errors']} errors")
            found["startup"] = {
                "median_s": statistics.median(startup[server.name]),
                "all_s": startup[server.name],
            }
        for name, why in PENDING.items():
            if name in names:
                summary[name] = {"pending": why}
    total = time.perf_counter() - started
    if max(load_before, load_after) > cpus / 2:
        notes.append(
            f"NOTE: the machine was busy (load average {load_before:.1f} before the run, "
            f"{load_after:.1f} after the load; the run itself adds about 1.5): read the rounds' "
            "spread in the JSON before the medians"
        )
    rows = build_rows(summary)
    footer = [
        *notes,
        f"One-row bodies: MLflow's dataframe_split, {len(fixture.first_body)} bytes, "
        f"{DISTINCT_ROWS} distinct rows in rotation; same body for every server.",
        f"Each point: wrk, 1 thread, {duration:g} s; medians over {rounds} interleaved round(s). "
        f"Start to ready: median of {starts} start(s) each.",
        ("Pinned: every server on CPU 1, wrk on CPU 0 (taskset)." if pin else "Not pinned."),
        "mloop runs with --no-prediction-log; mloop+log with the log on (the default).",
        "Ratios: rate(mloop) / rate(peer); time(peer) / time(mloop). Higher is better for mloop.",
        f"Versions: {', '.join(f'{k} {v}' for k, v in fixture.versions.items())}",
        f"Total wall time: {total:.1f} s",
    ]
    if profile is not None:
        import serving_profile

        footer += serving_profile.report_lines(profile, PROFILE_CONNECTIONS)
    print_report(names, summary, rows, footer)
    if args.json:
        meta = {
            "rounds": rounds,
            "duration_seconds": duration,
            "starts": starts,
            "pinned": pin,
            "load_average_before": load_before,
            "load_average_after_load": load_after,
            "profile": profile,
            "body_bytes": len(fixture.first_body),
            "versions_all": fixture.versions,
            "total_seconds": total,
        }
        harness.write_results(
            args.json, {k: {"serving": v} for k, v in summary.items()}, rows, notes, meta
        )
    return 0


def _version_of(name: str, fixture: Fixture) -> str | None:
    key = {"floor": "uvicorn", "ceiling": "uvicorn"}.get(name, name)
    key = "mloop" if key.startswith("mloop") else key
    return fixture.versions.get(key)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every server started was stopped", file=sys.stderr)
        sys.exit(130)
