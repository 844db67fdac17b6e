"""Serving: models behind HTTP, in the protocols clients already speak.

The server answers MLflow's scoring protocol (``POST /invocations``), the Open
Inference Protocol V2 (KServe, Triton) and a plain ``POST /predict``, with
batching, signature checks and Prometheus metrics, and keeps every answer in
a prediction log that :func:`predictions` reads back, joined to the labels
sent to ``POST /feedback``. The HTTP parts need the ``serve`` extra
(``pip install 'mloop[serve]'``); the codecs and the log reader do not.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mloop.serving.log_reading import predictions as predictions

_LAZY = {"predictions": "mloop.serving.log_reading"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mloop.serving' has no attribute {name!r}")


__all__ = ["predictions"]
