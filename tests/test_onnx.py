"""mloop.onnx: MLflow's names over the onnx flavor; the onnx.ModelProto comes back."""

from __future__ import annotations

import types
from typing import Any

import numpy as np

import mloop.onnx
import mloop.sklearn
from tests.flavor_contract import FlavorModuleContract


def _linear_onnx() -> Any:
    """``x @ w + b`` for a float input ``[None, 3]``."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        initializer=[
            numpy_helper.from_array(rng.normal(size=(3, 2)).astype("float32"), "w"),
            numpy_helper.from_array(rng.normal(size=2).astype("float32"), "b"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


class TestOnnxModule(FlavorModuleContract):
    __test__ = True
    module = mloop.onnx
    flavor = "onnx"
    native_type = "ModelProto"

    def make_model(self) -> Any:
        return _linear_onnx()

    def predict(self, native: Any, x: np.ndarray) -> np.ndarray:
        import onnxruntime as ort

        session = ort.InferenceSession(
            native.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        return np.asarray(session.run(None, {"x": x})[0])

    def other_model(self) -> tuple[types.ModuleType, Any]:
        from sklearn.linear_model import LinearRegression

        return mloop.sklearn, LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])
