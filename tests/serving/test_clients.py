"""The model server answers the real clients of its protocols, as their users call them.

- ``tritonclient[http]`` (Open Inference Protocol V2), in this interpreter.
- KServe's ``InferenceRESTClient`` (V2), in a venv of its own
  (``MLOOP_TEST_KSERVE_PYTHON``, set by ``make pytest``).
- MLflow's ``ScoringServerClient`` and the bodies MLflow writes, in MLflow's
  venv (``MLOOP_TEST_MLFLOW_PYTHON``).
- ``promtool check metrics`` on the ``/metrics`` body (``make pytest`` installs
  promtool with apt-get when it runs as root).

The server runs in this process (``tests.serving.live.running``); a client in
another venv runs a script of ``client_scripts/`` against it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

import mloop

SCRIPTS = Path(__file__).parent / "client_scripts"
KSERVE_PYTHON_ENV = "MLOOP_TEST_KSERVE_PYTHON"
MLFLOW_PYTHON_ENV = "MLOOP_TEST_MLFLOW_PYTHON"


@pytest.fixture
def rows(data: pd.DataFrame) -> pd.DataFrame:
    """Ten rows of both classes."""
    return data.drop(columns="target").iloc[::57]


@pytest.fixture
def want(model_dir: Path, rows: pd.DataFrame) -> list[int]:
    predictions: list[int] = mloop.models.load(model_dir).predict(rows).tolist()
    assert set(predictions) == {0, 1}
    return predictions


def column_inputs(rows: pd.DataFrame, *, binary: bool) -> list[triton.InferInput]:
    inputs = []
    for column in rows.columns:
        tensor = triton.InferInput(column, [len(rows)], "FP64")
        tensor.set_data_from_numpy(rows[column].to_numpy(dtype=np.float64), binary_data=binary)
        inputs.append(tensor)
    return inputs


def run_script(python: str, script: str, *args: str) -> Any:
    """Run a client script in another interpreter; its last line of output is JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOOP_", "MLFLOW_"))}
    done = subprocess.run(
        [python, str(SCRIPTS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def interpreter(variable: str, what: str) -> str:
    python = os.environ.get(variable)
    if not python:
        pytest.skip(f"{what} is not given (make pytest sets {variable})")
    return python


# -- tritonclient ----------------------------------------------------------------------------------


def test_tritonclient_sees_the_server_and_the_model(server_url: str) -> None:
    client = triton.InferenceServerClient(server_url.removeprefix("http://"))
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("cancer")
    assert not client.is_model_ready("no-such-model")
    metadata = client.get_model_metadata("cancer")
    assert metadata["name"] == "cancer"
    assert metadata["inputs"][0] == {"name": "mean radius", "datatype": "FP64", "shape": [-1]}
    assert len(metadata["inputs"]) == 30
    assert metadata["outputs"] == [{"name": "predict", "datatype": "INT64", "shape": [-1]}]
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]


@pytest.mark.parametrize("binary_inputs", [False, True])
@pytest.mark.parametrize("binary_output", [False, True, None])
def test_tritonclient_infers_what_the_model_predicts(
    server_url: str,
    rows: pd.DataFrame,
    want: list[int],
    binary_inputs: bool,
    binary_output: bool | None,
) -> None:
    client = triton.InferenceServerClient(server_url.removeprefix("http://"))
    outputs = (
        None
        if binary_output is None  # tritonclient then asks for every output as binary data
        else [triton.InferRequestedOutput("predict", binary_data=binary_output)]
    )
    result = client.infer("cancer", column_inputs(rows, binary=binary_inputs), outputs=outputs)
    got = result.as_numpy("predict")
    assert got is not None
    assert got.dtype == np.int64
    assert got.tolist() == want
    sent_as_json = "data" in result.get_output("predict")
    assert sent_as_json is (binary_output is False)


def test_tritonclient_sends_one_matrix_and_compressed_bodies(
    server_url: str, rows: pd.DataFrame, want: list[int]
) -> None:
    client = triton.InferenceServerClient(server_url.removeprefix("http://"))
    matrix = triton.InferInput("input-0", list(rows.shape), "FP64")
    matrix.set_data_from_numpy(rows.to_numpy(dtype=np.float64), binary_data=True)
    got = client.infer("cancer", [matrix]).as_numpy("predict")
    assert got is not None
    assert got.tolist() == want
    for algorithm in ("gzip", "deflate"):
        result = client.infer(
            "cancer",
            column_inputs(rows, binary=True),
            request_compression_algorithm=algorithm,
            response_compression_algorithm=algorithm,
        )
        got = result.as_numpy("predict")
        assert got is not None
        assert got.tolist() == want, algorithm


def test_tritonclient_raises_the_servers_reason(server_url: str, rows: pd.DataFrame) -> None:
    client = triton.InferenceServerClient(server_url.removeprefix("http://"))
    inputs = column_inputs(rows, binary=False)[1:]
    with pytest.raises(InferenceServerException, match="mean radius") as raised:
        client.infer("cancer", inputs)
    assert raised.value.status() == "400"


# -- KServe ----------------------------------------------------------------------------------------


def test_kserve_rest_client_infers_what_the_model_predicts(
    server_url: str, rows: pd.DataFrame, want: list[int], tmp_path: Path
) -> None:
    python = interpreter(KSERVE_PYTHON_ENV, "KServe's interpreter")
    path = tmp_path / "rows.json"
    path.write_text(rows.to_json(orient="split"))
    found = run_script(python, "kserve_v2.py", server_url, "cancer", str(path))
    assert found["live"] is True
    assert found["ready"] is True
    assert found["model_ready"] is True
    assert found["unknown_model_ready"] is False
    for way in ("json", "binary", "binary_output", "matrix"):
        assert found[way] == {"name": "predict", "predictions": want}, way
    assert found["dict"] == {"predictions": want}


# -- MLflow ----------------------------------------------------------------------------------------


def test_mlflow_scoring_client_gets_what_the_model_predicts(
    server_url: str, rows: pd.DataFrame, want: list[int], tmp_path: Path
) -> None:
    python = interpreter(MLFLOW_PYTHON_ENV, "MLflow's interpreter")
    path = tmp_path / "rows.json"
    path.write_text(rows.to_json(orient="split"))
    found = run_script(python, "mlflow_scoring.py", server_url, str(path))
    assert found.pop("version") == mloop.__version__
    assert found == dict.fromkeys(
        ("dataframe", "ndarray", "as_dataframe", "serving_input", "csv"), want
    )


# -- promtool --------------------------------------------------------------------------------------


def test_promtool_finds_nothing_to_say_about_the_metrics(
    server_url: str, rows: pd.DataFrame
) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip(
            "promtool is not installed (make pytest installs it with apt-get when run as root)"
        )
    body = {"dataframe_split": rows.to_dict(orient="split")}
    assert httpx.post(f"{server_url}/invocations", json=body).status_code == 200
    assert httpx.post(f"{server_url}/invocations", json={"inputs": [[1]]}).status_code == 400
    assert httpx.post(f"{server_url}/v2/models/cancer/infer", json={}).status_code == 400
    text = httpx.get(f"{server_url}/metrics").text
    assert "mloop_prediction_value_count" in text
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert (checked.stdout + checked.stderr).strip() == ""
