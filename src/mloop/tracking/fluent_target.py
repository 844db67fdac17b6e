"""Where the fluent API logs: the tracking URI, the project, the current experiment.

Each fluent call goes through :func:`current_client`, the client of the
process's default context, made once and kept while the settings and the
process's choices stay the same.

Example:
    >>> import mloop, tempfile
    >>> from mloop.tracking.fluent_target import current_client
    >>> home = tempfile.mkdtemp()
    >>> mloop.set_tracking_uri(f"sqlite:///{home}/mloop.db", artifacts_uri=f"{home}/artifacts")
    >>> current_client().tracking_uri == mloop.get_tracking_uri()
    True
    >>> mloop.set_tracking_uri("")
"""

from __future__ import annotations

import os
import threading

from mloop.config import tracking_uri_from
from mloop.context import current
from mloop.context.context import Context
from mloop.context.defaults import chosen_settings, default_context
from mloop.entities import Experiment
from mloop.errors import Conflict, InvalidInput
from mloop.tracking.client import DEFAULT_EXPERIMENT, Client, experiment_named

_lock = threading.Lock()
_experiment_id: str | None = None
_experiment_scope: tuple[str, str, str, str] | None = None  # where _experiment_id was set
_last_client: Client | None = None


def current_client() -> Client:
    """The client of the current tracking URI (what the fluent API logs through)."""
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
    client = current_client()
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
    return experiment_id_for(current_client())


def experiment_id_for(client: Client) -> str:
    """The experiment new runs of ``client`` go to (see :func:`current_experiment_id`).

    Example:
        >>> import mloop
        >>> from mloop.tracking.fluent_target import current_client
        >>> experiment = mloop.set_experiment("target-doc")
        >>> experiment_id_for(current_client()) == experiment.experiment_id
        True
    """
    # The experiment set belongs to the store and project it was set in.
    if _experiment_id is not None and _experiment_scope == _context_key(client.context):
        return _experiment_id
    name = client.settings.experiment_name
    return experiment_named(client, name or DEFAULT_EXPERIMENT).experiment_id
