"""Fault tests: a database password never shows in errors, their causes, logs or CLI output."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

import mloop
from mloop.errors import MloopError
from mloop.tracking.connection import disconnect_all
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
