"""The Open Inference Protocol V2 (KServe V2, Triton HTTP): request and response codec.

Pure functions between HTTP bodies and what a loaded model takes and
returns, so ``tritonclient[http]``, KServe's ``InferenceRESTClient`` and plain
``curl`` reach a model served by mloop. No web framework is imported here:
the server passes in the body bytes (and the ``Inference-Header-Content-Length``
header, if any) and sends back what comes out.

How signatures map onto tensors:

- a **column** signature (a model fed tables) is one tensor per column,
  shape ``[-1]``, as MLServer's pandas codec sends a DataFrame; ``[N, 1]``
  is accepted too (what that codec sends in recent versions);
  A single ``[N, columns]`` tensor under another name (what clients of
  KServe's scikit-learn server send) passes through as an array, which the
  model's signature turns into its columns on predict;
- a **tensor** signature is one tensor named ``input-0`` (any single name is
  accepted), with the signature's dtype and shape;
- with no signature, one input is an array and several are the columns of a
  DataFrame;
- outputs are named by the signature's output columns, else ``predict``
  (MLServer's scikit-learn runtime name); a dict of arrays or a DataFrame
  gives one output per key or column.

The binary tensor data extension is supported both ways: inputs whose
``parameters.binary_data_size`` says their bytes follow the JSON header, and
binary outputs when the request asks for them (``binary_data`` on an output,
``binary_data_output`` on the request).

Example:
    >>> import json
    >>> body = json.dumps({"id": "1", "inputs": [
    ...     {"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]})
    >>> request = decode_infer(body.encode(), None)
    >>> request.data
    array([[1., 2.],
           [3., 4.]], dtype=float32)
    >>> body, headers = encode_infer("m", "1", request.id, request.data.sum(axis=1), None)
    >>> json.loads(body)["outputs"]
    [{'name': 'predict', 'shape': [2], 'datatype': 'FP32', 'data': [3.0, 7.0]}]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from mloop.errors import InvalidInput
from mloop.models.signature import ColumnSpec, Signature, TensorSpec
from mloop.serving.tensor_data import datatype_of as datatype_of
from mloop.serving.tensor_data import encode_tensor, from_binary, from_json
from mloop.serving.tensor_data import numpy_dtype as numpy_dtype

HEADER_LENGTH: Final = "Inference-Header-Content-Length"
"""The HTTP header giving the length of the JSON part of a body with binary tensor data."""

DEFAULT_INPUT: Final = "input-0"
"""The input name advertised for a tensor signature (whose tensor has no name)."""

DEFAULT_OUTPUT: Final = "predict"
"""The output name when the signature names none (MLServer's scikit-learn runtime's name)."""


@dataclasses.dataclass(frozen=True, slots=True)
class InferRequest:
    """A decoded inference request.

    Attributes:
        id: the request's ``id``, to echo in the response.
        data: what ``LoadedModel.predict`` takes: a DataFrame (one column per
            input) or an ndarray (one input).
        parameters: the request's ``parameters``, less the protocol's own
            (``binary_data_output``).
        outputs: the output names asked for, None for all.
        binary_outputs: whether the outputs are to be sent as binary data.
    """

    id: str | None
    data: Any
    parameters: dict[str, Any]
    outputs: list[str] | None
    binary_outputs: bool


# -- metadata -------------------------------------------------------------------------------


def _tensor_meta(name: str, datatype: str, shape: Sequence[int]) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": list(shape)}


def _spec_meta(spec: Any, default: str) -> list[dict[str, Any]]:
    if spec is None:
        return []
    if isinstance(spec, TensorSpec):
        return [_tensor_meta(default, datatype_of(spec.dtype), spec.shape)]
    return [_tensor_meta(c.name, datatype_of(c.type), [-1]) for c in spec]


def model_metadata(
    name: str, versions: Sequence[str], signature: Signature | None, platform: str
) -> dict[str, Any]:
    """The V2 model metadata response (``GET /v2/models/<name>``) for a model's signature.

    A column signature is one ``[-1]`` tensor per column; a tensor signature
    one tensor named ``input-0``; outputs come from the signature's outputs
    (none when it has none, or when there is no signature).

    Example:
        >>> import pandas as pd
        >>> from mloop.models.signature import infer_signature
        >>> sig = infer_signature(pd.DataFrame({"age": [40], "city": ["Oslo"]}))
        >>> model_metadata("churn", ["3"], sig, "mloop_sklearn")["inputs"]
        [{'name': 'age', 'datatype': 'INT64', 'shape': [-1]}, \
{'name': 'city', 'datatype': 'BYTES', 'shape': [-1]}]
    """
    return {
        "name": name,
        "versions": list(versions),
        "platform": platform,
        "inputs": _spec_meta(signature.inputs if signature else None, DEFAULT_INPUT),
        "outputs": _spec_meta(signature.outputs if signature else None, DEFAULT_OUTPUT),
    }


def error_body(message: str) -> bytes:
    """The V2 error response body.

    Example:
        >>> error_body("model not found")
        b'{"error": "model not found"}'
    """
    return json.dumps({"error": message}).encode()


# -- requests -------------------------------------------------------------------------------


def decode_infer(
    body: bytes, signature: Signature | None, *, header_length: int | None = None
) -> InferRequest:
    """Decode a V2 inference request body into what the model takes.

    ``header_length`` is the ``Inference-Header-Content-Length`` header: the
    JSON is the body's first ``header_length`` bytes, the binary tensor data
    the rest. Tensor ``data`` may be flat (row-major) or nested.

    Example:
        >>> import json, pandas as pd
        >>> from mloop.models.signature import infer_signature
        >>> sig = infer_signature(pd.DataFrame({"age": [40], "city": ["Oslo"]}))
        >>> body = json.dumps({"inputs": [
        ...     {"name": "age", "shape": [2], "datatype": "INT64", "data": [31, 52]},
        ...     {"name": "city", "shape": [2], "datatype": "BYTES", "data": ["Rome", "Lima"]}]})
        >>> decode_infer(body.encode(), sig).data
           age  city
        0   31  Rome
        1   52  Lima

    Raises:
        InvalidInput: the body is not a V2 request, or its tensors do not fit the
            signature (naming the tensor, what was expected and what was given).
    """
    document, binary = _split(body, header_length)
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput("an inference request has 'inputs': a non-empty list of tensors")
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput(f"the request 'id' is a string, got {request_id!r}")
    parameters = _parameters(document, "the request")
    tensors = _read_inputs(inputs, binary)
    outputs, binary_outputs = _requested_outputs(document, parameters)
    parameters.pop("binary_data_output", None)
    data = _model_input(tensors, signature)
    return InferRequest(request_id, data, parameters, outputs, binary_outputs)


def _split(body: bytes, header_length: int | None) -> tuple[dict[str, Any], memoryview]:
    if header_length is None:
        header_length = len(body)
    if not 0 <= header_length <= len(body):
        raise InvalidInput(
            f"{HEADER_LENGTH} is {header_length}, but the body has {len(body)} bytes"
        )
    try:
        document = json.loads(body[:header_length])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(f"the inference request is not JSON: {err}") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"an inference request is a JSON object, got {document!r:.100}")
    return document, memoryview(body)[header_length:]


def _parameters(holder: Mapping[str, Any], what: str) -> dict[str, Any]:
    parameters = holder.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidInput(f"the 'parameters' of {what} are a JSON object, got {parameters!r}")
    return dict(parameters)


def _requested_outputs(
    document: Mapping[str, Any], parameters: Mapping[str, Any]
) -> tuple[list[str] | None, bool]:
    """The output names asked for (None: all) and whether they go back as binary data."""
    binary = parameters.get("binary_data_output") is True
    requested = document.get("outputs")
    if requested is None:
        return None, binary
    if not isinstance(requested, list):
        raise InvalidInput(f"the request 'outputs' are a list, got {requested!r:.100}")
    names = []
    for output in requested:
        if not isinstance(output, dict) or not isinstance(output.get("name"), str):
            raise InvalidInput(f"a requested output is {{'name': ...}}, got {output!r:.100}")
        names.append(output["name"])
        # One flag for the whole response: an output's own setting overrides the request's.
        flag = _parameters(output, f"output {output['name']!r}").get("binary_data")
        binary = flag if isinstance(flag, bool) else binary
    return names, binary


def _read_inputs(inputs: list[Any], binary: memoryview) -> dict[str, np.ndarray]:
    tensors: dict[str, np.ndarray] = {}
    offset = 0
    for tensor in inputs:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise InvalidInput(f"an input tensor has a 'name', got {tensor!r:.100}")
        name = tensor["name"]
        if name in tensors:
            raise InvalidInput(f"input {name!r} is given twice")
        shape, datatype = _shape_and_type(tensor)
        size = _parameters(tensor, f"input {name!r}").get("binary_data_size")
        if size is None:
            tensors[name] = from_json(name, tensor.get("data"), shape, datatype)
            continue
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput(
                f"input {name!r}: binary_data_size is a count of bytes, got {size!r}"
            )
        if offset + size > len(binary):
            raise InvalidInput(
                f"input {name!r} has binary_data_size {size}, but only {len(binary) - offset} "
                f"bytes of binary data are left after the JSON header (is {HEADER_LENGTH} right?)"
            )
        tensors[name] = from_binary(name, binary[offset : offset + size], shape, datatype)
        offset += size
    if offset != len(binary):
        raise InvalidInput(
            f"the body has {len(binary) - offset} bytes after the JSON header and the inputs' "
            f"binary data; {HEADER_LENGTH} or a binary_data_size is wrong"
        )
    return tensors


def _shape_and_type(tensor: Mapping[str, Any]) -> tuple[tuple[int, ...], str]:
    name, shape, datatype = tensor["name"], tensor.get("shape"), tensor.get("datatype")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InvalidInput(f"input {name!r}: 'shape' is a list of sizes (>= 0), got {shape!r}")
    if not isinstance(datatype, str):
        raise InvalidInput(
            f"input {name!r}: 'datatype' is a string such as 'FP32', got {datatype!r}"
        )
    try:
        numpy_dtype(datatype)
    except InvalidInput as err:
        raise InvalidInput(f"input {name!r}: {err}") from None
    return tuple(shape), datatype


# -- from tensors to the model's input ------------------------------------------------------


def _model_input(tensors: dict[str, np.ndarray], signature: Signature | None) -> Any:
    inputs = signature.inputs if signature is not None else None
    if isinstance(inputs, TensorSpec):
        return _tensor_input(tensors, inputs)
    if inputs is not None:
        return _column_input(tensors, inputs)
    if len(tensors) == 1:
        return next(iter(tensors.values()))
    return _frame(tensors)


def _tensor_input(tensors: dict[str, np.ndarray], spec: TensorSpec) -> np.ndarray:
    if len(tensors) != 1:
        raise InvalidInput(
            f"the model takes one tensor ({DEFAULT_INPUT!r}, shape {list(spec.shape)}, "
            f"{datatype_of(spec.dtype)}), got {len(tensors)}: {sorted(tensors)}"
        )
    name, array = next(iter(tensors.items()))
    if array.ndim != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, array.shape, strict=False)
    ):
        raise InvalidInput(
            f"input {name!r} has shape {list(array.shape)}; the model takes shape "
            f"{list(spec.shape)} (-1: any size)"
        )
    _check_type(name, array, spec.dtype, "the model's tensor")
    return array


def _column_input(tensors: dict[str, np.ndarray], columns: tuple[ColumnSpec, ...]) -> Any:
    expected = [c.name for c in columns]
    if len(tensors) == 1 and not tensors.keys() & set(expected):
        # One [N, columns] tensor under another name, as clients of KServe's scikit-learn
        # server send: the model's signature names its columns on predict.
        array = next(iter(tensors.values()))
        if array.ndim == 2 and array.shape[1] == len(expected):
            return array
    unknown = [n for n in tensors if n not in expected]
    missing = [n for n in expected if n not in tensors]
    if unknown or missing:
        raise InvalidInput(
            f"the model takes one input tensor per column {expected}"
            + (f"; unknown input(s) {unknown}" if unknown else "")
            + (f"; missing input(s) {missing}" if missing else "")
        )
    for column in columns:
        _check_type(column.name, tensors[column.name], column.type, f"column {column.name!r}")
    frame = _frame({c.name: tensors[c.name] for c in columns})
    for column in columns:
        if column.type == "datetime":
            try:
                frame[column.name] = pd.to_datetime(frame[column.name])
            except (ValueError, TypeError) as err:
                raise InvalidInput(f"input {column.name!r} is not ISO datetimes: {err}") from None
    return frame


def _frame(tensors: dict[str, np.ndarray]) -> pd.DataFrame:
    """A DataFrame of 1-D (or ``[N, 1]``) tensors of one length."""
    for name, array in tensors.items():
        if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] != 1):
            raise InvalidInput(
                f"input {name!r} has shape {list(array.shape)}; a column is shape [N] or [N, 1]"
            )
    lengths = {name: len(array) for name, array in tensors.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInput(f"the input columns differ in length: {lengths}")
    return pd.DataFrame({name: array.reshape(-1) for name, array in tensors.items()})


def _check_type(name: str, array: np.ndarray, expected: str, what: str) -> None:
    """Refuse a tensor whose datatype cannot become ``expected`` (a signature type) safely."""
    given, want = datatype_of(array.dtype), datatype_of(expected)
    if expected == "object" or given == want:
        return
    if want == "BYTES" or given == "BYTES" or "bool" in (str(array.dtype), expected):
        ok = False
    else:
        source, target = array.dtype, np.dtype(expected)
        ok = np.can_cast(source, target, "safe") or (target.kind == "f" and source.kind in "iu")
        ok = ok or (source.kind in "iu" and target.kind in "iu")  # checked on predict by value
    if not ok:
        raise InvalidInput(
            f"input {name!r} has datatype {given}; {what} is {expected}: send {want}"
        )


# -- responses ------------------------------------------------------------------------------


def encode_infer(
    model_name: str,
    model_version: str | None,
    request_id: str | None,
    predictions: Any,
    signature: Signature | None,
    *,
    binary: bool = False,
    outputs: Sequence[str] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The V2 inference response body and its extra HTTP headers.

    ``predictions`` is what the model returned: an ndarray or list, a pandas
    Series or DataFrame (one output per column), or a dict of arrays (one
    output per key). ``outputs`` keeps only the named outputs, in that order
    (the request's ``outputs``). With ``binary``, tensor data follows the JSON
    and the headers carry ``Inference-Header-Content-Length``; the caller sets
    ``Content-Type`` (``application/octet-stream`` then, else ``application/json``).

    Example:
        >>> import numpy as np
        >>> body, headers = encode_infer("m", None, None, np.array([1, 0]), None, binary=True)
        >>> length = int(headers["Inference-Header-Content-Length"])
        >>> body[:length]
        b'{"model_name":"m","outputs":[{"name":"predict","shape":[2],"datatype":"INT64",\
"parameters":{"binary_data_size":16}}]}'
        >>> np.frombuffer(body[length:], dtype="<i8")
        array([1, 0])

    Raises:
        InvalidInput: ``outputs`` names an output the model does not give.
    """
    named = _named_outputs(predictions, signature)
    if outputs is not None:
        unknown = [n for n in outputs if n not in named]
        if unknown:
            raise InvalidInput(f"unknown output(s) {unknown}; the model gives {list(named)}")
        named = {n: named[n] for n in outputs}
    document: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        document["model_version"] = model_version
    if request_id is not None:
        document["id"] = request_id
    chunks: list[bytes] | None = [] if binary else None
    document["outputs"] = [encode_tensor(n, a, chunks) for n, a in named.items()]
    header = json.dumps(document, separators=(",", ":")).encode()
    if chunks is None:
        return header, {}
    return header + b"".join(chunks), {HEADER_LENGTH: str(len(header))}


def _named_outputs(predictions: Any, signature: Signature | None) -> dict[str, np.ndarray]:
    spec = signature.outputs if signature is not None else None
    names = [c.name for c in spec] if isinstance(spec, tuple) else []
    if isinstance(predictions, pd.DataFrame):
        return {str(c): _array(predictions[c]) for c in predictions.columns}
    if isinstance(predictions, Mapping):
        return {str(k): _array(v) for k, v in predictions.items()}
    if isinstance(predictions, pd.Series) and isinstance(predictions.name, str):
        return {predictions.name: _array(predictions)}
    array = _array(predictions)
    if len(names) == 1:
        return {names[0]: array}
    if names and array.ndim == 2 and array.shape[1] == len(names):
        return {n: array[:, i] for i, n in enumerate(names)}
    return {DEFAULT_OUTPUT: array}


def _array(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype.kind not in "biuf":
            return values.astype(object).to_numpy()
        return values.to_numpy()
    return np.asarray(values)
