"""scikit-learn autologging: every estimator's ``fit``, as MLflow's ``mlflow.sklearn.autolog``.

``fit`` (and ``fit_transform``/``fit_predict`` where a class has them) of every
scikit-learn estimator, ``Pipeline``, ``GridSearchCV`` and
``RandomizedSearchCV`` logs, into the active run or one it starts and ends:

- params: ``estimator.get_params(deep=True)`` (``deep=False`` for a search,
  whose seed's untuned params would mislead), e.g. ``C``, ``clf__C``;
- tags: ``estimator_name`` and ``estimator_class``;
- metrics on the training data (see :mod:`mloop.autologging.sklearn_metrics`);
- the fitted model at ``model`` with its signature (and input example when asked);
- for a search, also ``best_<param>``, ``best_cv_score``, ``cv_results.csv``,
  the best estimator at ``best_estimator`` and one child run per candidate
  (see :mod:`mloop.autologging.search`).

Preprocessing, imputation and feature extraction/selection estimators and
``ColumnTransformer`` are left alone (data manipulation, not models) unless
they run inside a pipeline, which logs once for all its steps.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> home = tempfile.mkdtemp()
    >>> mloop.set_tracking_uri(f"sqlite:///{home}/m.db", artifacts_uri=f"{home}/a")
    >>> autolog(log_models=False)
    >>> _ = LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    >>> run = mloop.last_active_run()
    >>> run.data.tags["estimator_name"], round(run.data.metrics["training_r2_score"], 6)
    ('LinearRegression', 1.0)
    >>> autolog(disable=True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from mloop.autologging import (
    plots,
    post_training,
    recording,
    search,
    sklearn_metrics,
    state,
    versions,
)
from mloop.autologging.options import Options, accepted_arguments, check_flag, unknown_argument
from mloop.autologging.patching import Patch
from mloop.autologging.session import Session, call
from mloop.errors import InvalidInput
from mloop.models.flavors import require

FLAVOR = "sklearn"
METHODS = ("fit", "fit_transform", "fit_predict")
# Data manipulation routines, not models: not logged on their own (as MLflow).
EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
EXCLUDED_CLASSES = ("sklearn.compose._column_transformer.ColumnTransformer",)
SERIALIZATION_FORMATS = ("cloudpickle", "pickle", "skops")  # each of them writes skops


def autolog(
    *,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = "cloudpickle",
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: Mapping[str, Any] | None = None,
    **unknown: Any,
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``, restoring every ``fit``).

    Arguments are MLflow's. ``max_tuning_runs``: how many of a search's best
    candidates become child runs (None: all). ``pos_label``: the positive class
    of a binary classifier's precision, recall and F1. ``registered_model_name``:
    register each logged model as a new version of this model.
    ``log_post_training_metrics``: log ``sklearn.metrics`` results computed on
    the model's predictions afterwards (see :mod:`mloop.autologging.post_training`).
    ``serialization_format`` takes MLflow's values (``cloudpickle``,
    ``pickle``, ``skops``); each saves with skops, as mloop never pickles.

    Raises:
        InvalidInput: an unknown argument or a bad value, before anything is patched.
        MissingExtra: scikit-learn is not installed.
    """
    if unknown:
        raise unknown_argument(
            "mloop.autologging.sklearn.autolog", next(iter(unknown)), accepted_arguments(autolog)
        )
    check_flag("disable", disable)
    options = Options.build(
        FLAVOR,
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_models=log_models,
        log_datasets=log_datasets,
        exclusive=exclusive,
        disable_for_unsupported_versions=disable_for_unsupported_versions,
        silent=silent,
        extra_tags=extra_tags,
        registered_model_name=registered_model_name,
        settings={
            "max_tuning_runs": _check_max_tuning_runs(max_tuning_runs),
            "pos_label": pos_label,
            "log_post_training_metrics": check_flag(
                "log_post_training_metrics", log_post_training_metrics
            ),
        },
    )
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidInput(
            f"serialization_format must be one of {SERIALIZATION_FORMATS}, got "
            f"{serialization_format!r} (every one of them saves with skops: mloop never pickles)"
        )
    require("sklearn", "sklearn", "scikit-learn")
    if disable:
        state.disable(FLAVOR)
        return
    if not versions.allowed("sklearn", options):
        state.disable(FLAVOR)
        return
    state.enable(options, patches, _wrapper)


def _check_max_tuning_runs(value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise InvalidInput(f"max_tuning_runs must be a whole number >= 0 or None, got {value!r}")


@functools.cache
def estimator_classes() -> tuple[type, ...]:
    """The classes whose fitting methods are patched, in a stable order (found once)."""
    selection = require("sklearn.model_selection", "sklearn", "scikit-learn")
    pipeline = require("sklearn.pipeline", "sklearn", "scikit-learn")
    utils = require("sklearn.utils", "sklearn", "scikit-learn")
    classes: set[type] = {cls for _, cls in utils.all_estimators()}
    classes |= {pipeline.Pipeline, selection.GridSearchCV, selection.RandomizedSearchCV}
    kept = [
        cls
        for cls in classes
        if not cls.__module__.startswith(EXCLUDED_MODULES)
        and f"{cls.__module__}.{cls.__qualname__}" not in EXCLUDED_CLASSES
    ]
    return tuple(sorted(kept, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}"))


def patches() -> list[Patch]:
    """The fitting, predicting and scoring methods of every patched class, and the metrics.

    A method shared through a descriptor is patched once.
    """
    found: list[Patch] = []
    seen: set[tuple[int, str]] = set()
    for cls in estimator_classes():
        for name in (*METHODS, *post_training.PREDICTING, "score"):
            patch = Patch.of_method(cls, name)
            if patch is not None and (id(patch.owner), patch.name) not in seen:
                seen.add((id(patch.owner), patch.name))
                found.append(patch)
    metrics = require("sklearn.metrics", "sklearn", "scikit-learn")
    found += [Patch.of(metrics, name) for name in post_training.metric_functions()]
    return found


def _wrapper(patch: Patch) -> Callable[..., Any]:
    if patch.method in METHODS:
        return fit_wrapper
    if patch.method in post_training.PREDICTING:
        return post_training.predict_wrapper
    if patch.method == "score":
        return post_training.score_wrapper
    return post_training.metric_wrapper


def fit_wrapper(original: Callable[..., Any], estimator: Any, *args: Any, **kwargs: Any) -> Any:
    """A patched fitting method: the original call, logged when autologging is on."""
    options = state.options_of(FLAVOR)
    if options is None:
        return original(estimator, *args, **kwargs)
    fit = _Fit(estimator, *recording.fit_data(original, estimator, args, kwargs))
    return call(options, lambda: original(estimator, *args, **kwargs), fit.before, fit.after)


class _Fit:
    """What one logged fit records before and after the user's call."""

    def __init__(self, estimator: Any, features: Any, y: Any, sample_weight: Any) -> None:
        self.estimator = estimator
        self.features = features
        self.y = y
        self.sample_weight = sample_weight

    def before(self, session: Session) -> None:
        estimator = self.estimator
        deep = not search.is_search(estimator)
        # Each part on its own: a param the run already holds costs neither tags nor data.
        session.guard(
            "log the params",
            lambda: recording.log_params(session, estimator.get_params(deep=deep)),
        )
        session.client.set_tags(session.run_id, search.estimator_tags(estimator))
        if session.options.log_datasets and self.features is not None:
            session.guard("log the training data", lambda: self._log_dataset(session))

    def _log_dataset(self, session: Session) -> None:
        recording.log_dataset(session, self.features, "train")

    def after(self, session: Session, _: None, result: Any) -> None:
        estimator, settings = self.estimator, session.options.settings
        if self.features is not None:
            session.guard("log the training metrics", lambda: self._log_metrics(session))
        if self.y is not None and sklearn_metrics.is_classifier(estimator):
            session.guard("draw the training plots", lambda: self._log_plots(session))
        if search.is_search(estimator):
            session.guard("log the search results", lambda: self._log_search(session))
        if session.options.log_models:
            session.guard("log the model", lambda: self._log_models(session))
        if settings["log_post_training_metrics"]:
            post_training.LEDGER.remember_model(estimator, session.run_id)

    def _log_metrics(self, session: Session) -> None:
        metrics, failures = sklearn_metrics.training_metrics(
            self.estimator,
            self.features,
            self.y,
            self.sample_weight,
            session.options.settings["pos_label"],
        )
        session.client.log_metrics(session.run_id, metrics)
        if failures:
            session.warn("mloop autologging could not compute " + "; ".join(failures))

    def _log_plots(self, session: Session) -> None:
        figures = plots.classifier_figures(
            self.estimator, self.features, self.y, self.sample_weight
        )
        plots.log_figures(session, figures)

    def _log_search(self, session: Session) -> None:
        search.log_search_results(session, self.estimator)
        search.log_child_runs(session, self.estimator, session.options.settings["max_tuning_runs"])

    def _log_models(self, session: Session) -> None:
        estimator, options = self.estimator, session.options
        rows = recording.head(self.features) if self.features is not None else None
        if hasattr(estimator, "predict"):
            recording.log_model(
                session, estimator, rows, registered_model_name=options.registered_model_name
            )
        best = getattr(estimator, "best_estimator_", None)
        if search.is_search(estimator) and best is not None:
            recording.log_model(session, best, rows, artifact_path="best_estimator")
