from __future__ import annotations

import pytest

from mloop.tracking.redaction import REDACTED, looks_secret, redact


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db_password",
        "DB_PASSWORD",
        "apiKey",
        "api_key",
        "api-key",
        "AWS_SECRET_ACCESS_KEY",
        "aws_access_key_id",
        "github.token",
        "auth",
        "client_secret",
        "privateKey",
        "key",
        "credentials",
    ],
)
def test_secret_keys(key: str) -> None:
    assert looks_secret(key)
    assert redact(key, "hunter2") == REDACTED


@pytest.mark.parametrize(
    "key",
    ["lr", "monkey", "keyboard_layout", "sort_key", "tokenizer", "author", "max_tokens_total"],
)
def test_ordinary_keys(key: str) -> None:
    assert not looks_secret(key)
    assert redact(key, "v") == "v"
