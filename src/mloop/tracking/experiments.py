"""The fluent experiment functions, with MLflow's names: create, get, search, delete.

They act on the store and project the fluent API uses (see
:func:`mloop.set_tracking_uri` and :func:`mloop.set_project`).

Example:
    >>> import mloop, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> mloop.set_tracking_uri(folder, artifacts_uri=f"{folder}/artifacts")
    >>> exp_id = mloop.create_experiment("churn", tags={"team": "risk"})
    >>> mloop.get_experiment_by_name("churn").experiment_id == exp_id
    True
    >>> [e.name for e in mloop.search_experiments(filter_string="tags.team = 'risk'")]
    ['churn']
    >>> mloop.set_tracking_uri("")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mloop.entities import Experiment, ViewType
from mloop.tracking.fluent_target import current_client


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
) -> str:
    """Create an experiment and return its id.

    Raises:
        AlreadyExists: the project has an experiment of that name.

    Example:
        >>> import mloop
        >>> mloop.create_experiment("create-doc")  # doctest: +SKIP
        '2'
    """
    return current_client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """The experiment with this id.

    Raises:
        NotFound: no such experiment.

    Example:
        >>> import mloop
        >>> mloop.get_experiment(mloop.create_experiment("get-doc")).name  # doctest: +SKIP
        'get-doc'
    """
    return current_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment of this name in the current project, or None.

    Example:
        >>> import mloop
        >>> mloop.get_experiment_by_name("no such experiment") is None
        True
    """
    return current_client().get_experiment_by_name(name)


def search_experiments(
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Experiments matching a filter on ``name``, ``tags.<key>`` and the like, oldest first.

    Example:
        >>> import mloop
        >>> mloop.search_experiments(filter_string="name = 'no such experiment'")
        []
    """
    return current_client().search_experiments(view_type, max_results, filter_string, order_by)


def delete_experiment(experiment_id: str) -> None:
    """Move an experiment to the bin; its runs are hidden with it until it is restored.

    Example:
        >>> import mloop
        >>> mloop.delete_experiment(mloop.create_experiment("bin-doc"))  # doctest: +SKIP
    """
    current_client().delete_experiment(experiment_id)
