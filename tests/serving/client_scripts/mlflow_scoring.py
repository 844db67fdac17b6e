"""MLflow's own scoring client against a live server: ``python mlflow_scoring.py URL ROWS.json``.

Runs in MLflow's venv (``tests/requirements-mlflow.txt``), not mloop's.
``ROWS.json`` holds a DataFrame as ``to_json(orient="split")`` writes it. Prints
one JSON object: the server's version and the predictions of each way MLflow
sends the rows.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import urlsplit

import pandas as pd
import requests
from mlflow.deployments import PredictionsResponse
from mlflow.models import convert_input_example_to_serving_input
from mlflow.pyfunc import scoring_server
from mlflow.pyfunc.scoring_server.client import ScoringServerClient


def post(url: str, body: str, content_type: str) -> list[object]:
    """Send ``body`` to ``/invocations`` and read the answer as MLflow's client does."""
    answer = requests.post(
        f"{url}/invocations", data=body, headers={"Content-Type": content_type}, timeout=60
    )
    answer.raise_for_status()
    predictions = PredictionsResponse.from_json(answer.text).get_predictions("ndarray")
    return predictions.tolist()


def main(url: str, rows: pd.DataFrame) -> dict[str, object]:
    parts = urlsplit(url)
    client = ScoringServerClient(parts.hostname, parts.port)
    client.wait_server_ready(timeout=30)
    found: dict[str, object] = {"version": client.get_version()}
    # ScoringServerClient.invoke: a DataFrame goes as dataframe_split, an array as inputs.
    for way, data in {"dataframe": rows, "ndarray": rows.to_numpy()}.items():
        response = client.invoke(data)
        found[way] = response.get_predictions("ndarray").tolist()
    frame = client.invoke(rows).get_predictions()  # the default: a DataFrame
    found["as_dataframe"] = frame.iloc[:, 0].tolist()
    # The body MLflow writes as a model's serving input example (what `mlflow models
    # predict` and the docs tell users to send).
    found["serving_input"] = post(
        url, convert_input_example_to_serving_input(rows), scoring_server.CONTENT_TYPE_JSON
    )
    found["csv"] = post(url, rows.to_csv(index=False), scoring_server.CONTENT_TYPE_CSV)
    return found


if __name__ == "__main__":
    base, path = sys.argv[1:3]
    with open(path) as file:
        frame = pd.read_json(file, orient="split")
    print(json.dumps(main(base, frame)))
