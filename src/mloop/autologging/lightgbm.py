"""LightGBM autologging of ``lightgbm.train`` and the scikit-learn API, as MLflow's.

``lightgbm.train`` logs the booster params and ``train``'s own arguments
(``num_boost_round``, ``keep_training_booster`` ...), each evaluation metric
per iteration as ``<valid name>-<metric>`` (e.g. ``valid_0-binary_logloss``;
the training set itself is ``training``), with early stopping
``stopped_iteration`` (iterations run, from 1) and ``best_iteration``,
``feature_importance_split.json`` and ``feature_importance_gain.json``, and
the booster at ``model``. ``LGBMClassifier.fit`` and the other estimators also
log their ``get_params()``, the ``estimator_name``/``estimator_class`` tags and
the fitted estimator at ``model``.

Example:
    >>> autolog(log_models=False, silent=True)
    >>> from mloop.autologging import state
    >>> state.options_of("lightgbm").log_models
    False
    >>> autolog(disable=True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mloop.autologging import boosting, recording, state, versions
from mloop.autologging.options import Options, accepted_arguments, check_flag, unknown_argument
from mloop.autologging.patching import Patch
from mloop.models.flavors import require

FLAVOR = "lightgbm"


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
    registered_model_name: str | None = None,
    extra_tags: Mapping[str, Any] | None = None,
    **unknown: Any,
) -> None:
    """Turn LightGBM autologging on (or off with ``disable=True``, restoring the originals).

    Arguments are MLflow's ``mlflow.lightgbm.autolog``'s.

    Raises:
        InvalidInput: an unknown argument or a bad value, before anything is patched.
        MissingExtra: LightGBM is not installed.
    """
    if unknown:
        raise unknown_argument(
            "mloop.autologging.lightgbm.autolog", next(iter(unknown)), accepted_arguments(autolog)
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
        settings={"importance_types": ("split", "gain")},
    )
    require("lightgbm", "lightgbm")
    if disable or not versions.allowed("lightgbm", options):
        state.disable(FLAVOR)
        return
    state.enable(options, patches, _wrapper)


def patches() -> list[Patch]:
    """``lightgbm.train`` (also as the scikit-learn API calls it) and every estimator's ``fit``."""
    import lightgbm
    import lightgbm.sklearn

    found = [Patch.of(lightgbm, "train"), Patch.of(lightgbm.sklearn, "train")]
    pending: list[type] = [lightgbm.sklearn.LGBMModel]
    while pending:
        cls = pending.pop(0)
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("lightgbm") and "fit" in vars(cls):
            found.append(Patch.of(cls, "fit"))
    return found


def _wrapper(patch: Patch) -> Callable[..., Any]:
    if patch.name == "train":
        return boosting.train_wrapper(FLAVOR, _LightGBM())
    return boosting.fit_wrapper(FLAVOR)


class _LightGBM:
    """How LightGBM's ``train`` is read (see :class:`mloop.autologging.boosting.Library`)."""

    unlogged: tuple[str, ...] = (
        "params",
        "train_set",
        "valid_sets",
        "valid_names",
        "fobj",
        "feval",
        "init_model",
        "learning_rates",
        "callbacks",
    )

    def callback(self, record: Callable[[int, dict[str, float]], None]) -> Any:
        def recorder(env: Any) -> None:
            record(
                env.iteration,
                {
                    f"{item[0]}-{item[1]}": float(item[2])
                    for item in env.evaluation_result_list or []
                },
            )

        return recorder

    def example(self, arguments: Mapping[str, Any]) -> Any:
        data = arguments["train_set"].data
        return None if data is None or isinstance(data, str | bytes) else recording.head(data)

    def datasets(self, arguments: Mapping[str, Any]) -> list[tuple[Any, str]]:
        sets = [(arguments["train_set"], "train")]
        sets += [
            (s, "eval")
            for s in arguments.get("valid_sets") or []
            if s is not arguments["train_set"]
        ]
        return [
            (s.data, context)
            for s, context in sets
            if s.data is not None and not isinstance(s.data, str)
        ]

    def early_stopping(
        self, model: Any, arguments: Mapping[str, Any], iterations: int
    ) -> tuple[int, int, int] | None:
        best = int(model.best_iteration)
        return (iterations, best, best - 1) if best > 0 else None

    def importances(self, model: Any, types: Sequence[str]) -> dict[str, dict[str, float]]:
        names = model.feature_name()
        return {
            kind: dict(
                zip(names, model.feature_importance(importance_type=kind).tolist(), strict=True)
            )
            for kind in types
        }

    def predict(self, model: Any) -> Callable[[Any], Any]:
        return lambda rows: model.predict(rows)
