"""KServe's own REST client against a live server: ``python kserve_v2.py URL MODEL ROWS.json``.

Runs in a venv with ``kserve`` (``tests/requirements-kserve.txt``), not mloop's.
``ROWS.json`` holds a DataFrame as ``to_json(orient="split")`` writes it. Prints
one JSON object: the readiness answers and the predictions of each way of
sending the rows.
"""

from __future__ import annotations

import asyncio
import json
import sys

import numpy as np
import pandas as pd
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput


def column_inputs(rows: pd.DataFrame, binary: bool) -> list[InferInput]:
    """One FP64 tensor per column, as the server's metadata advertises."""
    inputs = []
    for column in rows.columns:
        tensor = InferInput(column, [len(rows)], "FP64")
        tensor.set_data_from_numpy(rows[column].to_numpy(dtype=np.float64), binary_data=binary)
        inputs.append(tensor)
    return inputs


async def main(url: str, model: str, rows: pd.DataFrame) -> dict[str, object]:
    client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=60))
    try:
        found: dict[str, object] = {
            "live": await client.is_server_live(url),
            "ready": await client.is_server_ready(url),
            "model_ready": await client.is_model_ready(url, model),
            "unknown_model_ready": await client.is_model_ready(url, "no-such-model"),
        }
        ways = {
            "json": InferRequest(model, column_inputs(rows, binary=False)),
            "binary": InferRequest(model, column_inputs(rows, binary=True)),
            "binary_output": InferRequest(
                model,
                column_inputs(rows, binary=True),
                request_outputs=[RequestedOutput("predict", {"binary_data": True})],
            ),
        }
        matrix = InferInput("input-0", list(rows.shape), "FP64")
        matrix.set_data_from_numpy(rows.to_numpy(dtype=np.float64), binary_data=False)
        ways["matrix"] = InferRequest(model, [matrix])
        for way, request in ways.items():
            response = await client.infer(url, request, model_name=model)
            (output,) = response.outputs
            found[way] = {"name": output.name, "predictions": output.as_numpy().tolist()}
        # A plain dict body, as KServe's docs show for the V2 protocol.
        body = {
            "inputs": [
                {"name": "input-0", "shape": list(rows.shape), "datatype": "FP64",
                 "data": rows.to_numpy(dtype=np.float64).tolist()}
            ]
        }  # fmt: skip
        response = await client.infer(url, body, model_name=model)
        found["dict"] = {"predictions": response.outputs[0].as_numpy().tolist()}
    finally:
        await client.close()
    return found


if __name__ == "__main__":
    base, name, path = sys.argv[1:4]
    with open(path) as file:
        frame = pd.read_json(file, orient="split")
    print(json.dumps(asyncio.run(main(base, name, frame))))
