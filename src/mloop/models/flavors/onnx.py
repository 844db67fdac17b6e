"""ONNX models, run with onnxruntime on the CPU.

A model with one input gets the whole table or array, cast to the input's
element type; a model with several inputs gets one column per input, by name.
``predict`` returns the first output; ``predict_proba`` the output whose name
says probabilities, when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.errors import InvalidInput
from mloop.models.flavors import Predictor, SaveOptions, class_modules, require

FILE = "model.onnx"
_ELEMENT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class OnnxPredictor(Predictor):
    """An inference session fed from a DataFrame or an array."""

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self._inputs = [
            (i.name, _ELEMENT_TYPES.get(i.type, "float32")) for i in session.get_inputs()
        ]
        outputs = session.get_outputs()
        self._proba = next(
            (o.name for o in outputs if "prob" in o.name.lower() and o.type.startswith("tensor")),
            None,
        )
        self.has_proba = self._proba is not None

    def _feed(self, data: Any) -> dict[str, Any]:
        import numpy as np

        if len(self._inputs) == 1:
            name, dtype = self._inputs[0]
            array = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
            return {name: array.astype(dtype, copy=False)}
        missing = [
            n for n, _ in self._inputs if not hasattr(data, "columns") or n not in data.columns
        ]
        if missing:
            raise InvalidInput(f"this ONNX model takes one column per input; missing {missing}")
        return {
            n: data[n].to_numpy().astype(dtype, copy=False).reshape(-1, 1)
            for n, dtype in self._inputs
        }

    def predict(self, data: Any) -> Any:
        """The first output."""
        return self.model.run(None, self._feed(data))[0]

    def predict_proba(self, data: Any) -> Any:
        """The probabilities output."""
        if self._proba is None:
            return super().predict_proba(data)
        return self.model.run([self._proba], self._feed(data))[0]


class OnnxFlavor:
    """The ``onnx`` flavor."""

    name = "onnx"
    extra = "onnx"
    packages = ("onnx", "onnxruntime", "numpy")

    def detect(self, model: object) -> bool:
        """An ``onnx.ModelProto``."""
        return "onnx" in class_modules(model) and type(model).__name__ == "ModelProto"

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """Check the graph with onnx's checker, then write it."""
        onnx = require("onnx", "onnx")
        try:
            onnx.checker.check_model(model)
        except onnx.checker.ValidationError as err:
            raise InvalidInput(f"the ONNX model is not valid: {err}") from None
        (path / FILE).write_bytes(model.SerializeToString())
        return {
            "file": FILE,
            "inputs": [i.name for i in model.graph.input],
            "outputs": [o.name for o in model.graph.output],
            "opset": [{"domain": o.domain, "version": o.version} for o in model.opset_import],
        }

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """An onnxruntime session on the CPU."""
        ort = require("onnxruntime", "onnx")
        session = ort.InferenceSession(
            str(path / str(loader["file"])), providers=["CPUExecutionProvider"]
        )
        return OnnxPredictor(session)


def load_proto(path: Path, loader: Mapping[str, Any]) -> Any:
    """The ``onnx.ModelProto`` of a package folder (its files already verified by the caller).

    Raises:
        MissingExtra: onnx is not installed.
    """
    onnx = require("onnx", "onnx")
    return onnx.load(str(path / str(loader["file"])))


FLAVOR = OnnxFlavor()
