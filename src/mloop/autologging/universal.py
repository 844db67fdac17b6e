"""``mloop.autolog``: one switch for every integration whose library is installed.

Example:
    >>> import mloop
    >>> mloop.autolog(exclude_flavors=["sklearn", "xgboost", "lightgbm"])
    >>> mloop.autolog(disable=True)
    >>> mloop.autolog(log_model=False)
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: mloop.autolog got an unknown argument 'log_model' ...
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mloop.autologging import lightgbm, sklearn, state, xgboost
from mloop.autologging.options import Options, accepted_arguments, check_flag, unknown_argument
from mloop.errors import InvalidInput

# integration name: (the module its library imports as, its autolog function)
INTEGRATIONS: dict[str, tuple[str, Callable[..., None]]] = {
    "sklearn": ("sklearn", sklearn.autolog),
    "xgboost": ("xgboost", xgboost.autolog),
    "lightgbm": ("lightgbm", lightgbm.autolog),
}


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
    extra_tags: Mapping[str, Any] | None = None,
    exclude_flavors: Sequence[str] | None = None,
    **unknown: Any,
) -> None:
    """Turn autologging on for scikit-learn, XGBoost and LightGBM, each if installed.

    Arguments are MLflow's ``mlflow.autolog``'s and apply to every integration
    turned on; each keeps its own defaults for the rest (e.g. scikit-learn's
    ``max_tuning_runs=5``). ``exclude_flavors`` names integrations to leave as
    they are. ``disable=True`` turns all of them off and restores the original
    methods.

    Example:
        >>> autolog(disable=True)
        >>> state.enabled()
        []

    Raises:
        InvalidInput: an unknown argument, a bad value or an unknown flavor name,
            before any integration is touched.
    """
    if unknown:
        raise unknown_argument("mloop.autolog", next(iter(unknown)), accepted_arguments(autolog))
    excluded = _check_excluded(exclude_flavors)
    common: dict[str, Any] = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "exclusive": exclusive,
        "disable_for_unsupported_versions": disable_for_unsupported_versions,
        "silent": silent,
    }
    check_flag("disable", disable)
    Options.build("mloop.autolog", extra_tags=extra_tags, **common)  # refuse bad values first
    for name, (library, switch) in INTEGRATIONS.items():
        if name in excluded:
            continue
        if disable:
            state.disable(name)
        elif importlib.util.find_spec(library) is not None:
            switch(extra_tags=extra_tags, **common)


def _check_excluded(names: Sequence[str] | None) -> set[str]:
    if names is None:
        return set()
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise InvalidInput(f"exclude_flavors must be a list of names, got {names!r}")
    unknown = sorted(set(names) - set(INTEGRATIONS))
    if unknown:
        raise InvalidInput(
            f"exclude_flavors names no integration {unknown}; known: {', '.join(INTEGRATIONS)}"
        )
    return set(names)
