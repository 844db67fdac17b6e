"""A policy's spec read and checked whole, before anything is stored.

A spec is a YAML file or a mapping::

    name: retrain-credit
    trigger: {on: alert, monitor: credit-drift}        # or {on: dataset, name: credit}
                                                       # or {on: schedule, cron: "0 3 * * 1"}
    dataset: credit           # what ${dataset} binds when the trigger brings no version
    pipeline: {file: pipelines/train.py, pipeline: train, params: {data: "${dataset}"}}
    model: credit
    gate: {rules: ["accuracy >= champion.accuracy"], data: credit@holdout, targets: label}
    deploy: {deployment: credit-api, canary_percent: 10}
    notify: [{kind: webhook, url: "${HOOK_URL}"}]
    timeout: 24h

Every mistake is an :class:`~mloop.errors.InvalidInput` naming the field and
how to write it. A relative pipeline file is read from the spec file's folder
(the working directory for a mapping) and stored as an absolute path.

Example:
    >>> spec = check_spec({"name": "r", "trigger": {"on": "schedule", "cron": "0 3 * * 1"},
    ...     "pipeline": {"file": __file__, "pipeline": "train"}, "model": "credit",
    ...     "gate": {"rules": ["accuracy >= 0.8"], "data": "credit@holdout", "targets": "label"},
    ...     "deploy": {"deployment": "credit-api"}})
    >>> spec.name, spec.spec["deploy"]["canary_percent"], spec.spec["timeout"]
    ('r', 10, '24h')
    >>> check_spec({"name": "r"})
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: policy 'r': missing "trigger"; ...
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from croniter import CroniterBadDateError, croniter

from mloop.errors import InvalidInput
from mloop.models.rules import parse_rule
from mloop.models.uris import check_alias, check_model_name
from mloop.monitoring.notifiers import registry as notifiers
from mloop.monitoring.schedule import parse_interval
from mloop.serving.deployment_checks import check_deployment_name, check_percent
from mloop.serving.deployments import policy_values
from mloop.store.loop_checks import check_no_secrets
from mloop.store.names import check_endpoint_name

DATASET = "${dataset}"
"""The placeholder a spec's pipeline params and gate data use for the triggering dataset version."""

_FIELDS = ("name", "trigger", "dataset", "pipeline", "model", "gate", "deploy", "notify", "timeout")
_TRIGGERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "alert": (("monitor",), ("rule",)),
    "dataset": (("name",), ()),
    "schedule": (("cron",), ()),
}
_PIPELINE = ("file", "pipeline", "params", "experiment")
_GATE = ("rules", "data", "targets", "against", "task", "sensitive")
_DEPLOY = ("deployment", "canary_percent", "analysis")
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
DEFAULT_TIMEOUT = "24h"


@dataclasses.dataclass(frozen=True)
class PolicySpec:
    """A checked spec: the policy's name, its trigger and the rest (what the store keeps)."""

    name: str
    trigger: dict[str, Any]
    spec: dict[str, Any]


def load_spec(source: Mapping[str, Any] | str | os.PathLike[str]) -> PolicySpec:
    """Read a spec from a YAML file (a path) or take a mapping, and check it whole.

    Raises:
        InvalidInput: a file that cannot be read or is not a YAML mapping, or any bad field.

    Example:
        >>> load_spec("no-such-policy.yaml")
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: cannot read policy file 'no-such-policy.yaml': ...
    """
    if isinstance(source, Mapping):
        return check_spec(source, base=Path.cwd())
    if not isinstance(source, str | os.PathLike):
        raise InvalidInput(
            f"a policy spec is a mapping or the path of a YAML file, got {type(source).__name__}"
        )
    path = Path(source)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InvalidInput(f"cannot read policy file {str(source)!r}: {err}") from None
    if not isinstance(loaded, Mapping):
        raise InvalidInput(
            f"policy file {str(source)!r} must hold a mapping (name:, trigger:, pipeline: ...)"
        )
    return check_spec(loaded, base=path.resolve().parent)


def check_spec(values: Mapping[str, Any], *, base: Path | None = None) -> PolicySpec:
    """Check every field of a spec; the stored form (absolute pipeline file, defaults filled).

    Raises:
        InvalidInput: an unknown or missing field, or a bad value, naming it.
    """
    if not isinstance(values, Mapping):
        raise InvalidInput(f"a policy spec must be a mapping, got {type(values).__name__}")
    name = check_endpoint_name(values.get("name"), "policy")
    where = f"policy {name!r}"
    _known(values, _FIELDS, where)
    for field in ("trigger", "pipeline", "model", "gate", "deploy"):
        if field not in values:
            raise InvalidInput(f'{where}: missing "{field}"; see docs/automation.md for a spec')
    check_no_secrets(dict(values), where)
    trigger = _trigger(values["trigger"], where)
    dataset = values.get("dataset", trigger.get("name") if trigger["on"] == "dataset" else None)
    if dataset is not None:
        dataset = _text(dataset, f'{where}: "dataset"')
    spec: dict[str, Any] = {
        "pipeline": _pipeline(values["pipeline"], where, base or Path.cwd()),
        "model": _model(values["model"], where),
        "gate": _gate(values["gate"], where),
        "deploy": _deploy(values["deploy"], where),
        "notify": _notify(values.get("notify", []), where),
        "timeout": _timeout(values.get("timeout", DEFAULT_TIMEOUT), where),
    }
    if dataset is not None:
        spec["dataset"] = dataset
    elif uses_dataset(spec):
        raise InvalidInput(
            f'{where} uses {DATASET} but its trigger brings no dataset version: add "dataset: '
            'NAME" (its latest version is bound), or trigger it on a dataset'
        )
    return PolicySpec(name, trigger, spec)


def uses_dataset(spec: Mapping[str, Any]) -> bool:
    """Whether the pipeline params or the gate data name ``${dataset}``.

    Example:
        >>> uses_dataset({"pipeline": {"params": {"data": "${dataset}"}}, "gate": {"data": "x"}})
        True
    """
    params = spec.get("pipeline", {}).get("params", {})
    texts = [v for v in params.values() if isinstance(v, str)] + [spec.get("gate", {}).get("data")]
    return any(isinstance(t, str) and DATASET in t for t in texts)


def bind_dataset(value: Any, ref: str | None) -> Any:
    """``value`` with ``${dataset}`` replaced by ``ref`` in every string (mappings walked).

    Example:
        >>> bind_dataset({"data": "${dataset}", "lr": 0.1}, "credit@4")
        {'data': 'credit@4', 'lr': 0.1}
    """
    if isinstance(value, str):
        return value.replace(DATASET, ref) if ref is not None else value
    if isinstance(value, Mapping):
        return {k: bind_dataset(v, ref) for k, v in value.items()}
    if isinstance(value, list):
        return [bind_dataset(v, ref) for v in value]
    return value


def _known(values: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in values if k not in known)
    if unknown:
        raise InvalidInput(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )


def _mapping(value: Any, where: str, example: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where} must be a mapping, e.g. {example}; got {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where} must be a non-empty string, got {value!r}")
    return value


def _trigger(value: Any, where: str) -> dict[str, Any]:
    raw: Mapping[Any, Any] = _mapping(value, f'{where}: "trigger"', "{on: dataset, name: credit}")
    # YAML 1.1 reads a bare `on` key as True.
    trigger = {"on" if k is True else str(k): v for k, v in raw.items()}
    on = trigger.get("on")
    if on not in _TRIGGERS:
        raise InvalidInput(
            f'{where}: trigger "on" is {on!r}; use alert (monitor: M, rule: R), '
            "dataset (name: D) or schedule (cron: '0 3 * * 1')"
        )
    needed, optional = _TRIGGERS[on]
    given = trigger
    _known(given, ("on", *needed, *optional), f'{where}: trigger "on: {on}"')
    checked: dict[str, Any] = {"on": on}
    for key in (*needed, *optional):
        if key in given or key in needed:
            checked[key] = _text(given.get(key), f'{where}: trigger "{key}"')
    if on == "schedule" and not croniter.is_valid(checked["cron"]):
        raise InvalidInput(
            f"{where}: trigger cron {checked['cron']!r} is not a cron expression; write five "
            "fields (minute hour day-of-month month day-of-week), e.g. '0 3 * * 1'"
        )
    if on == "schedule":
        try:
            croniter(checked["cron"]).get_next(float)
        except CroniterBadDateError:
            raise InvalidInput(
                f"{where}: trigger cron {checked['cron']!r} never fires (no such date)"
            ) from None
    return checked


def _pipeline(value: Any, where: str, base: Path) -> dict[str, Any]:
    what = f'{where}: "pipeline"'
    pipeline = _mapping(value, what, "{file: pipelines/train.py, pipeline: train}")
    _known(pipeline, _PIPELINE, what)
    file = _text(pipeline.get("file"), f"{what} file")
    if not file.endswith(".py"):
        raise InvalidInput(f"{what} file {file!r} must be a Python file (.py)")
    path = (base / file).resolve()
    if not path.is_file():
        raise InvalidInput(f"{what} file {file!r}: no such file (looked at {path})")
    function = _text(pipeline.get("pipeline"), f"{what} pipeline")
    if not function.isidentifier():
        raise InvalidInput(f"{what} pipeline {function!r} must be the function's name")
    params = _mapping(pipeline.get("params", {}), f"{what} params", "{data: '${dataset}'}")
    checked: dict[str, Any] = {"file": str(path), "pipeline": function, "params": dict(params)}
    for key in params:
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidInput(f"{what} params: {key!r} is not a parameter name")
    if "experiment" in pipeline:
        checked["experiment"] = _text(pipeline["experiment"], f"{what} experiment")
    return checked


def _model(value: Any, where: str) -> str:
    try:
        return check_model_name(_text(value, f'{where}: "model"'))
    except InvalidInput as err:
        raise InvalidInput(f'{where}: "model": {err}') from None


def _gate(value: Any, where: str) -> dict[str, Any]:
    what = f'{where}: "gate"'
    gate = _mapping(value, what, "{rules: ['accuracy >= champion.accuracy'], data: D, targets: y}")
    _known(gate, _GATE, what)
    rules = gate.get("rules")
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not rules:
        raise InvalidInput(f"{what} rules must be a non-empty list, e.g. ['accuracy >= 0.8']")
    texts = []
    for rule in rules:
        try:
            texts.append(parse_rule(_text(rule, f"{what} rule")).text)
        except InvalidInput as err:
            raise InvalidInput(f"{what}: {err}") from None
    checked: dict[str, Any] = {
        "rules": texts,
        "data": _text(gate.get("data"), f"{what} data"),
        "targets": _text(gate.get("targets"), f"{what} targets (the label column)"),
    }
    if "against" in gate:
        against = _text(gate["against"], f"{what} against")
        if "@" not in against and "/" not in against:
            try:
                check_alias(against)
            except InvalidInput as err:
                raise InvalidInput(f"{what} against: {err}") from None
        checked["against"] = against
    if "task" in gate:
        task = gate["task"]
        if task not in ("classification", "regression"):
            raise InvalidInput(f"{what} task must be classification or regression, got {task!r}")
        checked["task"] = task
    if "sensitive" in gate:
        sensitive = gate["sensitive"]
        if isinstance(sensitive, str):
            sensitive = [sensitive]
        if not isinstance(sensitive, list) or not sensitive:
            raise InvalidInput(
                f"{what} sensitive must name the column(s) fairness rules group by, e.g. [region]"
            )
        checked["sensitive"] = [_text(column, f"{what} sensitive column") for column in sensitive]
    return checked


def _deploy(value: Any, where: str) -> dict[str, Any]:
    what = f'{where}: "deploy"'
    deploy = _mapping(value, what, "{deployment: credit-api, canary_percent: 10}")
    _known(deploy, _DEPLOY, what)
    try:
        name = check_deployment_name(_text(deploy.get("deployment"), f"{what} deployment"))
        percent = deploy.get("canary_percent", 10)
        if isinstance(percent, bool) or not isinstance(percent, int):
            raise InvalidInput(f"canary_percent must be a whole number, got {percent!r}")
        percent = check_percent(percent)
        if not 1 <= percent <= 99:
            raise InvalidInput(f"canary_percent must be from 1 to 99, got {percent}")
        checked: dict[str, Any] = {"deployment": name, "canary_percent": percent}
        if "analysis" in deploy:
            checked["analysis"] = policy_values(
                _mapping(deploy["analysis"], "analysis", "{steps: [10, 50]}")
            )
    except InvalidInput as err:
        raise InvalidInput(f"{what}: {err}") from None
    return checked


def _notify(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidInput(
            f'{where}: "notify" must be a list, e.g. [{{kind: webhook, url: "${{HOOK_URL}}"}}]'
        )
    checked = []
    for i, spec in enumerate(value, 1):
        what = f"{where}: notifier {i}"
        if not isinstance(spec, Mapping) or not isinstance(spec.get("kind"), str):
            raise InvalidInput(f'{what} must be a mapping with a "kind", e.g. {{kind: log}}')
        kind = spec["kind"]
        if not notifiers.knows(kind):
            raise InvalidInput(
                f"{what}: unknown kind {kind!r}; known: {', '.join(notifiers.names())}"
            )
        factory = notifiers.load(kind)
        secret = set(getattr(factory, "secret_options", ()))
        options = {k: v for k, v in spec.items() if k != "kind"}
        for option in sorted(secret & set(options)):
            if not _all_references(options[option]):
                raise InvalidInput(
                    f"{what} ({kind}): option {option!r} is a secret and holds its value; put it "
                    'in an environment variable and write "${NAME}" instead'
                )
        try:
            inspect.signature(factory).bind(**options)
        except TypeError:
            raise InvalidInput(
                f"{what} ({kind}): options {sorted(options)} do not fit "
                f"{kind}{inspect.signature(factory)}"
            ) from None
        check_no_secrets(dict(spec), f"{what} ({kind})")
        checked.append(dict(spec))
    return checked


def _all_references(value: Any) -> bool:
    if isinstance(value, str):
        return _REFERENCE.search(value) is not None
    if isinstance(value, Mapping):
        return all(_all_references(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_references(v) for v in value)
    return False


def _timeout(value: Any, where: str) -> str:
    text = _text(value, f'{where}: "timeout"')
    try:
        parse_interval(text)
    except InvalidInput as err:
        raise InvalidInput(f'{where}: "timeout": {err}') from None
    return text
