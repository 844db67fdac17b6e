"""Fault tests: a database password never shows in errors, their causes, logs or CLI output."""

from __future__ import annotations

import logging
import shlex
import traceback
from pathlib import Path

import pytest

import mloop
from mloop.errors import MloopError
from mloop.masking import mask_text, mask_uri
from mloop.tracking.connection import disconnect_all
from mloop.tracking.redaction import redact_text
from tests.cli.conftest import invoke, run_mloop

SECRET = "S3CRET"
BAD_URIS = [
    f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/postgres",  # nothing listens there
    f"postgresql://postgres:{SECRET}@127.0.0.1:5432/mloop_no_such_database",
    f"postgresql://nobody_{SECRET.lower()}x:{SECRET}@127.0.0.1:5432/postgres",
    f"postgresql://postgres:{SECRET}@127.0.0.1:notaport/db",
    f"postgresql+asyncpg://postgres:{SECRET}@127.0.0.1/db",
    f"mysql://root:{SECRET}@127.0.0.1/db",
    f"http://user:{SECRET}@tracking.example",
]


def _chain(err: BaseException) -> str:
    """The error as Python prints it, with its whole __cause__/__context__ chain."""
    return "".join(traceback.format_exception(err))


@pytest.mark.postgres
@pytest.mark.parametrize("uri", BAD_URIS)
def test_errors_never_show_the_password(
    uri: str, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MloopError) as caught:
        mloop.Client(tracking_uri=uri)
    assert SECRET not in _chain(caught.value)
    assert "***" in str(caught.value) or SECRET.lower() not in uri
    assert SECRET not in caplog.text
    disconnect_all()


@pytest.mark.postgres
@pytest.mark.parametrize("uri", BAD_URIS[:3])
def test_the_cli_never_prints_the_password(uri: str, home: Path) -> None:
    for args in (["--tracking-uri", uri, "runs", "ls"], ["gc"], ["models", "ls"]):
        code, out, err = invoke(*args, env={"MLOOP_TRACKING_URI": uri})
        disconnect_all()
        assert code != 0
        assert SECRET not in out + err
        assert ":***@127.0.0.1" in err.replace("\n", "")


@pytest.mark.postgres
def test_the_console_script_never_prints_the_password(home: Path) -> None:
    result = run_mloop("runs", "ls", env={"MLOOP_TRACKING_URI": BAD_URIS[0]})
    assert result.returncode == 7
    assert SECRET not in result.stdout + result.stderr
    assert "cannot open the metadata store" in result.stderr


# -- passwords holding '/', '@', a quote or a blank ------------------------------------
HARD_PASSWORDS = ["pa/S3CRET", "p@S3CRET", "pa'S3CRET", 'pa"S3CRET', "pa S3CRET", "a/b@S3CRET?x"]


@pytest.mark.parametrize("password", HARD_PASSWORDS)
def test_a_password_is_masked_up_to_the_last_at_sign(password: str) -> None:
    uri = f"postgresql+psycopg://u:{password}@127.0.0.1:1/db"
    assert mask_uri(uri) == "postgresql+psycopg://u:***@127.0.0.1:1/db"
    quoted = f"cannot open {uri!r}: connection refused"
    assert SECRET not in mask_text(quoted), mask_text(quoted)
    assert "@127.0.0.1:1/db" in mask_text(quoted)
    if " " not in password:  # a blank in free text is only seen inside quotes
        line = f"python train.py --uri {uri} --lr 0.1 --mail me@example.org"
        masked = mask_text(line)
        assert masked == (
            "python train.py --uri postgresql+psycopg://u:***@127.0.0.1:1/db "
            "--lr 0.1 --mail me@example.org"
        )
    shell = f"python train.py --uri {shlex.quote(uri)} --mail me@example.org"
    assert SECRET not in mask_text(shell) and "me@example.org" in mask_text(shell)


@pytest.mark.parametrize(
    "text",
    [
        "http://localhost:5000/x --mail a@b.org",
        "see https://host:8443/path and me@example.org",
        "sqlite:////tmp/a@b/mloop.db",
        "s3://bucket/key@v2",
        "https://host:8443/x?mail=a@b.org",
        "http://localhost:5000/users/@me",
    ],
)
def test_text_without_a_password_is_unchanged(text: str) -> None:
    assert mask_text(text) == text
    assert mask_uri(text.split()[0]) == text.split()[0]


def test_several_uris_in_one_line_are_each_masked() -> None:
    line = "a postgresql://u:x/S3CRET@h/db b 'mysql://r:y S3CRET@h2/d' c"
    assert mask_text(line) == "a postgresql://u:***@h/db b 'mysql://r:***@h2/d' c"


def test_the_stored_command_line_hides_a_password_with_a_slash() -> None:
    assert redact_text(f"--uri postgresql://u:pa/{SECRET}@h/db --lr 0.1") == (
        "--uri postgresql://u:***@h/db --lr 0.1"
    )


@pytest.mark.postgres
def test_the_artifact_store_identity_hides_a_password_with_a_slash(
    postgres_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server trusts local connections: the password is sent and ignored.
    uri = postgres_store.replace("postgres@", f"postgres:pa/{SECRET}@", 1)
    assert f"pa/{SECRET}@" in uri
    root = tmp_path / "artifacts"
    monkeypatch.setenv("MLOOP_ARTIFACTS_URI", str(root))
    client = mloop.Client(tracking_uri=uri)
    client.create_run(client.create_experiment("e"))
    client.flush()
    disconnect_all()
    stored = (root / "mloop-store.json").read_text()
    assert SECRET not in stored and ":***@" in stored, stored
