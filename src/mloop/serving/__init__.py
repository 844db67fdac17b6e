"""Serving: models behind HTTP, in the protocols clients already speak, and batch scoring.

The server answers MLflow's scoring protocol (``POST /invocations``), the Open
Inference Protocol V2 (KServe, Triton) and a plain ``POST /predict``, with
batching, signature checks and Prometheus metrics. The HTTP parts need the
``serve`` extra (``pip install 'mloop[serve]'``); the codecs here do not.
:func:`predict_batch` scores a Parquet or CSV file (or a dataset version) in
chunks; it loads from its module on first use, and never imports FastAPI.

Example:
    >>> from mloop.serving import predict_batch
    >>> predict_batch.__name__
    'predict_batch'
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from mloop.serving.batch_scoring import BatchResult as BatchResult
    from mloop.serving.batch_scoring import predict_batch as predict_batch

_LAZY = {
    "BatchResult": "mloop.serving.batch_scoring:BatchResult",
    "predict_batch": "mloop.serving.batch_scoring:predict_batch",
}

__all__ = ["BatchResult", "predict_batch"]


def __getattr__(name: str) -> object:
    # First use of a name imports its module (pyarrow, the model registry), then keeps it.
    if name not in _LAZY:
        raise AttributeError(f"module 'mloop.serving' has no attribute {name!r}")
    module, _, attribute = _LAZY[name].partition(":")
    value = getattr(_importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
