"""The shared reading of a boosting library's ``train`` call."""

from __future__ import annotations

from mloop.autologging.boosting import call_params


def train(
    params: dict[str, object],
    data: object,
    rounds: int = 10,
    *args: object,
    verbose: bool = True,
    **extra: object,
) -> None: ...


def test_call_params_fill_in_defaults_and_leave_out_data_and_catch_alls() -> None:
    assert call_params(train, ({}, "data"), {"verbose": False, "other": 1}, ("params", "data")) == {
        "rounds": 10,
        "verbose": False,
    }
