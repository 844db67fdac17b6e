"""What XGBoost and LightGBM autologging share: a logged ``train`` and a logged ``fit``.

A patched ``train`` logs the booster params and ``train``'s own arguments
(``num_boost_round`` ...), each evaluation metric of each evaluation set per
iteration as ``<set>-<metric>`` with the iteration as step, early stopping's
``stopped_iteration`` and ``best_iteration`` (with the best iteration's metrics
again at the step after the last), the feature importance as
``feature_importance_<type>.json`` and the booster at ``model``. A patched
scikit-learn ``fit`` logs the estimator's params and tags, lets its inner
``train`` log the rest except the model, and logs the fitted estimator at
``model``.

Example:
    >>> def train(params, dtrain, num_boost_round=10, *, callbacks=None): ...
    >>> call_params(train, ({"eta": 0.1}, "data"), {}, ("params", "dtrain", "callbacks"))
    {'num_boost_round': 10}
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Protocol

from mloop.autologging import plots, recording, search, state
from mloop.autologging import session as sessions
from mloop.autologging.session import Session


class Library(Protocol):
    """How one boosting library is read: the checklist an integration fills in."""

    unlogged: tuple[str, ...]
    """``train`` arguments that are not params (data, callbacks, objects)."""

    def callback(self, record: Callable[[int, dict[str, float]], None]) -> Any:
        """A training callback calling ``record(iteration, {"<set>-<metric>": value})``."""

    def example(self, arguments: Mapping[str, Any]) -> Any:
        """A few rows of the training data of a ``train`` call, or None."""

    def datasets(self, arguments: Mapping[str, Any]) -> list[tuple[Any, str]]:
        """The training and evaluation data of a ``train`` call, as (data, context)."""

    def early_stopping(
        self, model: Any, arguments: Mapping[str, Any], iterations: int
    ) -> tuple[int, int, int] | None:
        """``(stopped_iteration, best_iteration, index of the best in the history)`` or None."""

    def importances(self, model: Any, types: Sequence[str]) -> dict[str, dict[str, float]]:
        """Feature importance by type, each a mapping of feature to value."""

    def predict(self, model: Any) -> Callable[[Any], Any]:
        """The booster's predictions for a few rows (for the signature)."""


def call_params(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    unlogged: Sequence[str],
) -> dict[str, Any]:
    """``function``'s named arguments in this call, defaults filled in, ``unlogged`` left out."""
    bound = inspect.signature(function).bind_partial(*args, **kwargs)
    bound.apply_defaults()
    skipped = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    parameters = bound.signature.parameters
    return {
        name: value
        for name, value in bound.arguments.items()
        if name not in unlogged and parameters[name].kind not in skipped
    }


class TrainCall:
    """One logged ``train`` call: its callback, then what it logs before and after."""

    def __init__(
        self,
        library: Library,
        original: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        inner: bool,
    ) -> None:
        self.library = library
        self.original = original
        self.args = args
        self.kwargs = kwargs
        self.inner = inner  # inside a logged fit: that fit logs the model and the data
        self.history: list[dict[str, float]] = []
        self.session: Session | None = None
        self.failed = False
        bound = inspect.signature(original).bind_partial(*args, **kwargs)
        self.arguments = dict(bound.arguments)

    def run(self) -> Any:
        """The user's ``train`` call, with the recording callback added to its callbacks."""
        arguments = dict(self.arguments)
        arguments["callbacks"] = [
            *(arguments.get("callbacks") or []),
            self.library.callback(self._record),
        ]
        bound = inspect.signature(self.original).bind_partial()
        bound.arguments.update(arguments)
        return self.original(*bound.args, **bound.kwargs)

    def _record(self, iteration: int, metrics: dict[str, float]) -> None:
        self.history.append(metrics)
        session = self.session
        if session is None or self.failed or not metrics:
            return
        try:  # a callback that raises would stop the user's training
            session.client.log_metrics(session.run_id, metrics, step=iteration)
        except Exception as err:
            self.failed = True
            session.warn(
                f"mloop autologging could not log the metrics of iteration {iteration}: {err}"
            )

    def before(self, session: Session) -> Any:
        """Log the params and the data; keep a few training rows for the signature."""
        self.session = session
        params = dict(self.arguments.get("params") or {})
        params.update(call_params(self.original, self.args, self.kwargs, self.library.unlogged))
        session.guard("log the params", partial(recording.log_params, session, params))
        if session.options.log_datasets and not self.inner:
            for data, context in self.library.datasets(self.arguments):
                session.guard(
                    f"log the {context} data",
                    partial(recording.log_dataset, session, data, context),
                )
        return (
            None
            if self.inner
            else session.guard(
                "read an input example", lambda: self.library.example(self.arguments)
            )
        )

    def after(self, session: Session, rows: Any, model: Any) -> None:
        """Log early stopping, the feature importance and (outside a fit) the booster."""
        client, run_id = session.client, session.run_id
        session.guard("log early stopping", partial(self._log_stopping, session, model))
        types = session.options.settings.get("importance_types", ())
        for kind, values in self.library.importances(model, types).items():
            session.guard(
                f"log the {kind} feature importance",
                partial(client.log_dict, run_id, values, f"feature_importance_{kind}.json"),
            )
            session.guard(
                f"draw the {kind} feature importance", partial(_plot, session, values, kind)
            )
        if session.options.log_models and not self.inner:
            recording.log_model(
                session,
                model,
                rows,
                predict=self.library.predict(model),
                registered_model_name=session.options.registered_model_name,
            )

    def _log_stopping(self, session: Session, model: Any) -> None:
        stopping = self.library.early_stopping(model, self.arguments, len(self.history))
        if stopping is None:
            return
        stopped, best, index = stopping
        metrics = {"stopped_iteration": stopped, "best_iteration": best}
        session.client.log_metrics(session.run_id, metrics)
        if 0 <= index < len(self.history) and self.history[index]:
            session.client.log_metrics(session.run_id, self.history[index], step=len(self.history))


def _plot(session: Session, values: dict[str, float], kind: str) -> None:
    figure = plots.importance_figure(values, kind)
    if figure is not None:
        plots.log_figures(session, {f"feature_importance_{kind}.png": figure})


class Fit:
    """One logged scikit-learn-style ``fit`` of a boosting estimator."""

    def __init__(self, estimator: Any, features: Any) -> None:
        self.estimator = estimator
        self.features = features

    def before(self, session: Session) -> None:
        """Log the estimator's params and tags, the training data; let the inner ``train`` log."""
        session.inner = "train"
        params = self.estimator.get_params(deep=True)
        session.guard("log the params", partial(recording.log_params, session, params))
        session.client.set_tags(session.run_id, search.estimator_tags(self.estimator))
        if session.options.log_datasets and self.features is not None:
            session.guard(
                "log the train data", lambda: recording.log_dataset(session, self.features, "train")
            )

    def after(self, session: Session, _: None, result: Any) -> None:
        """Log the fitted estimator at ``model``."""
        if session.options.log_models:
            rows = recording.head(self.features) if self.features is not None else None
            recording.log_model(
                session,
                self.estimator,
                rows,
                registered_model_name=session.options.registered_model_name,
            )


def train_wrapper(flavor: str, library: Library) -> Callable[..., Any]:
    """The wrapper of a library's ``train``: logged alone, or inside a logged ``fit``."""

    def wrapper(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        options = state.options_of(flavor)
        outer = sessions.current()
        if options is None or (outer is not None and outer.inner != "train"):
            return original(*args, **kwargs)
        try:
            train = TrainCall(library, original, args, kwargs, inner=outer is not None)
        except TypeError:
            return original(*args, **kwargs)  # train itself will say what is wrong
        if outer is None:
            return sessions.call(options, train.run, train.before, train.after)
        outer.inner = None  # only the fit's own train logs, not one it may call later
        outer.guard("log before training", lambda: train.before(outer))
        model = train.run()
        outer.guard("log after training", lambda: train.after(outer, None, model))
        return model

    return wrapper


def fit_wrapper(flavor: str) -> Callable[..., Any]:
    """The wrapper of a boosting estimator's ``fit``."""

    def wrapper(original: Callable[..., Any], estimator: Any, *args: Any, **kwargs: Any) -> Any:
        options = state.options_of(flavor)
        if options is None:
            return original(estimator, *args, **kwargs)
        fit = Fit(estimator, recording.fit_data(original, estimator, args, kwargs)[0])
        return sessions.call(
            options, lambda: original(estimator, *args, **kwargs), fit.before, fit.after
        )

    return wrapper
