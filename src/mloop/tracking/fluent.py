"""The fluent tracking API: module-level functions acting on the active run.

Names and behaviour follow MLflow's fluent API, so a script moves over by
changing ``mlflow`` to ``mloop``.

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

import atexit
import contextlib
import dataclasses
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from mloop.config import tracking_uri_from
from mloop.context import current
from mloop.context.context import Context
from mloop.context.defaults import chosen_settings, default_context
from mloop.entities import (
    Experiment,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTable,
    ViewType,
)
from mloop.errors import Conflict, InvalidInput, MloopError, NotFound
from mloop.tracking import lifecycle, system_metrics, tables
from mloop.tracking.client import DEFAULT_EXPERIMENT, Client, as_run_io, experiment_named
from mloop.tracking.frames import concat_tables, table_to_frame
from mloop.tracking.interrupts import Terminated

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
_MAX_PAGE = 50_000


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []


_runs = _State()
_lock = threading.Lock()
_experiment_id: str | None = None
_experiment_scope: tuple[str, str, str, str] | None = None  # where _experiment_id was set
_last_client: Client | None = None
_last_run_id: str | None = None  # the run this process started last (last_active_run)


class ActiveRun:
    """The run a ``with mloop.start_run():`` block logs to.

    Leaving the block ends the run: FINISHED, or FAILED with the error recorded
    when an exception escapes (buffered data is flushed first either way).
    """

    def __init__(self, run: Run, client: Client) -> None:
        self._run = run
        self._client = client

    @property
    def info(self) -> RunInfo:
        """The run's info as it was when the run started."""
        return self._run.info

    @property
    def data(self) -> RunData:
        """The run's params, tags and latest metrics, read now."""
        return self._client.get_run(self._run.info.run_id).data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            end_run()
            return
        killed = isinstance(exc, KeyboardInterrupt | Terminated)
        status = RunStatus.KILLED if killed else RunStatus.FAILED
        _end(self, status, lifecycle.error_text(exc_type, exc, tb))


def _client() -> Client:
    # The default context is the same object while the settings and the process's
    # choices stay the same: then so is its client (a few lookups per call).
    global _last_client
    ctx = default_context()
    last = _last_client
    if last is not None and last.context is ctx:
        return last
    with _lock:
        last = _last_client
        if last is None or last.context is not ctx:
            last = _last_client = Client(context=ctx)
    return last


def _context_key(ctx: Context) -> tuple[str, str, str, str]:
    return (ctx.tracking_uri, ctx.artifacts_uri, ctx.project, ctx.actor.name)


def set_tracking_uri(
    uri: str | os.PathLike[str], *, artifacts_uri: str | os.PathLike[str] | None = None
) -> None:
    """Point the fluent API at a metadata store (``sqlite:///…``, ``postgresql+psycopg://…``).

    A folder (``PATH``, ``file:PATH``) means the store inside it; see
    :func:`mloop.config.tracking_uri_from`. ``artifacts_uri`` is that store's
    artifact root when it is not the settings' (``--artifacts-uri``). A
    :class:`~mloop.tracking.client.Client` created without a URI follows both,
    and so do the data and model APIs.

    Example:
        >>> import mloop, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> mloop.set_tracking_uri(folder, artifacts_uri=f"{folder}/objects")
        >>> mloop.Client().settings.artifacts_uri == f"{folder}/objects"
        True
        >>> mloop.set_tracking_uri("")
    """
    global _experiment_id
    text = os.fspath(uri)
    artifacts = os.fspath(artifacts_uri) if artifacts_uri is not None else None
    current.set_tracking_uri(tracking_uri_from(text) if text else None, artifacts)
    _experiment_id = None


def get_tracking_uri() -> str:
    """The metadata store URL the fluent API uses.

    Example:
        >>> import mloop
        >>> mloop.set_tracking_uri("sqlite:///:memory:")
        >>> mloop.get_tracking_uri()
        'sqlite:///:memory:'
        >>> mloop.set_tracking_uri("")
    """
    return chosen_settings().resolved_tracking_uri()


def set_project(name: str | None) -> None:
    """Make ``name`` the project that experiments, datasets and models are named in.

    ``None`` goes back to ``MLOOP_PROJECT`` (or ``default``). The current
    experiment is forgotten: the next run goes to the new project's.

    Raises:
        InvalidInput: an invalid project name.

    Example:
        >>> import mloop
        >>> mloop.set_project("fraud")
        >>> mloop.get_project()
        'fraud'
        >>> mloop.set_project(None)
    """
    global _experiment_id
    current.set_project(name)
    _experiment_id = None


def get_project() -> str:
    """The project the fluent API names things in.

    Example:
        >>> import mloop
        >>> mloop.get_project()
        'default'
    """
    return chosen_settings().project


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment current, creating it by name if needed.

    ``experiment_id="0"`` (MLflow's id of its Default experiment) is the
    project's ``Default`` experiment, the one runs go to when none is set.

    Raises:
        InvalidInput: both or neither of the arguments given.
        NotFound: no experiment with that id.
        Conflict: the experiment is deleted.

    Example:
        >>> import mloop
        >>> mloop.set_experiment(experiment_id="0").name
        'Default'
    """
    global _experiment_id, _experiment_scope
    client = _client()
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidInput("pass exactly one of experiment_name or experiment_id")
    if experiment_id is not None:
        experiment = client.get_experiment(experiment_id)
    else:
        experiment = experiment_named(client, experiment_name or "")
    if experiment.lifecycle_stage.value == "deleted":
        raise Conflict(
            f"experiment {experiment.name!r} is deleted; restore it or pick another name"
        )
    _experiment_id = experiment.experiment_id
    _experiment_scope = _context_key(client.context)
    return experiment


def current_experiment_id() -> str:
    """The experiment new runs go to: the one set, ``MLOOP_EXPERIMENT_NAME``, or Default."""
    return _current_experiment_id(_client())


def current_client() -> Client:
    """The client of the current tracking URI (what the fluent API logs through)."""
    return _client()


def _current_experiment_id(client: Client) -> str:
    # The experiment set belongs to the store and project it was set in.
    if _experiment_id is not None and _experiment_scope == _context_key(client.context):
        return _experiment_id
    name = client.settings.experiment_name
    return experiment_named(client, name or DEFAULT_EXPERIMENT).experiment_id


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume one by ``run_id``) and make it active.

    ``log_system_metrics`` (default: the ``log_system_metrics`` setting) samples
    CPU, memory, disk, network and GPUs as ``system/...`` metrics in the
    background until the run ends; see :mod:`mloop.tracking.system_metrics`.

    Raises:
        Conflict: a run is already active and ``nested`` is False.
        NotFound: ``run_id`` or ``experiment_id`` does not exist.
        MissingExtra: system metrics are asked for without psutil installed.
    """
    client = _client()
    if log_system_metrics is None:
        log_system_metrics = client.settings.log_system_metrics
    if log_system_metrics:
        system_metrics.psutil_module()  # refuse before a run is created
    stack = _runs.stack
    if stack and not nested:
        raise Conflict(
            f"run {stack[-1].info.run_id} is already active; end it with mloop.end_run() "
            "or start this one with nested=True"
        )
    if run_id is not None:
        run = client.get_run(run_id)
        if run.info.lifecycle_stage.value == "deleted":
            raise Conflict(f"run {run_id} is deleted; restore it before resuming it")
        client.update_run(run_id, status=RunStatus.RUNNING)
        if tags:
            client.set_tags(run_id, tags)
    else:
        parent = parent_run_id or (stack[-1].info.run_id if stack else None)
        exp = experiment_id if experiment_id is not None else _current_experiment_id(client)
        run = client.create_run(exp, run_name=run_name, tags=tags, parent_run_id=parent)
    global _last_run_id
    active = ActiveRun(run, client)
    stack.append(active)
    _last_run_id = run.info.run_id
    if log_system_metrics:
        _monitor(client, run.info.run_id)
    # A script that never ends its run and dies of an exception or SIGTERM
    # leaves it FAILED or KILLED, not FINISHED by the exit handler below.
    lifecycle.install(_end_active_runs)
    return active


def _monitor(client: Client, run_id: str) -> None:
    def log_sample(metrics: Mapping[str, float], step: int) -> None:
        client.log_metrics(run_id, metrics, step=step)  # queued: never waits on the store

    system_metrics.start_monitor(run_id, log_sample, client.settings.system_metrics_interval)


def _end_active_runs(status: RunStatus, error: str | None) -> None:
    while _runs.stack:
        try:
            _end(_runs.stack[-1], status, error)
        except MloopError as err:
            log.error("mloop could not end run: %s", err)


@contextlib.contextmanager
def use_run(run: Run) -> Iterator[ActiveRun]:
    """Make an existing run the active one inside the block, without starting or ending it.

    What the block logs through the fluent API goes to ``run``; pipelines run
    their steps this way.
    """
    active = ActiveRun(run, _client())
    _runs.stack.append(active)
    try:
        yield active
    finally:
        if active in _runs.stack:
            _runs.stack.remove(active)


def _end(active: ActiveRun, status: RunStatus, error: str | None = None) -> None:
    stack = _runs.stack
    if active in stack:
        stack.remove(active)
    system_metrics.stop_monitor(active.info.run_id)
    active._client.set_terminated(active.info.run_id, status, error=error)


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run (no-op when none is active), flushing what it logged."""
    if _runs.stack:
        _end(_runs.stack[-1], RunStatus(status))


def _end_runs_at_exit() -> None:
    # Like MLflow: a script that never ends its run still leaves it FINISHED,
    # with everything it logged written.
    while _runs.stack:
        try:
            end_run()
        except MloopError as err:
            log.error("mloop could not end run at exit: %s", err)
            _runs.stack.pop()


atexit.register(_end_runs_at_exit)


def active_run() -> ActiveRun | None:
    """The active run of this thread, or None."""
    return _runs.stack[-1] if _runs.stack else None


def last_active_run() -> Run | None:
    """The active run, else the run this process started last (ended or not), read now.

    Example:
        >>> import mloop
        >>> with mloop.start_run() as run:  # doctest: +SKIP
        ...     pass
        >>> mloop.last_active_run().info.status  # doctest: +SKIP
        <RunStatus.FINISHED: 'FINISHED'>
    """
    run_id = _runs.stack[-1].info.run_id if _runs.stack else _last_run_id
    return None if run_id is None else _client().get_run(run_id)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """Where the active run's artifacts live (``mloop-artifacts:/RUN``), or one of them.

    Example:
        >>> import mloop
        >>> with mloop.start_run() as run:  # doctest: +SKIP
        ...     mloop.get_artifact_uri("model") == f"mloop-artifacts:/{run.info.run_id}/model"
        True
    """
    root = _client().get_run(_run_id()).info.artifact_uri.rstrip("/")
    return f"{root}/{artifact_path.lstrip('/')}" if artifact_path else root


def _run_id() -> str:
    stack = _runs.stack
    if stack:
        return stack[-1].info.run_id
    try:
        return start_run().info.run_id
    except MloopError as err:
        raise InvalidInput(f"no active run, and none could be started: {err}") from err


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param of the active run (starting one if needed); returns the value.

    The ``log_*`` functions take MLflow's arguments in MLflow's order.
    ``synchronous`` (here and on ``set_tag*``) is MLflow's: True returns once
    the write is durable; False and None (the default) leave it to the
    background writer, durable at :func:`flush` or when the run ends.
    ``run_id`` logs to that run instead of the active one.
    """
    _client().log_param(_run_id(), key, value, synchronous)
    return value


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    """Log several params of the active run (or of ``run_id``) at once."""
    _client().log_params(run_id or _run_id(), params, synchronous)


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log a metric point of the active run (or of ``run_id``); durable at flush or run end."""
    if run_id is None:
        stack = _runs.stack
        run_id = stack[-1]._run.info.run_id if stack else _run_id()
    _client().log_metric(
        run_id, key, value, step=step, timestamp=timestamp, synchronous=synchronous
    )


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
) -> None:
    """Log several metrics sharing one step, to the active run or ``run_id``."""
    _client().log_metrics(
        run_id or _run_id(), metrics, step=step, timestamp=timestamp, synchronous=synchronous
    )


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    """Set a tag of the active run."""
    _client().set_tag(_run_id(), key, value, synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    """Set several tags of the active run."""
    _client().set_tags(_run_id(), tags, synchronous)


def delete_tag(key: str) -> None:
    """Remove a tag of the active run."""
    _client().delete_tag(_run_id(), key)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Store a file or folder as an artifact of the active run."""
    _client().log_artifact(_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Store a folder's contents as artifacts of the active run."""
    _client().log_artifacts(_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    """Store a string as a text artifact of the active run."""
    _client().log_text(_run_id(), text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> None:
    """Store a mapping as a JSON (or YAML) artifact of the active run."""
    _client().log_dict(_run_id(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Store a matplotlib figure as an image artifact of the active run."""
    _client().log_figure(_run_id(), figure, artifact_file)


def log_input(item: object, context: str | None = None) -> None:
    """Record that the active run consumed ``item`` (anything with a ``digest``)."""
    record = as_run_io(item, "input")
    if context:
        record = dataclasses.replace(record, context=context)
    _client().log_inputs(_run_id(), [record])


def log_output(item: object) -> None:
    """Record that the active run produced ``item`` (anything with a ``digest``)."""
    _client().log_inputs(_run_id(), [item], direction="output")


def log_table(
    data: Mapping[str, Sequence[Any]] | pd.DataFrame, artifact_file: str, run_id: str | None = None
) -> None:
    """Store a table (a DataFrame, or a mapping of column to values) as a JSON artifact."""
    tables.log_table(_client(), run_id or _run_id(), data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table ``artifact_file`` of several runs (default: the current experiment's), stacked."""
    client = _client()
    if run_ids is None:
        found = client.search_runs([_current_experiment_id(client)], max_results=_MAX_PAGE)
        run_ids = [r.info.run_id for r in found.items]
    return tables.load_table(client, artifact_file, run_ids, extra_columns)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    *,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
) -> None:
    """Store an image (numpy array or PIL image) at ``artifact_file``, or under ``key`` by step."""
    tables.log_image(
        _client(), _run_id(), image, artifact_file, key=key, step=step, timestamp=timestamp
    )


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
    _client().delete_run(run_id)


def get_run(run_id: str) -> Run:
    """A run by id, with everything logged to it so far."""
    return _client().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every point of a metric of a run."""
    return _client().get_metric_history(run_id, key)


def flush() -> None:
    """Write everything buffered; returns when it is durable."""
    _client().flush()


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
    client = _client()
    ids = [str(e) for e in experiment_ids or ()]
    for name in experiment_names or ():
        found = client.get_experiment_by_name(name)
        if found is None:
            raise NotFound(f"experiment {name!r} not found")
        ids.append(found.experiment_id)
    if not ids and search_all_experiments:
        ids = [e.experiment_id for e in client.search_experiments(ViewType.ACTIVE_ONLY)]
    if not ids:
        ids = [_current_experiment_id(client)]
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
