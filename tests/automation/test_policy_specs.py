"""Policy specs: every field checked before anything is stored, with a message naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mloop.automation.policy_specs import bind_dataset, check_spec, load_spec, uses_dataset
from mloop.errors import InvalidInput
from tests.automation.conftest import spec


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("")
    return tmp_path


def test_a_yaml_file_reads_relative_paths_from_its_folder(folder: Path) -> None:
    values = spec(folder)
    values["pipeline"]["file"] = "train.py"
    values["trigger"] = {"on": "schedule", "cron": "0 3 * * 1"}
    values["dataset"] = "credit"
    path = folder / "policies" / "retrain.yaml"
    path.parent.mkdir()
    (folder / "policies" / "train.py").write_text("")
    path.write_text(yaml.safe_dump(values).replace("'on'", "on"))  # YAML reads a bare on as True
    checked = load_spec(path)
    assert checked.trigger == {"on": "schedule", "cron": "0 3 * * 1"}
    assert checked.spec["pipeline"]["file"] == str(folder / "policies" / "train.py")
    assert checked.spec["timeout"] == "24h" and checked.spec["dataset"] == "credit"
    assert checked.spec["deploy"] == {"deployment": "credit-api", "canary_percent": 10}


def test_a_dataset_trigger_binds_its_own_dataset(folder: Path) -> None:
    checked = check_spec(spec(folder))
    assert checked.spec["dataset"] == "credit"
    assert uses_dataset(checked.spec)
    assert bind_dataset(checked.spec["pipeline"]["params"], "credit@3") == {"data": "credit@3"}


def test_alert_triggers_keep_an_optional_rule(folder: Path) -> None:
    trigger = {"on": "alert", "monitor": "credit-drift", "rule": "drift"}
    checked = check_spec(spec(folder, trigger=trigger, dataset="credit"))
    assert checked.trigger == trigger


def _bad(folder: Path, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    values = spec(folder)
    target = values
    for key in path[:-1]:
        target = target[key]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return values


_DROP = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("name",), "bad name!", "invalid policy name 'bad name!'"),
        (("colour",), "blue", "unknown field(s) colour"),
        (("trigger",), _DROP, 'missing "trigger"'),
        (("model",), _DROP, 'missing "model"'),
        (("trigger",), "dataset", '"trigger" must be a mapping'),
        (("trigger",), {"on": "whim"}, "trigger \"on\" is 'whim'"),
        (("trigger",), {"on": "alert"}, 'trigger "monitor" must be a non-empty string'),
        (("trigger",), {"on": "dataset", "name": "c", "x": 1}, "unknown field(s) x"),
        (("trigger",), {"on": "schedule", "cron": "61 * * * *"}, "is not a cron expression"),
        (("trigger",), {"on": "schedule", "cron": "0 0 31 2 *"}, "never fires"),
        (("pipeline",), "train.py", '"pipeline" must be a mapping'),
        (("pipeline", "file"), "train.txt", "must be a Python file (.py)"),
        (("pipeline", "file"), "missing.py", "no such file"),
        (("pipeline", "pipeline"), "not a name", "must be the function's name"),
        (("pipeline", "params"), ["x"], "params must be a mapping"),
        (("pipeline", "params"), {"1x": 2}, "'1x' is not a parameter name"),
        (("pipeline", "executor"), "ray", "unknown field(s) executor"),
        (("model",), "bad model!", '"model"'),
        (("gate", "rules"), [], "rules must be a non-empty list"),
        (("gate", "rules"), ["accuracy >>> 1"], '"gate"'),
        (("gate", "targets"), _DROP, "targets (the label column) must be a non-empty string"),
        (("gate", "data"), "", "data must be a non-empty string"),
        (("gate", "against"), "1bad", "against"),
        (("gate", "task"), "ranking", "task must be classification or regression"),
        (("deploy", "deployment"), "bad name!", '"deploy"'),
        (("deploy", "canary_percent"), 0, "canary_percent must be from 1 to 99"),
        (("deploy", "canary_percent"), "10", "canary_percent must be a whole number"),
        (("deploy", "analysis"), {"steps": [50, 10]}, "steps must rise"),
        (("deploy", "analysis"), {"speed": 1}, "unknown canary policy setting(s) speed"),
        (("notify",), {"kind": "log"}, '"notify" must be a list'),
        (("notify",), [{"url": "x"}], 'notifier 1 must be a mapping with a "kind"'),
        (("notify",), [{"kind": "pigeon"}], "unknown kind 'pigeon'"),
        (("notify",), [{"kind": "log", "colour": "red"}], "do not fit"),
        (("timeout",), "tomorrow", '"timeout"'),
    ],
)
def test_every_mistake_is_named(
    folder: Path, path: tuple[str, ...], value: Any, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_spec(_bad(folder, path, value))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "notifier",
    [
        {"kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/s3cr3t"},
        {"kind": "webhook", "url": "https://alice:pw@example.org/hook"},
        {"kind": "webhook", "url": "https://example.org/hook?token=abc123"},
        {"kind": "webhook", "url": "${HOOK_URL}", "headers": {"Authorization": "Bearer abc"}},
        {"kind": "smtp", "host": "mail", "sender": "a@b", "to": ["c@d"], "password": "hunter2"},
    ],
)
def test_secrets_in_notifiers_must_be_references(folder: Path, notifier: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_spec(spec(folder, notify=[notifier]))
    assert "${NAME}" in str(caught.value)
    assert "s3cr3t" not in str(caught.value) and "hunter2" not in str(caught.value)


def test_references_pass(folder: Path) -> None:
    notify = [
        {"kind": "slack", "url": "${SLACK_URL}"},
        {"kind": "webhook", "url": "${HOOK_URL}", "headers": {"Authorization": "${HOOK_AUTH}"}},
    ]
    assert check_spec(spec(folder, notify=notify)).spec["notify"] == notify


def test_dataset_placeholder_needs_a_dataset(folder: Path) -> None:
    with pytest.raises(InvalidInput, match=r"uses \$\{dataset\} but its trigger brings no"):
        check_spec(spec(folder, trigger={"on": "schedule", "cron": "@daily"}))


@pytest.mark.parametrize(
    ("content", "message"),
    [("- a\n- b\n", "must hold a mapping"), ("name: [unclosed\n", "cannot read policy file")],
)
def test_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        load_spec(path)


def test_not_a_spec() -> None:
    with pytest.raises(InvalidInput, match="a policy spec is a mapping or the path"):
        load_spec(42)  # type: ignore[arg-type]
