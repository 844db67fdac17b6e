"""mloop: the whole machine-learning lifecycle as one loop.

The fluent tracking API lives at the top level, with MLflow's names::

    import mloop
    mloop.set_experiment("credit")
    with mloop.start_run(run_name="baseline"):
        mloop.log_param("lr", 0.1)
        mloop.log_metric("loss", 0.3, step=1)

``import mloop`` stays light: every name below loads from its module on first
use (a module ``__getattr__``), so the database, artifact and data libraries
load only when something needs them. Type checkers read the same names, with
their real types, from the ``TYPE_CHECKING`` block.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from mloop import data as data
    from mloop import lightgbm as lightgbm
    from mloop import models as models
    from mloop import onnx as onnx
    from mloop import pipelines as pipelines
    from mloop import pyfunc as pyfunc
    from mloop import pytorch as pytorch
    from mloop import sklearn as sklearn
    from mloop import xgboost as xgboost
    from mloop.autologging import autolog as autolog
    from mloop.entities import Experiment as Experiment
    from mloop.entities import Metric as Metric
    from mloop.entities import Param as Param
    from mloop.entities import Run as Run
    from mloop.entities import RunStatus as RunStatus
    from mloop.entities import RunTag as RunTag
    from mloop.entities import ViewType as ViewType
    from mloop.errors import MloopError as MloopError
    from mloop.models import evaluate as evaluate
    from mloop.models.client import MlflowClient as MlflowClient
    from mloop.models.client import register_model as register_model
    from mloop.pipelines import pipeline as pipeline
    from mloop.pipelines import step as step
    from mloop.pipelines import tune as tune
    from mloop.tracking.client import Client as Client
    from mloop.tracking.experiments import create_experiment as create_experiment
    from mloop.tracking.experiments import delete_experiment as delete_experiment
    from mloop.tracking.experiments import get_experiment as get_experiment
    from mloop.tracking.experiments import get_experiment_by_name as get_experiment_by_name
    from mloop.tracking.experiments import search_experiments as search_experiments
    from mloop.tracking.fluent import ActiveRun as ActiveRun
    from mloop.tracking.fluent import active_run as active_run
    from mloop.tracking.fluent import delete_run as delete_run
    from mloop.tracking.fluent import delete_tag as delete_tag
    from mloop.tracking.fluent import end_run as end_run
    from mloop.tracking.fluent import flush as flush
    from mloop.tracking.fluent import get_artifact_uri as get_artifact_uri
    from mloop.tracking.fluent import get_metric_history as get_metric_history
    from mloop.tracking.fluent import get_project as get_project
    from mloop.tracking.fluent import get_run as get_run
    from mloop.tracking.fluent import get_tracking_uri as get_tracking_uri
    from mloop.tracking.fluent import last_active_run as last_active_run
    from mloop.tracking.fluent import load_table as load_table
    from mloop.tracking.fluent import log_artifact as log_artifact
    from mloop.tracking.fluent import log_artifacts as log_artifacts
    from mloop.tracking.fluent import log_dict as log_dict
    from mloop.tracking.fluent import log_figure as log_figure
    from mloop.tracking.fluent import log_image as log_image
    from mloop.tracking.fluent import log_input as log_input
    from mloop.tracking.fluent import log_metric as log_metric
    from mloop.tracking.fluent import log_metrics as log_metrics
    from mloop.tracking.fluent import log_output as log_output
    from mloop.tracking.fluent import log_param as log_param
    from mloop.tracking.fluent import log_params as log_params
    from mloop.tracking.fluent import log_table as log_table
    from mloop.tracking.fluent import log_text as log_text
    from mloop.tracking.fluent import search_runs as search_runs
    from mloop.tracking.fluent import set_experiment as set_experiment
    from mloop.tracking.fluent import set_project as set_project
    from mloop.tracking.fluent import set_tag as set_tag
    from mloop.tracking.fluent import set_tags as set_tags
    from mloop.tracking.fluent import set_tracking_uri as set_tracking_uri
    from mloop.tracking.fluent import start_run as start_run
    from mloop.tracking.registry_uri import get_registry_uri as get_registry_uri
    from mloop.tracking.registry_uri import set_registry_uri as set_registry_uri

    __version__: str

# Where each public name lives: "module" for a submodule, "module:attribute" otherwise.
_LAZY: dict[str, str] = {
    "data": "mloop.data",
    "models": "mloop.models",
    "pipelines": "mloop.pipelines",
    "autolog": "mloop.autologging:autolog",
    # MLflow's flavor modules, by MLflow's names (mloop.sklearn.log_model ...).
    **{
        name: f"mloop.{name}"
        for name in ("lightgbm", "onnx", "pyfunc", "pytorch", "sklearn", "xgboost")
    },
    "Experiment": "mloop.entities:Experiment",
    "Metric": "mloop.entities:Metric",
    "Param": "mloop.entities:Param",
    "Run": "mloop.entities:Run",
    "RunStatus": "mloop.entities:RunStatus",
    "RunTag": "mloop.entities:RunTag",
    "ViewType": "mloop.entities:ViewType",
    "MloopError": "mloop.errors:MloopError",
    "evaluate": "mloop.models:evaluate",
    "pipeline": "mloop.pipelines:pipeline",
    "step": "mloop.pipelines:step",
    "tune": "mloop.pipelines:tune",
    "Client": "mloop.tracking.client:Client",
    "MlflowClient": "mloop.models.client:MlflowClient",
    "register_model": "mloop.models.client:register_model",
    **{
        name: f"mloop.tracking.experiments:{name}"
        for name in (
            "create_experiment",
            "delete_experiment",
            "get_experiment",
            "get_experiment_by_name",
            "search_experiments",
        )
    },
    **{
        name: f"mloop.tracking.fluent:{name}"
        for name in (
            "ActiveRun",
            "active_run",
            "delete_run",
            "delete_tag",
            "end_run",
            "flush",
            "get_artifact_uri",
            "get_metric_history",
            "get_run",
            "get_project",
            "get_tracking_uri",
            "last_active_run",
            "load_table",
            "log_artifact",
            "log_artifacts",
            "log_dict",
            "log_figure",
            "log_image",
            "log_input",
            "log_metric",
            "log_metrics",
            "log_output",
            "log_param",
            "log_params",
            "log_table",
            "log_text",
            "search_runs",
            "set_experiment",
            "set_project",
            "set_tag",
            "set_tags",
            "set_tracking_uri",
            "start_run",
        )
    },
    "get_registry_uri": "mloop.tracking.registry_uri:get_registry_uri",
    "set_registry_uri": "mloop.tracking.registry_uri:set_registry_uri",
}


def __getattr__(name: str) -> object:
    # First use of a name imports its module; the value is then kept in the
    # module's globals, so later lookups never come back here.
    if name == "__version__":
        value: object = _version()
    elif name in _LAZY:
        module, _, attribute = _LAZY[name].partition(":")
        loaded = _importlib.import_module(module)
        value = getattr(loaded, attribute) if attribute else loaded
    else:
        raise AttributeError(f"module 'mloop' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _version() -> str:
    # importlib.metadata costs tens of milliseconds: read it only when asked.
    from importlib import metadata

    try:
        return metadata.version("mloop")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


__all__ = [
    "ActiveRun",
    "Client",
    "Experiment",
    "Metric",
    "MlflowClient",
    "MloopError",
    "Param",
    "Run",
    "RunStatus",
    "RunTag",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "create_experiment",
    "data",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "evaluate",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_metric_history",
    "get_project",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "lightgbm",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_output",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "models",
    "onnx",
    "pipeline",
    "pipelines",
    "pyfunc",
    "pytorch",
    "register_model",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_project",
    "set_registry_uri",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "sklearn",
    "start_run",
    "step",
    "tune",
    "xgboost",
]
