"""Start to ready: ``mloop serve`` against ``mlflow models serve``, on the same model.

Usage (from the repository root)::

    python bench/serve_startup.py                  # 7 rounds
    python bench/serve_startup.py --rounds 11
    python bench/serve_startup.py --mlflow-python /path/to/venv/bin/python

The model: scikit-learn's LogisticRegression fitted on the breast-cancer table, as
the serving tests use it. mloop serves it from a store (registered, signed, so the
package is verified before it loads: ``models:/cancer/1``); MLflow from the folder
``mlflow.sklearn.save_model`` wrote, with ``--env-manager local``. Both are started
as a user starts them, and "ready" is the first ``GET /ping`` answered 200 (both
servers have it), polled every 10 ms. The sides run interleaved, round after
round, after one untimed start each (so bytecode caches exist); each figure is the
median. Goal: mloop <= 1.5 s.

MLflow runs from its own virtual environment (default ``.mlflow-venv`` next to the
running interpreter's venv, else ``--mlflow-python``); without one, mloop is timed
alone and the report says so.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

GOAL_SECONDS = 1.5

MLOOP_MODEL = """
import sys
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
import mloop
data = load_breast_cancer(as_frame=True).frame
features = data.drop(columns="target")
model = LogisticRegression(max_iter=5000).fit(features, data["target"])
mloop.models.init_keys()
with mloop.start_run():
    info = mloop.models.log_model(model, "model", input_example=features.head(3))
mloop.models.register(info, "cancer")
"""

MLFLOW_MODEL = """
import sys
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
import mlflow.sklearn
data = load_breast_cancer(as_frame=True).frame
features = data.drop(columns="target")
model = LogisticRegression(max_iter=5000).fit(features, data["target"])
mlflow.sklearn.save_model(model, sys.argv[1], input_example=features.head(3))
"""


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOOP_", "MLFLOW_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(DO_NOT_TRACK="true", MLFLOW_DISABLE_TELEMETRY="true")
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_to_ready(argv: list[str], env: dict[str, str], port: int, cwd: Path) -> float:
    """Seconds from starting the server process to its first 200 on /ping; then stops it."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # MLflow's server runs in a child process: stop the group
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as reply:
                    if reply.status == 200:
                        return time.perf_counter() - started
            except OSError:
                if proc.poll() is not None:
                    _, err = proc.communicate()
                    raise RuntimeError(
                        f"{argv[0]} exited {proc.returncode}: {err[-1500:]!r}"
                    ) from None
                time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def mlflow_python(given: str | None) -> Path | None:
    """The interpreter of MLflow's venv, if there is one."""
    if given:
        return Path(given)
    venv = Path(sys.prefix)
    for candidate in (venv.parent / ".mlflow-venv", Path.cwd() / ".mlflow-venv"):
        python = candidate / "bin" / "python"
        if python.exists():
            return python
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--mlflow-python", help="the python of a venv where mlflow is installed")
    args = parser.parse_args(argv)
    peer = mlflow_python(args.mlflow_python)
    with tempfile.TemporaryDirectory(prefix="bench-serve-startup-") as tmp:
        root = Path(tmp)
        home = root / "mloop"
        mloop_env = _environment(
            MLOOP_HOME=str(home),
            MLOOP_TRACKING_URI=f"sqlite:///{home}/mloop.db",
            MLOOP_ARTIFACTS_URI=str(home / "artifacts"),
        )
        subprocess.run([sys.executable, "-c", MLOOP_MODEL], env=mloop_env, check=True, cwd=root)
        sides: dict[str, tuple[list[str], dict[str, str]]] = {}

        def mloop_argv(port: int) -> list[str]:
            return [sys.executable, "-m", "mloop", "serve", "models:/cancer/1", "--port", str(port)]

        sides["mloop"] = ([], mloop_env)
        if peer is not None:
            folder = root / "mlflow-model"
            subprocess.run(
                [str(peer), "-c", MLFLOW_MODEL, str(folder)], env=_environment(), check=True
            )
            # MLflow starts `uvicorn` from PATH: its own venv's.
            path = f"{peer.parent}{os.pathsep}{os.environ.get('PATH', '')}"
            sides["mlflow"] = ([str(folder)], _environment(PATH=path))

        def command(side: str, port: int) -> list[str]:
            if side == "mloop":
                return mloop_argv(port)
            folder = sides["mlflow"][0][0]
            mlflow = [str(peer), "-m", "mlflow", "models", "serve", "-m", folder]
            return [*mlflow, "--env-manager", "local", "--port", str(port)]

        timings: dict[str, list[float]] = {side: [] for side in sides}
        for round_ in range(args.rounds + 1):
            for side, (_, env) in sides.items():
                port = _free_port()
                seconds = start_to_ready(command(side, port), env, port, root)
                if round_ > 0:  # the first round warms bytecode caches
                    timings[side].append(seconds)
            print(f"round {round_}/{args.rounds} done", file=sys.stderr)
    medians = {side: statistics.median(values) for side, values in timings.items()}
    for side, values in timings.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"{side:7} median {medians[side]:.2f} s   (all: {shown})")
    if "mlflow" in medians:
        print(f"ratio: mlflow / mloop = {medians['mlflow'] / medians['mloop']:.2f}x")
    else:
        print("mlflow: not measured (no .mlflow-venv found; pass --mlflow-python)")
    verdict = "PASS" if medians["mloop"] <= GOAL_SECONDS else "FAIL"
    print(f"goal: mloop <= {GOAL_SECONDS} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
