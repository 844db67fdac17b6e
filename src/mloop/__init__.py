"""mloop: the whole machine-learning lifecycle as one loop.

The fluent tracking API lives at the top level, with MLflow's names::

    import mloop
    mloop.set_experiment("credit")
    with mloop.start_run(run_name="baseline"):
        mloop.log_param("lr", 0.1)
        mloop.log_metric("loss", 0.3, step=1)

``import mloop`` stays light: the database, artifact and data libraries load
when first used.
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata

from mloop.entities import Experiment as Experiment
from mloop.entities import Metric as Metric
from mloop.entities import Param as Param
from mloop.entities import Run as Run
from mloop.entities import RunStatus as RunStatus
from mloop.entities import RunTag as RunTag
from mloop.entities import ViewType as ViewType
from mloop.errors import MloopError as MloopError
from mloop.tracking.client import Client as Client
from mloop.tracking.fluent import ActiveRun as ActiveRun
from mloop.tracking.fluent import active_run as active_run
from mloop.tracking.fluent import delete_tag as delete_tag
from mloop.tracking.fluent import end_run as end_run
from mloop.tracking.fluent import flush as flush
from mloop.tracking.fluent import get_metric_history as get_metric_history
from mloop.tracking.fluent import get_run as get_run
from mloop.tracking.fluent import get_tracking_uri as get_tracking_uri
from mloop.tracking.fluent import log_artifact as log_artifact
from mloop.tracking.fluent import log_artifacts as log_artifacts
from mloop.tracking.fluent import log_dict as log_dict
from mloop.tracking.fluent import log_figure as log_figure
from mloop.tracking.fluent import log_input as log_input
from mloop.tracking.fluent import log_metric as log_metric
from mloop.tracking.fluent import log_metrics as log_metrics
from mloop.tracking.fluent import log_output as log_output
from mloop.tracking.fluent import log_param as log_param
from mloop.tracking.fluent import log_params as log_params
from mloop.tracking.fluent import log_text as log_text
from mloop.tracking.fluent import search_runs as search_runs
from mloop.tracking.fluent import set_experiment as set_experiment
from mloop.tracking.fluent import set_tag as set_tag
from mloop.tracking.fluent import set_tags as set_tags
from mloop.tracking.fluent import set_tracking_uri as set_tracking_uri
from mloop.tracking.fluent import start_run as start_run


def __getattr__(name: str) -> object:
    # Domain submodules load on first use so that ``import mloop`` stays light.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"mloop.{name}")
    if name in _LAZY_ATTRIBUTES:
        module, _, attribute = _LAZY_ATTRIBUTES[name].partition(":")
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'mloop' has no attribute {name!r}")


_LAZY_SUBMODULES = frozenset({"data", "models", "pipelines"})
_LAZY_ATTRIBUTES = {
    "step": "mloop.pipelines:step",
    "pipeline": "mloop.pipelines:pipeline",
    "tune": "mloop.pipelines.tuning:tune",
    "evaluate": "mloop.models.evaluation:evaluate",
}

try:
    __version__ = _metadata.version("mloop")
except _metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "ActiveRun",
    "Client",
    "Experiment",
    "Metric",
    "MloopError",
    "Param",
    "Run",
    "RunStatus",
    "RunTag",
    "ViewType",
    "__version__",
    "active_run",
    "data",
    "delete_tag",
    "end_run",
    "evaluate",
    "flush",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_output",
    "log_param",
    "log_params",
    "log_text",
    "models",
    "pipeline",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "step",
]
