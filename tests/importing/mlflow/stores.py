"""MLflow stores written by the real MLflow, in a venv of its own (``make pytest`` builds it).

``MLOOP_TEST_MLFLOW_PYTHON`` names that venv's interpreter. Unset: the tests
that need MLflow are skipped (say how to run them); set but broken: they fail.
Each kind of store is written once per test module.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

MLFLOW_PYTHON_ENV = "MLOOP_TEST_MLFLOW_PYTHON"
WRITER = Path(__file__).with_name("write_store.py")
SERVER_START_SECONDS = 40.0


@dataclass(frozen=True)
class MlflowStore:
    """A store MLflow wrote: what to import it from, and the MLflow run ids by run name."""

    source: str
    ids: dict[str, str]
    server: str | None = None
    database: str | None = None  # a server's backend store


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    """The MLflow test interpreter; skipped when unset, a failure when it cannot run MLflow."""
    python = os.environ.get(MLFLOW_PYTHON_ENV)
    if not python:
        pytest.skip(
            f"{MLFLOW_PYTHON_ENV} is unset: run `make pytest`, which builds .mlflow-venv "
            "(tests/requirements-mlflow.txt) and points this variable at it"
        )
    python = os.path.abspath(python)  # the scripts run in folders of their own
    try:
        done = subprocess.run(
            [python, "-c", "import mlflow, sklearn"], capture_output=True, text=True, timeout=120
        )
    except OSError as err:
        pytest.fail(f"{MLFLOW_PYTHON_ENV}={python} cannot run: {err}")
    if done.returncode != 0:
        pytest.fail(f"{MLFLOW_PYTHON_ENV}={python} cannot import mlflow: {done.stderr[-2000:]}")
    return python


def write_store(python: str, cwd: Path, *uris: str) -> dict[str, str]:
    """Run the MLflow script against ``uris``; the run ids it printed."""
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"}
    done = subprocess.run(
        [python, str(WRITER), *uris], cwd=cwd, capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-4000:]
    ids: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return ids


@pytest.fixture(scope="module")
def mlruns_store(mlflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    """An ``mlruns`` folder written by MLflow's file store."""
    root = tmp_path_factory.mktemp("mlflow-files")
    ids = write_store(mlflow_python, root, (root / "mlruns").as_uri())
    return MlflowStore(str(root / "mlruns"), ids)


@pytest.fixture(scope="module")
def sqlite_store(mlflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    """An MLflow SQLite database, its artifacts in a local folder beside it."""
    root = tmp_path_factory.mktemp("mlflow-db")
    ids = write_store(mlflow_python, root, f"sqlite:///{root}/mlflow.db")
    return MlflowStore(f"sqlite:///{root}/mlflow.db", ids)


@pytest.fixture(scope="module")
def postgres_mlflow_store(
    mlflow_python: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowStore]:
    """An MLflow database on PostgreSQL (a database of its own), artifacts in a local folder."""
    root = tmp_path_factory.mktemp("mlflow-postgres")
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"mlflow_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(postgres_url).set(database=name)
    # MLflow writes with its driver (psycopg2); the import reads a plain postgresql:// URI.
    written = url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    try:
        ids = write_store(mlflow_python, root, written)
        yield MlflowStore(
            url.set(drivername="postgresql").render_as_string(hide_password=False), ids
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    """Return once ``url/health`` answers; fail after ``seconds`` or if the server exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited with {process.returncode} while starting")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"mlflow server did not answer at {url} within {seconds} s")


@pytest.fixture(scope="module")
def server_store(
    mlflow_python: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowStore]:
    """A running ``mlflow server`` (SQLite backend, artifacts through its proxy), filled by MLflow."""
    root = tmp_path_factory.mktemp("mlflow-server")
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(Path(mlflow_python).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        f"sqlite:///{root}/mlflow.db",
        "--artifacts-destination",
        str(root / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        url.rsplit(":", 1)[1],
        "--workers",
        "1",
    ]
    log = (root / "server.log").open("wb")
    # A session of its own: the server's workers are stopped with it, by its id.
    # No background job runner: nothing here needs one, and it slows start and stop.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_until_up(url, process, SERVER_START_SECONDS)
        ids = write_store(mlflow_python, root, url)
        yield MlflowStore(url, ids, server=url, database=f"sqlite:///{root}/mlflow.db")
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers (its process group, by the server's id)."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
