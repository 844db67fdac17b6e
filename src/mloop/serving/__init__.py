"""Serving: models behind HTTP, in the protocols clients already speak.

The server answers MLflow's scoring protocol (``POST /invocations``), the Open
Inference Protocol V2 (KServe, Triton) and a plain ``POST /predict``, with
batching, signature checks and Prometheus metrics. The HTTP parts need the
``serve`` extra (``pip install 'mloop[serve]'``); the codecs here do not.

Deployments (:mod:`mloop.serving.deployments`) name what an endpoint serves:
a primary version, a canary with a share of traffic or a blue-green twin, a
shadow, and a sticky header; they are imported on first use, with no web
framework.

Example:
    >>> import mloop.serving
    >>> mloop.serving.list_deployments()
    []
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mloop.serving.deployments import create_deployment as create_deployment
    from mloop.serving.deployments import delete_deployment as delete_deployment
    from mloop.serving.deployments import deployment_history as deployment_history
    from mloop.serving.deployments import get_deployment as get_deployment
    from mloop.serving.deployments import list_deployments as list_deployments
    from mloop.serving.deployments import promote as promote
    from mloop.serving.deployments import rollback as rollback
    from mloop.serving.deployments import update_deployment as update_deployment

__all__ = [
    "create_deployment",
    "delete_deployment",
    "deployment_history",
    "get_deployment",
    "list_deployments",
    "promote",
    "rollback",
    "update_deployment",
]


def __getattr__(name: str) -> Any:
    """Import the deployment functions when first asked for (no FastAPI, no registry at import)."""
    if name in __all__:
        return getattr(importlib.import_module("mloop.serving.deployments"), name)
    raise AttributeError(f"module 'mloop.serving' has no attribute {name!r}")
