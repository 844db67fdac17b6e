"""The model server without HTTP: stopping while a retired version still has requests queued."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd

import mloop
from mloop.serving.prediction_log import PredictionLogSettings
from mloop.serving.server import ModelServer, ServerSettings
from tests.models.custom import Sleeper


def test_stopping_while_a_version_is_retired_answers_what_was_queued(tmp_path: Path) -> None:
    path = tmp_path / "sleeper"
    mloop.models.save(Sleeper(), str(path), input_example=pd.DataFrame({"wait": [0.0]}))
    settings = ServerSettings(prediction_log=PredictionLogSettings(enabled=False))

    async def main() -> list[list[float]]:
        server = ModelServer([("s", str(path))], settings=settings)
        await server.start()
        current = server.endpoints["s"].members()[0][1].current
        assert current is not None
        asked = pd.DataFrame({"wait": [0.3]})
        answers = [asyncio.create_task(server.predict("s", asked)) for _ in range(3)]
        await asyncio.sleep(0.05)  # one is being predicted, two are queued
        retiring = asyncio.create_task(server._retire("s", {current.digest}))
        await asyncio.sleep(0.05)
        retiring.cancel()  # as close() cancels the loop that follows the endpoints
        await server.close()
        return [task.result().values.tolist() for task in answers]

    assert asyncio.run(asyncio.wait_for(main(), 30)) == [[0.6]] * 3
