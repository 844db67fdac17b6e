from __future__ import annotations

import re

import pytest

from mloop import errors
from mloop.errors import (
    AlreadyExists,
    Conflict,
    FilterSyntaxError,
    IntegrityError,
    InvalidInput,
    MissingExtra,
    MloopError,
    NotFound,
    NotificationFailed,
    PermissionDenied,
    PipelineFailed,
    StoreError,
    UnsupportedMediaType,
)

EXPECTED = [
    (MloopError, 500, 10, "INTERNAL_ERROR"),
    (InvalidInput, 400, 2, "INVALID_PARAMETER_VALUE"),
    (FilterSyntaxError, 400, 2, "INVALID_PARAMETER_VALUE"),
    (UnsupportedMediaType, 415, 2, "INVALID_PARAMETER_VALUE"),
    (NotFound, 404, 3, "RESOURCE_DOES_NOT_EXIST"),
    (AlreadyExists, 409, 4, "RESOURCE_ALREADY_EXISTS"),
    (Conflict, 409, 11, "INVALID_STATE"),
    (PermissionDenied, 403, 5, "PERMISSION_DENIED"),
    (IntegrityError, 500, 6, "DATA_LOSS"),
    (StoreError, 503, 7, "TEMPORARILY_UNAVAILABLE"),
    (MissingExtra, 500, 8, "MISSING_DEPENDENCY"),
    (PipelineFailed, 500, 9, "PIPELINE_FAILED"),
    (NotificationFailed, 502, 12, "NOTIFICATION_FAILED"),
]


@pytest.mark.parametrize(("cls", "status", "exit_code", "code"), EXPECTED)
def test_status_exit_code_and_code(
    cls: type[MloopError], status: int, exit_code: int, code: str
) -> None:
    assert issubclass(cls, MloopError)
    assert cls.http_status == status
    assert cls.exit_code == exit_code
    assert cls.code == code


def test_every_error_is_covered() -> None:
    defined = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, MloopError)
    }
    assert defined == {cls for cls, *_ in EXPECTED}


def test_module_docstring_tree_matches_the_classes() -> None:
    doc = errors.__doc__ or ""
    drawn = {
        name: (int(status), int(code))
        for name, status, code in re.findall(r"(\w+)\s+(\d{3})\s+exit (\d+)", doc)
    }
    assert drawn == {cls.__name__: (status, code) for cls, status, code, _ in EXPECTED}


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [(InvalidInput, ValueError), (NotFound, LookupError), (MissingExtra, ImportError)],
)
def test_errors_are_also_the_matching_builtin(cls: type[MloopError], builtin: type) -> None:
    assert issubclass(cls, builtin)


def test_filter_syntax_error_is_invalid_input() -> None:
    err = FilterSyntaxError("unexpected character '!'", "metrics.a ! 1", 10)
    assert isinstance(err, InvalidInput)
    with pytest.raises(InvalidInput):
        raise err


def test_filter_syntax_error_carries_text_position_and_caret() -> None:
    err = FilterSyntaxError("unexpected character '!'", "metrics.a ! 1", 10)
    assert err.text == "metrics.a ! 1"
    assert err.position == 10
    assert str(err) == ("unexpected character '!' at position 10:\n  metrics.a ! 1\n            ^")
    text_line, caret_line = str(err).splitlines()[1:]
    assert text_line[caret_line.index("^")] == "!"


@pytest.mark.parametrize("position", [0, 5, 13])
def test_filter_syntax_error_caret_points_at_position(position: int) -> None:
    text = "params.a IN 'x'"
    caret_line = str(FilterSyntaxError("bad", text, position)).splitlines()[-1]
    assert caret_line.index("^") - 2 == position


def test_missing_extra_names_the_pip_command() -> None:
    err = MissingExtra("psycopg", extra="postgres")
    assert str(err) == "psycopg is not installed; install it with: pip install 'mloop[postgres]'"
    assert err.package == "psycopg"
    assert err.extra == "postgres"
    assert isinstance(err, ImportError)


def test_plain_errors_keep_their_message() -> None:
    err = NotFound("run 'abc' not found")
    assert str(err) == "run 'abc' not found"
    assert (err.http_status, err.exit_code) == (404, 3)
