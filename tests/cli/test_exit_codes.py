"""Exit codes: 1 is a check that said no and nothing else; every error has its own code >= 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import mloop
from mloop.cli import app as cli_app
from mloop.cli.output import handle_errors
from mloop.errors import (
    EXIT_CHECK_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    AlreadyExists,
    Conflict,
    IntegrityError,
    InvalidInput,
    MissingExtra,
    MloopError,
    NotFound,
    PermissionDenied,
    PipelineFailed,
    StoreError,
)
from tests.cli.conftest import invoke

ERRORS: list[MloopError] = [
    MloopError("something went wrong"),
    InvalidInput("bad name"),
    NotFound("no run 'abc'"),
    AlreadyExists("name taken"),
    Conflict("stored state says otherwise"),
    PermissionDenied("not yours"),
    IntegrityError("bytes differ"),
    StoreError("database is locked"),
    MissingExtra("psycopg", extra="postgres"),
    PipelineFailed("step 'train' failed", run_id="r", step="train"),
]


def _app(error: BaseException) -> typer.Typer:
    """A one-command app whose command raises ``error``, wrapped as every mloop command is."""
    app = typer.Typer()

    @app.command()
    @handle_errors
    def fail() -> None:
        raise error

    return app


def _run(error: BaseException) -> tuple[int, str]:
    result = CliRunner().invoke(_app(error), [])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stderr


def test_every_error_class_has_its_own_code_of_two_or_more() -> None:
    codes = [type(err).exit_code for err in ERRORS if type(err) is not AlreadyExists]
    assert len(set(codes)) == len(codes)
    assert all(code >= 2 for code in [*codes, EXIT_INTERNAL, EXIT_INTERRUPTED])
    assert EXIT_CHECK_FAILED == 1
    assert AlreadyExists.exit_code not in {Conflict.exit_code, EXIT_CHECK_FAILED}


@pytest.mark.parametrize("error", ERRORS, ids=lambda err: type(err).__name__)
def test_an_error_exits_with_its_code_and_says_what_went_wrong(error: MloopError) -> None:
    code, err = _run(error)
    assert code == error.exit_code and code >= 2
    assert err.startswith("error: ") and str(error) in err
    assert "Traceback" not in err


def test_an_unexpected_exception_is_an_internal_error_with_its_traceback() -> None:
    code, err = _run(KeyError("missing"))
    assert code == EXIT_INTERNAL == 70
    assert "Traceback (most recent call last)" in err
    assert "error: internal error: KeyError: 'missing'" in err
    assert f"this is a bug in mloop {mloop.__version__}; please report it" in err


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), typer.Abort()], ids=["ctrl-c", "abort"])
def test_a_command_the_user_stops_exits_130(stop: BaseException) -> None:
    code, err = _run(stop)
    assert code == EXIT_INTERRUPTED == 130
    assert "stopped: interrupted" in err


def test_usage_and_exit_requests_pass_through_unchanged() -> None:
    assert _run(typer.BadParameter("nope"))[0] == 2
    assert _run(typer.Exit(0))[0] == 0


def test_an_exception_escaping_every_command_is_still_internal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("escaped")

    monkeypatch.setattr(cli_app, "app", broken)
    monkeypatch.setattr("sys.argv", ["mloop", "runs", "ls"])
    with pytest.raises(SystemExit) as exited:
        cli_app.main()
    assert exited.value.code == EXIT_INTERNAL
    assert "internal error: RuntimeError: escaped" in capsys.readouterr().err


def test_a_failed_validation_exits_1_and_a_missing_dataset_3(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n2\n")
    mloop.data.add(folder, name="raw")
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: rows\nexpectations:\n  - {kind: row_count, min: 1000}\n")
    code, out, _ = invoke("data", "validate", "raw", "--suite", str(suite))
    assert code == EXIT_CHECK_FAILED and "FAILED" in out
    suite.write_text("name: rows\nexpectations:\n  - {kind: row_count, min: 1}\n")
    assert invoke("data", "validate", "raw", "--suite", str(suite))[0] == 0
    code, _, err = invoke("data", "validate", "nothing", "--suite", str(suite))
    assert code == NotFound.exit_code and "error:" in err
