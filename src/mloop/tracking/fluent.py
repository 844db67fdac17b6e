"""The fluent tracking API: module-level functions acting on the active run.

Names and behaviour follow MLflow's fluent API, so a script moves over by
changing ``mlflow`` to ``mloop``. This module gathers the API from its parts:

- :mod:`~mloop.tracking.fluent_target`: the tracking URI, project and current
  experiment, and the client of them;
- :mod:`~mloop.tracking.active_runs`: starting, using and ending the active run;
- :mod:`~mloop.tracking.fluent_logging`: params, metrics, tags, artifacts, tables,
  inputs and outputs of the active run;
- :mod:`~mloop.tracking.fluent_runs`: reading, searching and deleting runs, and
  loading their tables.

Example:
    >>> import mloop, tempfile
    >>> home = tempfile.mkdtemp()
    >>> mloop.set_tracking_uri(f"sqlite:///{home}/mloop.db", artifacts_uri=f"{home}/artifacts")
    >>> _ = mloop.set_experiment("fluent-doc")
    >>> with mloop.start_run(run_name="demo") as run:
    ...     _ = mloop.log_param("lr", 0.1)
    ...     mloop.log_metric("loss", 0.5, step=1)
    >>> mloop.get_run(run.info.run_id).data.params
    {'lr': '0.1'}
"""

from __future__ import annotations

from mloop.tracking.active_runs import ActiveRun as ActiveRun
from mloop.tracking.active_runs import active_run as active_run
from mloop.tracking.active_runs import end_run as end_run
from mloop.tracking.active_runs import get_artifact_uri as get_artifact_uri
from mloop.tracking.active_runs import last_active_run as last_active_run
from mloop.tracking.active_runs import start_run as start_run
from mloop.tracking.active_runs import use_run as use_run
from mloop.tracking.fluent_logging import delete_tag as delete_tag
from mloop.tracking.fluent_logging import flush as flush
from mloop.tracking.fluent_logging import log_artifact as log_artifact
from mloop.tracking.fluent_logging import log_artifacts as log_artifacts
from mloop.tracking.fluent_logging import log_dict as log_dict
from mloop.tracking.fluent_logging import log_figure as log_figure
from mloop.tracking.fluent_logging import log_image as log_image
from mloop.tracking.fluent_logging import log_input as log_input
from mloop.tracking.fluent_logging import log_metric as log_metric
from mloop.tracking.fluent_logging import log_metrics as log_metrics
from mloop.tracking.fluent_logging import log_output as log_output
from mloop.tracking.fluent_logging import log_param as log_param
from mloop.tracking.fluent_logging import log_params as log_params
from mloop.tracking.fluent_logging import log_table as log_table
from mloop.tracking.fluent_logging import log_text as log_text
from mloop.tracking.fluent_logging import set_tag as set_tag
from mloop.tracking.fluent_logging import set_tags as set_tags
from mloop.tracking.fluent_runs import delete_run as delete_run
from mloop.tracking.fluent_runs import get_metric_history as get_metric_history
from mloop.tracking.fluent_runs import get_run as get_run
from mloop.tracking.fluent_runs import load_table as load_table
from mloop.tracking.fluent_runs import search_runs as search_runs
from mloop.tracking.fluent_target import current_client as current_client
from mloop.tracking.fluent_target import current_experiment_id as current_experiment_id
from mloop.tracking.fluent_target import get_project as get_project
from mloop.tracking.fluent_target import get_tracking_uri as get_tracking_uri
from mloop.tracking.fluent_target import set_experiment as set_experiment
from mloop.tracking.fluent_target import set_project as set_project
from mloop.tracking.fluent_target import set_tracking_uri as set_tracking_uri
