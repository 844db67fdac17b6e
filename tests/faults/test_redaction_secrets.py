"""Secrets under real-world names and in values never reach the store in clear (issue 10, item 14)."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mloop
from mloop.tracking.environment import redact_argv
from mloop.tracking.redaction import REDACTED, looks_secret, redact, redact_text

# Names real configs give their secrets (.env files, Hydra/OmegaConf, CI variables, SDKs).
SECRET_KEYS = [
    "openai_key",
    "OPENAI_API_KEY",
    "openaiApiKey",
    "anthropic_key",
    "stripe_key",
    "license_key",
    "database_url",
    "DATABASE_URL",
    "db_url",
    "sqlalchemy_database_uri",
    "connection_string",
    "AZURE_STORAGE_CONNECTION_STRING",
    "mongodb_uri",
    "pass",
    "db_pass",
    "SMTP_PASS",
    "pw",
    "smtp_pw",
    "webhook_url",
    "slack_webhook",
    "sas",
    "azure_sas",
    "sas_token",
    "jwt",
    "jwt_secret",
    "gh_pat",
    "GITHUB_PAT",
    "pat",
    "hf_token",
    "HF_TOKEN",
    "wandb_token",
    "refresh_token",
    "id_token",
    "x-api-key",
    "aws_session_token",
    "master_key",
    "encryption_key",
    "hmac_key",
    "fernet_key",
    "ssh_key",
    "client_secret",
    "passcode",
    "db.password",
    "mlflow.tracking.password",
    "redis_url",
    "broker_url",
    "dsn",
    "sentry_dsn",
    "cookie",
    "creds",
    # glued onto the secret word, as environment variables and CLI options spell them
    "PGPASSWORD",
    "PGPASS",
    "dbpassword",
    "adminpassword",
    "sslpassword",
    "DBPASSWD",
    "dbpwd",
    "clientsecret",
    "appsecret",
    "CLIENTSECRETS",
    "accesstoken",
    "githubtoken",
    "slacktoken",
    "SLACKBOTTOKEN",
    "openaiapikey",
    "awsaccesskey",
    "dbpassword_value",
]

# Names of ordinary params and tags that merely contain those letters.
ORDINARY_KEYS = [
    "passes",
    "num_passes",
    "num_pass",
    "first_pass",
    "forward_pass",
    "pass_rate",
    "pass@1",
    "pass_at_k",
    "bypass_cache",
    "password_min_length",
    "auth_type",
    "auth_enabled",
    "secret_name",
    "jwt_algorithm",
    "monkey",
    "keyboard",
    "keyboard_layout",
    "key_column",
    "sort_key",
    "label_key",
    "text_key",
    "rng_key",
    "s3_key",
    "public_key",
    "cache_key",
    "x_key",
    "attention_key",
    "groupby_key",
    "pwr",
    "pw_linear",
    "sass",
    "tokenizer",
    "tokenizer_name",
    "max_tokens",
    "max_token_length",
    "pad_token",
    "eos_token_id",
    "token_type_ids",
    "author",
    "glob_pat",
    "private_key_path",
    "lr",
    "batch_size",
    "dropout",
    "url",
    "data_url",
    "model_uri",
    # glued words that end like a secret but name a count, a field or a folder
    "num_tokens",
    "max_tokens",
    "maxtokens",
    "numtokens",
    "tokens_per_batch",
    "padtoken",
    "maxtoken",
    "eostoken",
    "subtoken",
    "OLDPWD",
    "dbpassword_min_length",
    "clientsecret_name",
    "passthrough",
    "compass",
    "secretary",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_names_are_redacted(key: str) -> None:
    assert looks_secret(key), key
    assert redact(key, "value-of-the-secret") == REDACTED


@pytest.mark.parametrize("key", ORDINARY_KEYS)
def test_ordinary_names_are_kept(key: str) -> None:
    assert not looks_secret(key), key
    assert redact(key, "0.1") == "0.1"


GH = "ghp_" + "A1b2C3d4E5" * 4
OPENAI = "sk-" + "Ab3dE6gH9j" * 5
OPENAI_PROJ = "sk-proj-" + "Ab3_dE6-gH9j" * 8
STRIPE = "sk_live_" + "51Hxyz" * 5
STRIPE_RESTRICTED = "rk_live_" + "51Hxyz" * 5
AWS = "AKIAIOSFODNN7EXAMPLE"
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
GOOGLE = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"[:35]
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc==\n-----END RSA PRIVATE KEY-----"

SECRET_VALUES = {
    "github": GH,
    "github_fine": "github_pat_11ABCDEFG0" + "x" * 60,
    "openai": OPENAI,
    "openai_project": OPENAI_PROJ,
    "stripe": STRIPE,
    "stripe_restricted": STRIPE_RESTRICTED,
    "aws": AWS,
    "slack": SLACK,
    "jwt": JWT,
    "google": GOOGLE,
    "huggingface": "hf_" + "aBcDeFgHiJ" * 3 + "kL",
    "pem": PEM,
}


@pytest.mark.parametrize("name", sorted(SECRET_VALUES))
def test_token_shapes_are_redacted_under_any_name(name: str) -> None:
    secret = SECRET_VALUES[name]
    for value in (secret, f"using {secret} for the call"):
        stored = redact("note", value)
        assert secret not in stored
        assert REDACTED in stored


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgresql://u:SECRET@h/db", "postgresql://u:***@h/db"),
        (
            "https://acct.blob.core.windows.net/c/x?sv=2022-11-02&sig=AbC%2Bdef%3D",
            "https://acct.blob.core.windows.net/c/x?sv=2022-11-02&sig=***",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;EndpointSuffix=x",
            f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={REDACTED};EndpointSuffix=x",
        ),
        (
            "https://hooks.slack.com/services/T0/B0/XyZ",
            f"https://hooks.slack.com/services/{REDACTED}",
        ),
    ],
)
def test_values_that_carry_credentials(value: str, expected: str) -> None:
    assert redact("target", value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "0.1",
        "adam",
        "s3://bucket/data/train.parquet",
        "https://example.com/data.csv?version=3",
        "0123456789abcdef0123456789abcdef01234567",  # a git commit
        "550e8400-e29b-41d4-a716-446655440000",
        "sk-learn_model_version_2_final",
        "models:/credit@champion",
        "ratio: 3:1, mode=fast",
        "key_error: KeyError: 'label'",
        "--lr 0.1 --epochs=3",
    ],
)
def test_ordinary_values_are_kept(value: str) -> None:
    assert redact("note", value) == value


def test_free_text_assignments_and_options() -> None:
    text = (
        "psql --db-url postgresql://u:S3CRET1@h/db --password=hunter2 token=S3CRET2 "
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG {'api_key': 'k3y'} "
        'headers={"Authorization": "Bearer abcdefgh12345"} --lr 0.1'
    )
    out = redact_text(text)
    for secret in ("S3CRET1", "hunter2", "S3CRET2", "wJalrXUtnFEMI", "k3y", "abcdefgh12345"):
        assert secret not in out, (secret, out)
    assert out.endswith("--lr 0.1")
    assert "--db-url" in out and "AWS_SECRET_ACCESS_KEY=" in out and "'api_key': " in out


def test_command_line_tag_hides_secrets() -> None:
    argv = [
        "train.py",
        "--dbpassword",
        "SECRET3",
        "--max-tokens",
        "512",
        "--db-url",
        "postgresql://u:SECRET@h/db",
        "token=SECRET2",
        "--openai-key=sk-abc",
        "--data",
        "sqlite:///x.db",
        f"--note={GH}",
    ]
    command = shlex.join(redact_argv(argv))
    for secret in ("SECRET", "SECRET2", "SECRET3", "sk-abc", GH):
        assert secret not in command
    assert "sqlite:///x.db" in command and "--max-tokens 512" in command


def test_stored_run_keeps_no_secret(home: Path, tmp_path: Path) -> None:
    """As a user runs it: a script with secrets on its command line and in its params."""
    script = tmp_path / "train.py"
    script.write_text(
        "import sys, mloop\n"
        "with mloop.start_run() as run:\n"
        "    mloop.log_params({'openai_key': 'sk-plain', 'database_url': 'x', 'pw': 'p',\n"
        "                      'gh_pat': 'g', 'lr': 0.1, 'target': sys.argv[2]})\n"
        "    mloop.set_tags({'connection_string': 'c', 'webhook_url': 'w', 'jwt': 'j',\n"
        f"                    'note': 'key {GH}'}})\n"
        "    print(run.info.run_id)\n"
    )
    argv = ["--db-url", "postgresql://u:SECRET@h/db", "token=SECRET2"]
    done = subprocess.run(
        [sys.executable, str(script), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    run = mloop.get_run(done.stdout.strip().splitlines()[-1])
    stored = repr(run.data.params) + repr(run.data.tags)
    for secret in ("sk-plain", "SECRET", "SECRET2", GH, "'p'", "'g'", "'c'", "'w'", "'j'"):
        assert secret not in stored, secret
    assert run.data.params["lr"] == "0.1"
    assert run.data.params["target"] == "postgresql://u:***@h/db"
    assert run.data.tags["mloop.source.command"].count(REDACTED) == 2


def test_redacting_a_traceback_is_cheap() -> None:
    line = '  File "/srv/app/train.py", line 42, in fit\n    loss = model.step(batch, lr=0.1)\n'
    traceback = (line * 80)[:7800] + "\nRuntimeError: connect postgresql://u:SECRET@h/db failed"
    assert "SECRET" not in redact_text(traceback)
    start = time.perf_counter()
    for _ in range(100):
        redact_text(traceback)
    assert (time.perf_counter() - start) / 100 < 0.005


def test_param_redaction_stays_cheap() -> None:
    values = [str(i / 7) for i in range(2000)] + [f"adam-{i}" for i in range(2000)]
    start = time.perf_counter()
    for i, value in enumerate(values):
        redact(f"param_{i % 50}", value)
    assert (time.perf_counter() - start) / len(values) < 20e-6
