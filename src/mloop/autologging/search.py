"""A fitted parameter search (``GridSearchCV``, ``RandomizedSearchCV``) as MLflow logs it.

The parent run gets the best candidate's params as ``best_<param>``, its mean
cross-validated score as ``best_cv_score`` and the whole ``cv_results_`` as
the artifact ``cv_results.csv``; each of the best ``max_tuning_runs``
candidates (all when None), best first, becomes a child run holding its full
params and its aggregate CV metrics (``mean_test_score``, ``std_fit_time``,
``rank_test_score`` ...; the per-split columns are left out).

Example:
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.linear_model import LogisticRegression
    >>> grid = GridSearchCV(LogisticRegression(), {"C": [1, 2]})
    >>> is_search(grid), is_search(LogisticRegression())
    (True, False)
"""

from __future__ import annotations

import logging
import numbers
from typing import Any

from mloop.autologging.recording import loggable_params
from mloop.autologging.session import AUTOLOGGING_TAG, Session
from mloop.models.flavors import require

log = logging.getLogger(__name__)


def is_search(estimator: Any) -> bool:
    """Whether ``estimator`` is one of scikit-learn's parameter searches."""
    selection = require("sklearn.model_selection", "sklearn", "scikit-learn")
    return isinstance(estimator, selection.GridSearchCV | selection.RandomizedSearchCV)


def estimator_tags(estimator: Any) -> dict[str, str]:
    """``estimator_name`` and ``estimator_class`` (the class with its module), as MLflow."""
    kind = type(estimator)
    return {
        "estimator_name": kind.__name__,
        "estimator_class": f"{kind.__module__}.{kind.__qualname__}",
    }


def log_search_results(session: Session, search: Any) -> None:
    """Log the best params and score and ``cv_results.csv`` to the search's run."""
    import pandas as pd

    client, run_id = session.client, session.run_id
    if hasattr(search, "best_score_"):
        client.log_metrics(run_id, {"best_cv_score": float(search.best_score_)})
    if hasattr(search, "best_params_"):
        best = {f"best_{name}": value for name, value in search.best_params_.items()}
        client.log_params(run_id, loggable_params(best))
    table = pd.DataFrame.from_dict(search.cv_results_)
    client.log_text(run_id, table.to_csv(index=False), "cv_results.csv")


def log_child_runs(session: Session, search: Any, max_tuning_runs: int | None) -> int:
    """One finished child run per candidate, best first, at most ``max_tuning_runs``; how many."""
    import pandas as pd

    results = pd.DataFrame.from_dict(search.cv_results_)
    rank = "rank_test_score"
    if rank not in results.columns:  # several scorers: rank by the first
        rank = next(c for c in results.columns if str(c).startswith("rank_"))
    best = results if max_tuning_runs is None else results.nsmallest(max_tuning_runs, rank)
    best = best.sort_values(rank, kind="stable")
    if max_tuning_runs is not None and len(results) > max_tuning_runs:
        log.info(
            "logging the %d best of %d candidates as child runs (max_tuning_runs)",
            max_tuning_runs,
            len(results),
        )
    seed = search.estimator
    base = seed.get_params(deep=not is_search(seed))
    tags = {**session.options.extra_tags, **estimator_tags(seed)}
    tags[AUTOLOGGING_TAG] = session.options.flavor
    client = session.client
    for _, row in best.iterrows():
        child = client.create_run(
            session.experiment_id,
            tags=tags,
            parent_run_id=session.run_id,
            capture_environment=False,
        ).info.run_id
        client.log_params(child, loggable_params({**base, **row["params"]}))
        metrics = {
            str(key): float(value)
            for key, value in row.items()
            if not str(key).startswith(("param", "split"))
            and isinstance(value, numbers.Real)
            and not isinstance(value, bool)
        }
        client.log_metrics(child, metrics)
        client.set_terminated(child)
    return len(best)
