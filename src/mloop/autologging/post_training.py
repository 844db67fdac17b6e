"""Post-training metrics: ``sklearn.metrics`` called on an autologged model's predictions.

After an autologged ``fit``, the model remembers its run. What its ``predict``,
``predict_proba``, ``predict_log_proba`` or ``transform`` returns remembers
the run and the name of the variable holding the input (``X_test``; else
``unknown_dataset``). A function of ``sklearn.metrics`` then called with that
very object logs its result to the run as ``<function>_<dataset>`` (e.g.
``accuracy_score_X_test``); ``model.score(X_test, y_test)`` logs
``<Class>_score_X_test``. The second call of the same function for the same
run is ``<function>-2_<dataset>``; another object under a variable name
already used is ``<dataset>-2``. ``metric_info.json`` records the call behind each key.

As in MLflow: a copy or a slice of a prediction is not recognised, and a
metric function imported from ``sklearn.metrics`` before autologging was
turned on is not patched.

Example:
    >>> book = Ledger()
    >>> first, second = object(), object()
    >>> book.dataset_name("run1", first, "X_test"), book.dataset_name("run1", second, "X_test")
    ('X_test', 'X_test-2')
    >>> book.metric_key("run1", "accuracy_score", "X_test", "accuracy_score(...)")
    'accuracy_score_X_test'
    >>> book.metric_key("run1", "accuracy_score", "X_test", "accuracy_score(...)")
    'accuracy_score-2_X_test'
"""

from __future__ import annotations

import collections
import inspect
import numbers
import sys
import threading
import warnings
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any

from mloop.autologging import session as sessions
from mloop.autologging import state
from mloop.errors import MloopWarning
from mloop.models.flavors import require
from mloop.tracking import fluent

PREDICTING = ("predict", "predict_proba", "predict_log_proba", "transform")
NOT_METRICS = ("check_scoring", "get_scorer", "make_scorer", "get_scorer_names")
UNKNOWN = "unknown_dataset"


class Ledger:
    """Which model, prediction and dataset name belong to which run (process-wide, locked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._predictions: dict[int, tuple[str, str]] = {}
        self._datasets: dict[str, dict[str, list[int]]] = collections.defaultdict(dict)
        self._calls: dict[str, dict[str, str]] = collections.defaultdict(dict)
        self._counts: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )

    def remember_model(self, model: Any, run_id: str) -> None:
        """Remember the run an autologged ``fit`` logged ``model`` to."""
        try:
            with self._lock:
                self._models[model] = run_id
        except TypeError:  # a model that cannot be weakly referenced is not followed
            pass

    def run_of(self, model: Any) -> str | None:
        """The run ``model`` was fitted in, if it was autologged."""
        try:
            with self._lock:
                return self._models.get(model)
        except TypeError:
            return None

    def dataset_name(self, run_id: str, data: Any, name: str) -> str:
        """``name``, or ``name-<n>`` for the n-th distinct object seen under it in this run."""
        with self._lock:
            seen = self._datasets[run_id].setdefault(name, [])
            if id(data) not in seen:
                seen.append(id(data))
            index = seen.index(id(data))
        return name if index == 0 else f"{name}-{index + 1}"

    def remember_prediction(self, result: Any, run_id: str, dataset: str) -> None:
        """Remember that ``result`` was predicted by the run's model for ``dataset``."""
        key = id(result)
        try:
            weakref.finalize(result, self._forget, key)  # an id is reused once its object dies
        except TypeError:
            return  # a result that cannot be followed safely (a tuple, an int) is not remembered
        with self._lock:
            self._predictions[key] = (run_id, dataset)

    def _forget(self, key: int) -> None:
        with self._lock:
            self._predictions.pop(key, None)

    def prediction_in(self, values: list[Any]) -> tuple[str, str] | None:
        """``(run_id, dataset)`` of the first remembered prediction among ``values``."""
        with self._lock:
            for value in values:
                if value is not None and id(value) in self._predictions:
                    return self._predictions[id(value)]
        return None

    def metric_key(self, run_id: str, metric: str, dataset: str, command: str) -> str:
        """The key of this call of ``metric`` in the run (``-2``, ``-3`` ... on later calls)."""
        with self._lock:
            index = self._counts[run_id][metric]
            self._counts[run_id][metric] = index + 1
            key = f"{metric if index == 0 else f'{metric}-{index + 1}'}_{dataset}"
            self._calls[run_id][key] = command
        return key

    def calls(self, run_id: str) -> dict[str, str]:
        """Every post-training metric key of the run with the call that produced it."""
        with self._lock:
            return dict(sorted(self._calls[run_id].items()))


LEDGER = Ledger()


class _Quiet(threading.local):
    def __init__(self) -> None:
        self.depth = 0


_quiet = _Quiet()  # inside score() or a metric: their own inner calls are not recorded


def variable_name(value: Any) -> str:
    """The name the user's code holds ``value`` under, or ``unknown_dataset``."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith(("mloop.autologging", "sklearn")):
            for name, local in frame.f_locals.items():
                if local is value and name.isidentifier() and not name.startswith("_"):
                    return name
            return UNKNOWN
        frame = frame.f_back
    return UNKNOWN


def _active() -> bool:
    options = state.options_of("sklearn")
    return (
        options is not None
        and bool(options.settings.get("log_post_training_metrics"))
        and sessions.current() is None
        and _quiet.depth == 0
    )


def predict_wrapper(original: Callable[..., Any], model: Any, *args: Any, **kwargs: Any) -> Any:
    """A prediction method that remembers its result for the metrics called on it."""
    result = original(model, *args, **kwargs)
    if _active():
        _safely("follow a prediction", lambda: _remember(model, args, kwargs, result))
    return result


def _remember(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    run_id = LEDGER.run_of(model)
    data = args[0] if args else next(iter(kwargs.values()), None)
    if run_id is not None and data is not None:
        dataset = LEDGER.dataset_name(run_id, data, variable_name(data))
        LEDGER.remember_prediction(result, run_id, dataset)


def score_wrapper(original: Callable[..., Any], model: Any, *args: Any, **kwargs: Any) -> Any:
    """``score`` logging ``<Class>_score_<dataset>`` for an autologged model."""
    active = _active()
    _quiet.depth += 1
    try:
        value = original(model, *args, **kwargs)
    finally:
        _quiet.depth -= 1
    if active:
        _safely("log a score", lambda: _log_score(original, model, args, kwargs, value))
    return value


def _log_score(
    original: Callable[..., Any],
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    value: Any,
) -> None:
    run_id = LEDGER.run_of(model)
    data = args[0] if args else next(iter(kwargs.values()), None)
    if run_id is None or data is None:
        return
    dataset = LEDGER.dataset_name(run_id, data, variable_name(data))
    command = f"{type(model).__name__}.{_command(original, args, kwargs, method=True)}"
    _log(run_id, f"{type(model).__name__}_score", dataset, value, command)


def metric_wrapper(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A ``sklearn.metrics`` function logging its value when given a remembered prediction."""
    active = _active()
    _quiet.depth += 1
    try:
        value = original(*args, **kwargs)
    finally:
        _quiet.depth -= 1
    if active:
        _safely(f"log {original.__name__}", lambda: _log_metric(original, args, kwargs, value))
    return value


def _log_metric(
    original: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], value: Any
) -> None:
    found = LEDGER.prediction_in([*args, *kwargs.values()])
    if found is not None:
        run_id, dataset = found
        _log(run_id, original.__name__, dataset, value, _command(original, args, kwargs))


def _safely(what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as err:  # the user's evaluation must not fail on logging
        options = state.options_of("sklearn")
        if options is not None and not options.silent:
            warnings.warn(f"mloop autologging could not {what}: {err}", MloopWarning, stacklevel=4)


def _command(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    method: bool = False,
) -> str:
    # How the user called it, e.g. "accuracy_score(y_true=y_test, y_pred=pred, normalize=False)".
    names = list(inspect.signature(function).parameters)[1 if method else 0 :]
    shown = [f"{name}={_shown(value)}" for name, value in zip(names, args, strict=False)]
    shown += [f"{name}={_shown(value)}" for name, value in kwargs.items()]
    return f"{function.__name__}({', '.join(shown)})"


def _shown(value: Any) -> str:
    if value is None or isinstance(value, str | numbers.Number | bool):
        return repr(value)[:40]
    name = variable_name(value)
    return f"<{type(value).__name__}>" if name == UNKNOWN else name


def _log(run_id: str, metric: str, dataset: str, value: Any, command: str) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return  # a report, a matrix, a curve: not one number
    key = LEDGER.metric_key(run_id, metric, dataset, command)
    client = fluent.current_client()
    client.log_metric(run_id, key, float(value))
    client.log_dict(run_id, LEDGER.calls(run_id), "metric_info.json")


def metric_functions() -> list[str]:
    """The functions of ``sklearn.metrics`` whose results are logged."""
    metrics = require("sklearn.metrics", "sklearn", "scikit-learn")
    return [
        name
        for name in metrics.__all__
        if name not in NOT_METRICS
        and not name.startswith("plot_")
        and callable(getattr(metrics, name))
        and not inspect.isclass(getattr(metrics, name))
    ]
