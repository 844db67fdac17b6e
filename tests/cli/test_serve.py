"""``mloop serve`` as a user runs it: a real process, real requests, its errors and its shutdown."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import mloop
import mloop.serving
from tests.cli.conftest import MLOOP, invoke

SLOW_MODEL = '''
import time

import mloop
import mloop.serving


class Slow(mloop.models.PythonModel):
    """Sleeps for the seconds in column "wait", then answers them doubled."""

    def predict(self, model_input):
        time.sleep(float(model_input["wait"].max()))
        return model_input["wait"].to_numpy() * 2
'''


@pytest.fixture
def slow_model(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    source = tmp_path / "slowmodel.py"
    source.write_text(SLOW_MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    import slowmodel  # type: ignore[import-not-found]

    path = tmp_path / "slow"
    mloop.models.save(
        slowmodel.Slow(),
        path,
        input_example=pd.DataFrame({"wait": [0.0]}),
        code_paths=[source],
    )
    sys.modules.pop("slowmodel", None)
    mloop.set_experiment("serving")  # the store the server reads keys and aliases from
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(*args: str, timeout: float = 60.0) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``mloop serve *args`` in a process of its own, until ready; killed if the test fails."""
    port = free_port()
    process = subprocess.Popen(
        [str(MLOOP), "serve", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError(f"mloop serve exited: {process.communicate()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "mloop serve did not become ready"
            time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def post(url: str, wait: float) -> httpx.Response:
    body = {"dataframe_split": {"columns": ["wait"], "data": [[wait]]}}
    return httpx.post(f"{url}/invocations", json=body, timeout=30)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_answers_requests_in_flight_then_exits(
    slow_model: Path, stop: signal.Signals
) -> None:
    with serving(str(slow_model)) as (process, url):
        assert post(url, 0.0).json() == {"predictions": [0.0]}
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            in_flight = pool.submit(post, url, 1.0)
            time.sleep(0.3)  # the request is being predicted
            process.send_signal(stop)
            answer = in_flight.result()
        out, err = process.communicate(timeout=30)
    assert answer.status_code == 200
    assert answer.json() == {"predictions": [2.0]}
    # Drained, then exited as a shell reports the signal it was sent, never by a crash.
    assert process.returncode == 128 + stop, err
    assert "Traceback" not in err
    assert "serving slow" in err + out


def test_it_serves_a_registered_alias_and_says_which_version(slow_model: Path) -> None:
    mloop.models.register(str(slow_model), "slow")
    mloop.models.set_alias("slow", "champion", 1)
    with serving("models:/slow@champion") as (process, url):
        answer = post(url, 0.0)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert answer.headers["x-model-version"] == "1"
    assert "serving slow (1)" in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["models:/nope@champion"], "registered model 'nope' not found"),
        (["./missing-folder"], "is not a model package"),
        (["models:/a@@b"], "invalid alias"),
        (["{model}", "{model}"], "two models would be served as 'slow'"),
        (["{model}", "--name", "x", "{model}"], "--name names a single model"),
        (["{model}", "--log-level", "loud"], "--log-level must be one of"),
        (["{model}", "--host", "nosuchhost.invalid"], "is not an address here"),
    ],
)
def test_mistakes_are_clear_errors_before_anything_listens(
    slow_model: Path, args: list[str], message: str
) -> None:
    given = [a.replace("{model}", str(slow_model)) for a in args]
    code, out, err = invoke("serve", *given, "--port", str(free_port()))
    assert code != 0
    assert message in out + err
    assert "Traceback" not in out + err


def test_a_port_in_use_is_a_clear_error(slow_model: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = invoke("serve", str(slow_model), "--port", str(port))
    assert code != 0
    assert f"cannot listen on 127.0.0.1:{port}" in out + err


def test_several_workers_serve_the_same_model(slow_model: Path) -> None:
    with serving(str(slow_model), "--workers", "2") as (process, url):
        answers = [post(url, 0.0).status_code for _ in range(6)]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert answers == [200] * 6
    assert process.returncode == 128 + signal.SIGTERM


def test_sigterm_writes_the_prediction_log_of_every_answer(slow_model: Path, home: Path) -> None:
    with serving(str(slow_model), "--prediction-log-flush", "3600") as (process, url):
        answers = [post(url, 0.0).headers["x-request-id"] for _ in range(5)]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    logged = mloop.serving.predictions("slow")
    assert sorted(logged["request_id"]) == sorted(answers)


def test_kill_9_leaves_only_whole_prediction_log_files(slow_model: Path, home: Path) -> None:
    import pyarrow.parquet as pq

    with serving(str(slow_model), "--prediction-log-flush", "0.05") as (process, url):
        stop = time.monotonic() + 2.0

        def hammer() -> int:
            sent = 0
            while time.monotonic() < stop:
                with contextlib.suppress(httpx.TransportError):
                    post(url, 0.0)
                    sent += 1
            return sent

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            sending = [pool.submit(hammer) for _ in range(4)]
            time.sleep(1.5)  # files are being written
            process.send_signal(signal.SIGKILL)
            sent = sum(future.result() for future in sending)
        process.communicate(timeout=30)
    files = sorted((home / "artifacts" / "predictions").rglob("*"))
    parquet = [path for path in files if path.is_file()]
    assert parquet and sent
    for path in parquet:
        assert path.suffix == ".parquet"
        assert pq.read_table(path).num_rows > 0  # whole: a torn file would not parse
    # At most the last flush interval is lost: nearly every answer before the kill is there.
    assert sent // 2 <= len(mloop.serving.predictions("slow")) <= sent


def test_a_registry_ref_needs_no_scheme_and_a_wrong_scheme_says_what_is_taken(
    slow_model: Path,
) -> None:
    mloop.models.register(str(slow_model), "slow")
    mloop.models.set_alias("slow", "champion", 1)
    with serving("slow@champion") as (process, url):
        assert post(url, 0.0).headers["x-model-version"] == "1"
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    code, out, err = invoke("serve", "model:/slow@champion", "--port", str(free_port()))
    assert code == 2
    assert "is not a model URI mloop knows: use models:/NAME@ALIAS" in out + err


def test_a_folder_is_served_where_no_store_exists_yet(
    slow_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    for variable in ("MLOOP_HOME", "MLOOP_TRACKING_URI", "MLOOP_ARTIFACTS_URI"):
        monkeypatch.delenv(variable, raising=False)
    with serving(str(slow_model)) as (process, url):
        assert post(url, 0.0).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert (fresh / ".mloop").is_dir()  # the prediction log's store, made on first use


def test_a_deployment_is_served_by_its_name_with_its_canary(slow_model: Path) -> None:
    mloop.models.register(str(slow_model), "slow")
    mloop.models.register(str(slow_model), "slow")
    mloop.models.set_alias("slow", "champion", 1)
    mloop.serving.create_deployment(
        "slow-api", "slow@champion", canary="slow/2", canary_percent=100
    )
    with serving("slow-api") as (process, url):
        answer = post(url, 0.0)
        health = httpx.get(f"{url}/health").json()["models"][0]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert answer.status_code == 200 and answer.headers["x-model-version"] == "2"
    assert health["deployment"] == "slow-api" and health["revision"] == 1
    assert "serving slow-api (primary slow/1, canary slow/2 at 100%)" in out + err


def test_an_unknown_deployment_name_is_a_clear_error(slow_model: Path) -> None:
    code, out, err = invoke("serve", "no-such-api", "--port", str(free_port()))
    assert code != 0 and "deployment 'no-such-api' not found" in out + err
    assert "Traceback" not in out + err


def test_the_server_says_when_it_follows_a_change(slow_model: Path) -> None:
    for _ in range(2):
        mloop.models.register(str(slow_model), "slow")
    mloop.models.set_alias("slow", "champion", 1)
    mloop.serving.create_deployment("slow-api", "slow@champion")
    with serving("slow-api", "--refresh", "0.1") as (process, url):
        mloop.serving.update_deployment("slow-api", canary="slow/2", canary_percent=50)
        deadline = time.monotonic() + 20
        while httpx.get(f"{url}/health").json()["models"][0]["revision"] != 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert "INFO:     deployment slow-api: revision 2 replaces 1" in err
