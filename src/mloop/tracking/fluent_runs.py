"""The fluent functions that read, search and delete runs, and load their tables.

Example:
    >>> import mloop
    >>> _ = mloop.set_experiment("runs-doc")
    >>> with mloop.start_run(run_name="r") as run:
    ...     mloop.log_metric("loss", 0.5)
    >>> [m.value for m in mloop.get_metric_history(run.info.run_id, "loss")]
    [0.5]
    >>> [r.info.run_name for r in mloop.search_runs(output_format="list")]
    ['r']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, overload

from mloop.entities import Metric, Run, RunTable, ViewType
from mloop.errors import InvalidInput, NotFound
from mloop.tracking import tables
from mloop.tracking.client import Client
from mloop.tracking.fluent_target import current_client, experiment_id_for
from mloop.tracking.frames import concat_tables, table_to_frame

if TYPE_CHECKING:
    import pandas as pd

_MAX_PAGE = 50_000


def delete_run(run_id: str) -> None:
    """Move a run to the bin (MLflow's ``mlflow.delete_run``); ``mloop gc`` removes it for good.

    Raises:
        NotFound: no such run.

    Example:
        >>> import mloop
        >>> with mloop.start_run() as run:
        ...     pass
        >>> mloop.delete_run(run.info.run_id)
        >>> mloop.get_run(run.info.run_id).info.lifecycle_stage.value
        'deleted'
    """
    current_client().delete_run(run_id)


def get_run(run_id: str) -> Run:
    """A run by id, with everything logged to it so far."""
    return current_client().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every point of a metric of a run."""
    return current_client().get_metric_history(run_id, key)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table ``artifact_file`` of several runs (default: the current experiment's), stacked."""
    client = current_client()
    if run_ids is None:
        found = client.search_runs([experiment_id_for(client)], max_results=_MAX_PAGE)
        run_ids = [r.info.run_id for r in found.items]
    return tables.load_table(client, artifact_file, run_ids, extra_columns)


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str | None = ...,
    run_view_type: ViewType = ...,
    max_results: int = ...,
    order_by: Sequence[str] | None = ...,
    output_format: Literal["pandas"] = ...,
    search_all_experiments: bool = ...,
    experiment_names: Sequence[str] | None = ...,
) -> pd.DataFrame: ...
@overload
def search_runs(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str | None = ...,
    run_view_type: ViewType = ...,
    max_results: int = ...,
    order_by: Sequence[str] | None = ...,
    output_format: Literal["list"] = ...,
    search_all_experiments: bool = ...,
    experiment_names: Sequence[str] | None = ...,
) -> list[Run]: ...
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Search runs; a pandas DataFrame (MLflow's layout) or a list of runs.

    The experiments searched are ``experiment_ids`` and ``experiment_names``;
    when neither is given, every active experiment of the project with
    ``search_all_experiments=True``, else the current one (MLflow's rules).

    Example:
        >>> import mloop
        >>> _ = mloop.set_experiment("search-doc")
        >>> with mloop.start_run():
        ...     _ = mloop.log_param("lr", 0.1)
        ...     mloop.log_metric("loss", 0.5)
        >>> mloop.search_runs(experiment_names=["search-doc"], filter_string="params.lr = '0.1'",
        ...                   order_by=["metrics.loss"])["params.lr"].tolist()
        ['0.1']
    """
    if output_format not in ("pandas", "list"):
        raise InvalidInput(f"output_format must be 'pandas' or 'list', got {output_format!r}")
    client = current_client()
    ids = [str(e) for e in experiment_ids or ()]
    for name in experiment_names or ():
        found = client.get_experiment_by_name(name)
        if found is None:
            raise NotFound(f"experiment {name!r} not found")
        ids.append(found.experiment_id)
    if not ids and search_all_experiments:
        ids = [e.experiment_id for e in client.search_experiments(ViewType.ACTIVE_ONLY)]
    if not ids:
        ids = [experiment_id_for(client)]
    if output_format == "pandas":
        return table_to_frame(
            _search_table(client, ids, filter_string, run_view_type, max_results, order_by)
        )
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < max_results:
        page = client.search_runs(
            ids,
            filter_string,
            run_view_type,
            min(_MAX_PAGE, max_results - len(runs)),
            order_by,
            token,
        )
        runs.extend(page.items)
        token = page.next_page_token
        if token is None:
            break
    return runs


def _search_table(
    client: Client,
    ids: Sequence[str],
    filter_string: str | None,
    run_view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
) -> RunTable:
    """Every page of a search as one table, no entity built per run."""
    pages: list[RunTable] = []
    found = 0
    token: str | None = None
    while found < max_results:
        page = client.search_run_table(
            ids, filter_string, run_view_type, min(_MAX_PAGE, max_results - found), order_by, token
        )
        pages.append(page)
        found += len(page)
        token = page.next_page_token
        if token is None:
            break
    return concat_tables(pages)
