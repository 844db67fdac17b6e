"""Serving: models behind HTTP, in the protocols clients already speak, and batch scoring.

The server answers MLflow's scoring protocol (``POST /invocations``), the Open
Inference Protocol V2 (KServe, Triton) and a plain ``POST /predict``, with
batching, signature checks and Prometheus metrics, and keeps every answer in
a prediction log that :func:`predictions` reads back, joined to the labels
sent to ``POST /feedback``. The HTTP parts need the ``serve`` extra
(``pip install 'mloop[serve]'``); the codecs and the log reader do not.
:func:`predict_batch` scores a Parquet or CSV file (or a dataset version) in
chunks. Deployments (:mod:`mloop.serving.deployments`) name what an endpoint
serves: a primary version, a canary with a share of traffic or a blue-green
twin, a shadow, and a sticky header; ``mloop serve DEPLOYMENT`` routes by it
and follows its changes, and a canary analysis policy
(:class:`CanaryPolicy`, :func:`analyze_canary`) steps the canary up, promotes
it or takes it out on live evidence. Every name here loads from its module on
first use, and none imports FastAPI.

Example:
    >>> from mloop.serving import predict_batch
    >>> predict_batch.__name__
    'predict_batch'
    >>> import mloop.serving
    >>> mloop.serving.list_deployments()
    []
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from mloop.serving.asgi import app as app
    from mloop.serving.batch_scoring import BatchResult as BatchResult
    from mloop.serving.batch_scoring import predict_batch as predict_batch
    from mloop.serving.canary_decisions import analyze_canary as analyze_canary
    from mloop.serving.canary_policy import CanaryPolicy as CanaryPolicy
    from mloop.serving.deployments import create_deployment as create_deployment
    from mloop.serving.deployments import delete_deployment as delete_deployment
    from mloop.serving.deployments import deployment_history as deployment_history
    from mloop.serving.deployments import get_deployment as get_deployment
    from mloop.serving.deployments import list_deployments as list_deployments
    from mloop.serving.deployments import promote as promote
    from mloop.serving.deployments import rollback as rollback
    from mloop.serving.deployments import set_canary_policy as set_canary_policy
    from mloop.serving.deployments import update_deployment as update_deployment
    from mloop.serving.log_reading import predictions as predictions

_DEPLOYMENTS = "mloop.serving.deployments"
_LAZY = {
    "app": "mloop.serving.asgi",
    "BatchResult": "mloop.serving.batch_scoring",
    "predict_batch": "mloop.serving.batch_scoring",
    "analyze_canary": "mloop.serving.canary_decisions",
    "CanaryPolicy": "mloop.serving.canary_policy",
    "create_deployment": _DEPLOYMENTS,
    "delete_deployment": _DEPLOYMENTS,
    "deployment_history": _DEPLOYMENTS,
    "get_deployment": _DEPLOYMENTS,
    "list_deployments": _DEPLOYMENTS,
    "promote": _DEPLOYMENTS,
    "rollback": _DEPLOYMENTS,
    "set_canary_policy": _DEPLOYMENTS,
    "update_deployment": _DEPLOYMENTS,
    "predictions": "mloop.serving.log_reading",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> object:
    # First use of a name imports its module (pyarrow, the model registry), then keeps it.
    if name not in _LAZY:
        raise AttributeError(f"module 'mloop.serving' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
