"""mloop.exceptions.MlflowException: MLflow's root error name catches mloop's errors."""

from __future__ import annotations

import pytest

from mloop.errors import Conflict, InvalidInput, MloopError, NotFound
from mloop.exceptions import MlflowException


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput, "INVALID_PARAMETER_VALUE"),
        (NotFound, "RESOURCE_DOES_NOT_EXIST"),
        (Conflict, "INVALID_STATE"),
    ],
)
def test_every_mloop_error_is_an_mlflow_exception_with_mlflows_code(
    error: type[MloopError], code: str
) -> None:
    with pytest.raises(MlflowException) as caught:
        raise error("bad")
    assert caught.value.code == code
    assert MlflowException is MloopError
    assert not issubclass(ValueError, MlflowException)  # only mloop's own errors
