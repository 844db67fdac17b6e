"""ModelInfo: MLflow's attribute names over what log_model records."""

from __future__ import annotations

from pathlib import Path

import mloop
from mloop.models.info import ModelInfo


def test_mlflow_attributes_of_a_logged_and_registered_model(home: Path) -> None:
    from sklearn.linear_model import LinearRegression

    with mloop.start_run() as run:
        info = mloop.models.log_model(
            LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]),
            "model",
            registered_model_name="reg",
        )
    assert (info.model_uri, info.run_id) == (f"runs:/{run.info.run_id}/model", run.info.run_id)
    assert info.registered_model_version == 1
    assert info.flavors["sklearn"]["file"] == "model.skops"
    again = mloop.models.get_model_info(info.model_uri)
    assert again.flavors == info.flavors
    assert again == ModelInfo(**{**again.__dict__, "loader": {}})  # loader settings do not compare


def test_an_unregistered_model_has_no_version() -> None:
    info = ModelInfo("runs:/" + "0" * 32 + "/m", "0" * 32, "m", "0" * 64, "onnx")
    assert info.registered_model_version is None
    assert info.flavors == {"onnx": {}}
