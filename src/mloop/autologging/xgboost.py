"""XGBoost autologging: ``xgboost.train`` and the scikit-learn API, as ``mlflow.xgboost.autolog``.

``xgboost.train`` logs the booster params and ``train``'s own arguments
(``num_boost_round``, ``early_stopping_rounds``, ``maximize`` ...), each
evaluation metric per iteration as ``<eval name>-<metric>`` (e.g.
``train-logloss``; the scikit-learn API names its ``eval_set`` entries
``validation_0``, ``validation_1`` ...), with early stopping
``stopped_iteration`` (the last iteration run, from 0) and
``best_iteration``, the feature importance of each of ``importance_types`` as
``feature_importance_<type>.json`` and the booster at ``model``.
``XGBClassifier.fit`` and the other estimators also log their
``get_params()``, the ``estimator_name``/``estimator_class`` tags and the
fitted estimator (not the bare booster) at ``model``.

Example:
    >>> autolog(importance_types=["weight", "gain"], log_models=False)
    >>> from mloop.autologging import state
    >>> state.options_of("xgboost").settings["importance_types"]
    ('weight', 'gain')
    >>> autolog(disable=True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mloop.autologging import boosting, recording, state, versions
from mloop.autologging.options import Options, accepted_arguments, check_flag, unknown_argument
from mloop.autologging.patching import Patch
from mloop.errors import InvalidInput
from mloop.models.flavors import require

FLAVOR = "xgboost"
IMPORTANCE_TYPES = ("weight", "gain", "cover", "total_gain", "total_cover")
MODEL_FORMATS = ("xgb", "json", "ubj")  # each of them writes UBJSON


def autolog(
    *,
    importance_types: Sequence[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "xgb",
    extra_tags: Mapping[str, Any] | None = None,
    **unknown: Any,
) -> None:
    """Turn XGBoost autologging on (or off with ``disable=True``, restoring the originals).

    Arguments are MLflow's. ``importance_types`` (default ``["weight"]``): the
    kinds of feature importance logged, from ``weight``, ``gain``, ``cover``,
    ``total_gain`` and ``total_cover``. ``model_format`` takes MLflow's values
    (``xgb``, ``json``, ``ubj``); each saves in XGBoost's UBJSON format.

    Raises:
        InvalidInput: an unknown argument or a bad value, before anything is patched.
        MissingExtra: XGBoost is not installed.
    """
    if unknown:
        raise unknown_argument(
            "mloop.autologging.xgboost.autolog", next(iter(unknown)), accepted_arguments(autolog)
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
        settings={"importance_types": _check_importance_types(importance_types)},
    )
    if model_format not in MODEL_FORMATS:
        raise InvalidInput(
            f"model_format must be one of {MODEL_FORMATS}, got {model_format!r} (every one "
            "of them saves in XGBoost's UBJSON format)"
        )
    require("xgboost", "xgboost")
    if disable or not versions.allowed("xgboost", options):
        state.disable(FLAVOR)
        return
    state.enable(options, patches, _wrapper)


def _check_importance_types(types: Sequence[str] | None) -> tuple[str, ...]:
    if types is None:
        return ("weight",)
    if isinstance(types, str) or not all(isinstance(t, str) for t in types):
        raise InvalidInput(f"importance_types must be a list of names, got {types!r}")
    unknown = [t for t in types if t not in IMPORTANCE_TYPES]
    if unknown:
        raise InvalidInput(
            f"unknown importance type(s) {unknown}; choose from {', '.join(IMPORTANCE_TYPES)}"
        )
    return tuple(types)


def patches() -> list[Patch]:
    """``xgboost.train`` (also as the scikit-learn API calls it) and every estimator's ``fit``."""
    import xgboost
    import xgboost.sklearn

    found = [
        Patch.of(xgboost, "train"),
        Patch.of(xgboost.sklearn, "train"),
        Patch.of(xgboost.DMatrix, "__init__"),
    ]
    pending: list[type] = [xgboost.sklearn.XGBModel]
    while pending:
        cls = pending.pop(0)
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("xgboost") and "fit" in vars(cls):
            found.append(Patch.of(cls, "fit"))
    return found


def _wrapper(patch: Patch) -> Callable[..., Any]:
    if patch.name == "train":
        return boosting.train_wrapper(FLAVOR, _XGBoost())
    if patch.name == "__init__":
        return _keep_example
    return boosting.fit_wrapper(FLAVOR)


def _keep_example(original: Callable[..., Any], matrix: Any, *args: Any, **kwargs: Any) -> None:
    # A DMatrix holds its data as float32 without column types: the first rows
    # as given are kept for the input example and the signature of a booster.
    original(matrix, *args, **kwargs)
    data = args[0] if args else kwargs.get("data")
    if state.options_of(FLAVOR) is None or not hasattr(data, "shape"):
        return
    try:
        matrix.mloop_input_example = recording.head(data)
    except Exception:  # data of a kind mloop cannot slice: the example is read from the matrix
        matrix.mloop_input_example = None


class _XGBoost:
    """How XGBoost's ``train`` is read (see :class:`mloop.autologging.boosting.Library`)."""

    unlogged: tuple[str, ...] = (
        "params",
        "dtrain",
        "evals",
        "obj",
        "feval",
        "evals_result",
        "xgb_model",
        "callbacks",
        "learning_rates",
        "custom_metric",
    )

    def callback(self, record: Callable[[int, dict[str, float]], None]) -> Any:
        import xgboost

        class Recorder(xgboost.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                record(
                    epoch,
                    {
                        f"{data}-{metric}": float(values[-1])
                        for data, metrics in evals_log.items()
                        for metric, values in metrics.items()
                        if values
                    },
                )
                return False

        return Recorder()

    def example(self, arguments: Mapping[str, Any]) -> Any:
        import pandas as pd

        kept = getattr(arguments["dtrain"], "mloop_input_example", None)
        if kept is not None:
            return kept
        rows = recording.head(arguments["dtrain"].get_data())
        names = arguments["dtrain"].feature_names
        return pd.DataFrame(rows, columns=names) if names else rows

    def datasets(self, arguments: Mapping[str, Any]) -> list[tuple[Any, str]]:
        found = [(arguments["dtrain"].get_data(), "train")]
        found += [(data.get_data(), "eval") for data, _ in arguments.get("evals") or []]
        return found

    def early_stopping(
        self, model: Any, arguments: Mapping[str, Any], iterations: int
    ) -> tuple[int, int, int] | None:
        if not arguments.get("early_stopping_rounds") or model.attr("best_iteration") is None:
            return None
        best = int(model.best_iteration)
        return iterations - 1, best, best

    def importances(self, model: Any, types: Sequence[str]) -> dict[str, dict[str, float]]:
        return {kind: dict(model.get_score(importance_type=kind)) for kind in types}

    def predict(self, model: Any) -> Callable[[Any], Any]:
        import xgboost

        return lambda rows: model.predict(xgboost.DMatrix(rows))
