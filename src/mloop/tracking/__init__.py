"""Experiment tracking: runs, params, metrics, tags and artifacts.

The fluent API (``mloop.start_run``, ``mloop.log_metric`` …) and the
:class:`~mloop.tracking.client.Client` both talk to the store protocols in
:mod:`mloop.store.protocols.tracking`, never to SQL directly.

``from mloop.tracking import MlflowClient`` works as MLflow's
``from mlflow.tracking import MlflowClient`` does. That client adds the model
registry, which sits above tracking, so the name is looked up on first use
(a module ``__getattr__``) and no tracking module imports it; type checkers
see the class through ``mloop.MlflowClient``.

Example:
    >>> from mloop.tracking import MlflowClient
    >>> MlflowClient.__module__
    'mloop.models.client'
"""

import importlib as _importlib
import typing as _typing

# MLflow's import path for its client; the class lives with the registry it serves.
_LAZY = {"MlflowClient": ("mloop.models.client", "MlflowClient")}

__all__ = ["MlflowClient"]


def __getattr__(name: str) -> _typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mloop.tracking' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    return getattr(_importlib.import_module(module), attribute)
