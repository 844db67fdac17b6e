"""Checks on monitors, reports, policies and runs, before any store writes them."""

from __future__ import annotations

from typing import Any

import pytest

from mloop.entities import POLICY_RUN_STATUSES, Monitor, MonitorReport, Policy
from mloop.errors import InvalidInput
from mloop.store.loop_checks import (
    check_no_secrets,
    dump_json,
    monitor_columns,
    policy_columns,
    report_columns,
    run_status_sources,
    step_json,
)
from mloop.store.names import check_endpoint_name


@pytest.mark.parametrize("name", ["a", "credit-drift", "v1.2_x", "A" * 128])
def test_good_names(name: str) -> None:
    assert check_endpoint_name(name, "monitor") == name


@pytest.mark.parametrize("name", ["", ".x", "a b", "a/b", "A" * 129, 3])
def test_bad_names_say_what_is_allowed(name: object) -> None:
    with pytest.raises(InvalidInput, match=r"invalid policy name .*up to 128 letters"):
        check_endpoint_name(name, "policy")


def test_dump_json_sorts_keys_and_refuses_what_is_not_json() -> None:
    assert dump_json({"b": [1, None], "a": "ü"}, "x") == '{"a": "\\u00fc", "b": [1, null]}'
    with pytest.raises(InvalidInput, match="state is not JSON data"):
        dump_json({"when": object()}, "state")
    with pytest.raises(InvalidInput, match="state is not JSON data"):
        dump_json({1.5: 1, (1, 2): 2}, "state")


@pytest.mark.parametrize(
    "key",
    ["password", "smtp_password", "Passwd", "token", "accessToken", "X-Auth-Token", "secret",
     "client_secret", "api_key", "apiKey", "ApiKey", "Authorization", "credentials", "passphrase"],
)  # fmt: skip
def test_secret_keys_need_a_reference(key: str) -> None:
    with pytest.raises(InvalidInput, match=f"n: {key!r} holds a secret written out"):
        check_no_secrets({"kind": "x", "deep": [{key: "value"}]}, "n")
    check_no_secrets({"kind": "x", "deep": [{key: "${VALUE}"}]}, "n")
    check_no_secrets({"kind": "x", "deep": [{key: "prefix ${VALUE}"}]}, "n")


@pytest.mark.parametrize("key", ["tokenizer", "max_tokens", "keyword", "secretary", "kind", "url"])
def test_keys_that_only_contain_a_secret_word_are_not_secrets(key: str) -> None:
    check_no_secrets({key: "plain value"}, "n")


@pytest.mark.parametrize(
    "value",
    [
        "https://user:pw@host/x",
        "redis://:hunter2@cache:6379/0",
        "https://host/x?token=abc",
        "https://host/x?a=1&sig=abc",
        "https://ghp_abcdefghijklmnopqrstuvwxyz@github.com/x",
    ],
)
def test_urls_with_credentials_need_a_reference(value: str) -> None:
    with pytest.raises(InvalidInput, match="'endpoint' holds a secret") as caught:
        check_no_secrets({"endpoint": value}, "n")
    assert value not in str(caught.value)  # the message never repeats the secret
    with pytest.raises(InvalidInput, match="'a value' holds a secret"):
        check_no_secrets([value], "n")


def test_values_that_are_not_text_pass() -> None:
    check_no_secrets({"password": None, "token": 3, "secret": True, "x": [1.5]}, "n")


def test_monitor_columns_encode_the_lists_and_state() -> None:
    columns = monitor_columns(
        Monitor("m", "deployment:api", "", "1h", "1d", checks=("drift",), state={"a": 1})
    )
    assert (columns["checks"], columns["state"], columns["reference"]) == (
        '["drift"]',
        '{"a": 1}',
        "",
    )
    with pytest.raises(InvalidInput, match="monitor checks must be a list"):
        monitor_columns(Monitor("m", "deployment:api", "", "1h", "1d", checks="drift"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="monitor rules must be a list"):
        monitor_columns(Monitor("m", "deployment:api", "", "1h", "1d", rules={"a": 1}))  # type: ignore[arg-type]


def test_report_columns() -> None:
    columns = report_columns(MonitorReport("m", 5, 5, "alerting", alerts=({"rule": "r"},)))
    assert (columns["window_start"], columns["alerts"], columns["error"]) == (
        5,
        '[{"rule": "r"}]',
        None,
    )
    with pytest.raises(InvalidInput, match="NUL"):
        report_columns(MonitorReport("m", 0, 1, "failed", error="bad\x00"))


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"on": "alert", "monitor": 3}, 'policy trigger "monitor" \\(on alert\\) must be'),
        ({"on": "dataset", "name": None}, 'policy trigger "name" \\(on dataset\\) must be'),
        ({"on": "schedule", "cron": "x" * 601}, "the limit is 600"),
        ({"on": "alert", "monitor": "m", "url": "https://u:p@h"}, "policy trigger: 'url' holds"),
    ],
)
def test_policy_triggers(trigger: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        policy_columns(Policy("p", trigger, {}))


def test_a_trigger_on_alert_may_leave_out_the_rule() -> None:
    trigger = {"on": "alert", "monitor": "credit-drift"}
    assert policy_columns(Policy("p", trigger, {}))["trigger_spec"] == (
        '{"monitor": "credit-drift", "on": "alert"}'
    )


def test_run_statuses_only_move_forward() -> None:
    moves = {status: run_status_sources(status) for status in POLICY_RUN_STATUSES}
    assert moves["running"] == {"waiting-approval"}
    assert moves["waiting-approval"] == {"running"}
    assert moves["rolled-back"] == {"running", "waiting-approval", "succeeded"}
    for finished in ("succeeded", "failed", "cancelled"):
        assert moves[finished] == {"running", "waiting-approval"}
    with pytest.raises(InvalidInput, match="'RUNNING' is not one of running, waiting-approval"):
        run_status_sources("RUNNING")


def test_step_json_copies_the_step() -> None:
    step = {"step": "gate", "passed": False}
    copied = step_json(step)
    assert copied == step and copied is not step
    with pytest.raises(InvalidInput, match='"step" must be a non-empty string'):
        step_json({"step": "  "})
