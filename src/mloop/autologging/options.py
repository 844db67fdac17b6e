"""The options every integration takes, checked before anything is patched.

Names and defaults are MLflow's (``mlflow.autolog`` and the per-library
``autolog`` functions), so a script moves over by renaming the module.

Example:
    >>> opts = Options.build("sklearn", log_models=False, extra_tags={"team": "risk"})
    >>> (opts.log_models, opts.log_model_signatures, opts.extra_tags)
    (False, True, {'team': 'risk'})
    >>> Options.build("sklearn", log_model=False)
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: sklearn autolog got an unknown argument 'log_model' ...
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from mloop.errors import InvalidInput
from mloop.models.uris import check_model_name

FLAGS = (
    "log_models",
    "log_input_examples",
    "log_model_signatures",
    "log_datasets",
    "exclusive",
    "disable_for_unsupported_versions",
    "silent",
)


@dataclasses.dataclass(frozen=True)
class Options:
    """What one integration logs, as its ``autolog`` call asked.

    ``settings`` holds the integration's own options (``max_tuning_runs``,
    ``importance_types`` ...), already checked by the integration.
    """

    flavor: str
    log_models: bool = True
    log_input_examples: bool = False
    log_model_signatures: bool = True
    log_datasets: bool = True
    exclusive: bool = False
    disable_for_unsupported_versions: bool = False
    silent: bool = False
    extra_tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    registered_model_name: str | None = None
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def build(
        cls,
        flavor: str,
        *,
        extra_tags: Mapping[str, Any] | None = None,
        registered_model_name: str | None = None,
        settings: Mapping[str, Any] | None = None,
        **flags: Any,
    ) -> Options:
        """Check the common arguments; an unknown one is refused with the names it may mean.

        Raises:
            InvalidInput: an unknown argument, a flag that is not a bool, tags
                that are not a mapping of strings, or a bad registered model name.
        """
        for name, value in flags.items():
            if name not in FLAGS:
                raise unknown_argument(f"{flavor} autolog", name, FLAGS)
            check_flag(name, value)
        if registered_model_name is not None:
            check_model_name(registered_model_name)
        return cls(
            flavor=flavor,
            extra_tags=check_tags(extra_tags),
            registered_model_name=registered_model_name,
            settings=dict(settings or {}),
            **flags,
        )


def check_flag(name: str, value: object) -> bool:
    """``value`` if it is a bool, else InvalidInput naming the argument."""
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be True or False, got {value!r}")
    return value


def check_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    """``extra_tags`` as a dict of strings; InvalidInput if it is not a mapping of strings."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping) or not all(isinstance(k, str) for k in tags):
        raise InvalidInput(
            f"extra_tags must be a mapping of tag name to value, got {type(tags).__name__}"
        )
    return {key: str(value) for key, value in tags.items()}


def unknown_argument(where: str, name: str, accepted: tuple[str, ...] | list[str]) -> InvalidInput:
    """The error for an argument ``where`` does not take, suggesting the closest names."""
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return InvalidInput(
        f"{where} got an unknown argument {name!r}{hint}; it takes: {', '.join(sorted(accepted))}"
    )


def accepted_arguments(function: Callable[..., Any]) -> list[str]:
    """The keyword arguments ``function`` names (its ``**unknown`` left out)."""
    parameters = inspect.signature(function).parameters.values()
    return [p.name for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD]
