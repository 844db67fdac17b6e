"""Inference params checked against the signature at predict, on saved and loaded packages."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mloop
import mloop.pyfunc
from mloop.errors import InvalidInput
from mloop.models.inference_params import ParamEnforcer, convert
from mloop.models.signature import ParamSpec, Signature, infer_signature
from tests.models.custom import ParamsEcho

FRAME = pd.DataFrame({"x": [1.0, 2.0]})
PARAMS = {"k": 3, "temperature": 0.5, "greedy": False, "mode": "fast", "ids": [1, 2]}
LOGGER = "mloop.models.inference_params"


def _echo(tmp_path: Path, params: dict[str, Any] | None = PARAMS, *, signed: bool = True) -> Any:
    """A saved and loaded PythonModel that returns the params it gets."""
    signature = infer_signature(FRAME, params=params) if signed else None
    path = tmp_path / "echo"
    mloop.models.save(ParamsEcho(), path, signature=signature)
    return mloop.models.load(path)


def test_declared_params_the_caller_leaves_out_get_their_defaults(
    home: Path, tmp_path: Path
) -> None:
    model = _echo(tmp_path)
    assert model.predict(FRAME) == PARAMS
    assert model.predict(FRAME, params={}) == PARAMS
    got = model.predict(FRAME, params={"mode": "slow"})
    assert got == {**PARAMS, "mode": "slow"}
    got["ids"].append(3)  # the model's own copy: the next call still gets the default
    assert model.predict(FRAME)["ids"] == [1, 2]


def test_given_params_are_converted_where_mlflow_converts_them(home: Path, tmp_path: Path) -> None:
    model = _echo(tmp_path)
    got = model.predict(
        FRAME, params={"temperature": 1, "k": np.int32(7), "greedy": np.bool_(True), "ids": (4,)}
    )
    assert got == {"temperature": 1.0, "k": 7, "greedy": True, "ids": [4], "mode": "fast"}
    assert type(got["temperature"]) is float and type(got["k"]) is int
    assert model.predict(FRAME, params={"ids": np.array([5, 6])})["ids"] == [5, 6]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k": "many"}, r"param 'k' takes a long \(an int\), got str 'many'"),
        ({"k": 2.5}, r"param 'k' takes a long \(an int\), got float 2.5"),
        ({"k": True}, r"param 'k' takes a long \(an int\), got bool True"),
        ({"greedy": 1}, r"param 'greedy' takes a boolean \(True or False\), got int 1"),
        ({"temperature": "hot"}, r"param 'temperature' takes a double .*, got str 'hot'"),
        ({"mode": 3}, r"param 'mode' takes a string, got int 3"),
        ({"ids": 1}, r"param 'ids' takes a list of long \(an int\), got int 1"),
        ({"ids": [1, "2"]}, r"param 'ids' takes a list of long .*, got str '2' at position 1"),
        ({"k": [1, 2]}, r"param 'k' takes one value, a long \(an int\), got list \[1, 2\]"),
    ],
)
def test_a_param_of_another_type_or_shape_is_refused_by_name(
    home: Path, tmp_path: Path, params: dict[str, Any], message: str
) -> None:
    model = _echo(tmp_path)
    with pytest.raises(InvalidInput, match=message):
        model.predict(FRAME, params=params)


def test_every_bad_param_is_named_in_one_error(home: Path, tmp_path: Path) -> None:
    model = _echo(tmp_path)
    with pytest.raises(InvalidInput, match=r"invalid params: param 'k' .*; param 'mode' .*"):
        model.predict(FRAME, params={"k": "x", "mode": 1})
    with pytest.raises(InvalidInput, match="params are a mapping of param name to value, got list"):
        model.predict(FRAME, params=[("k", 1)])


def test_undeclared_params_are_dropped_with_a_warning(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = _echo(tmp_path)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = model.predict(FRAME, params={"k": 1, "top_p": 0.9})
    assert got == {**PARAMS, "k": 1}
    assert "Unrecognized params ['top_p'] are ignored" in caplog.text


def test_params_for_a_signature_that_declares_none_are_dropped_with_a_warning(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = _echo(tmp_path, params=None)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert model.predict(FRAME, params={"k": 1}) is None
    assert "params ['k'] are ignored: the model's signature declares no params" in caplog.text


def test_a_model_without_a_signature_gets_the_params_as_given(home: Path, tmp_path: Path) -> None:
    model = _echo(tmp_path, signed=False)
    assert model.signature is None
    assert model.predict(FRAME, params={"k": "as-is", "other": [1]}) == {"k": "as-is", "other": [1]}
    assert model.predict(FRAME) is None


def test_datetime_params_are_datetimes_whether_default_or_text(home: Path, tmp_path: Path) -> None:
    model = _echo(tmp_path, params={"since": dt.datetime(2024, 1, 2, 3)})
    assert model.predict(FRAME) == {"since": dt.datetime(2024, 1, 2, 3)}
    assert model.predict(FRAME, params={"since": "2024-05-06"}) == {
        "since": dt.datetime(2024, 5, 6)
    }
    assert model.predict(FRAME, params={"since": pd.Timestamp("2024-07-08")}) == {
        "since": dt.datetime(2024, 7, 8)
    }
    assert model.predict(FRAME, params={"since": np.datetime64("2024-09-10")}) == {
        "since": dt.datetime(2024, 9, 10)
    }
    with pytest.raises(InvalidInput, match=r"param 'since' takes a datetime .*, got str 'soon'"):
        model.predict(FRAME, params={"since": "soon"})
    with pytest.raises(InvalidInput, match=r"param 'since' takes a datetime .*, got int 5"):
        model.predict(FRAME, params={"since": 5})


def test_mlflows_loader_checks_params_too(home: Path) -> None:
    with mloop.start_run():
        info = mloop.pyfunc.log_model(
            name="echo", python_model=ParamsEcho(), signature=infer_signature(FRAME, params=PARAMS)
        )
    model = mloop.pyfunc.load_model(info.model_uri)
    assert model.predict(FRAME, params={"temperature": 2}) == {**PARAMS, "temperature": 2.0}
    with pytest.raises(InvalidInput, match="param 'k' takes a long"):
        model.predict(FRAME, params={"k": "x"})


def test_a_model_that_takes_no_params_is_not_given_the_defaults(home: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    estimator = LinearRegression().fit(FRAME, [1.0, 2.0])
    signature = infer_signature(FRAME, estimator.predict(FRAME), params={"k": 1})
    mloop.models.save(estimator, tmp_path / "reg", signature=signature)
    model = mloop.models.load(tmp_path / "reg")
    np.testing.assert_allclose(model.predict(FRAME), [1.0, 2.0])
    with pytest.raises(InvalidInput, match=r"takes no params; got \['k'\]"):
        model.predict(FRAME, params={"k": 2})


def test_none_passes_for_a_single_value_as_in_mlflow() -> None:
    assert convert(ParamSpec("k", "long", 1), None) is None
    with pytest.raises(InvalidInput, match="takes a list of long"):
        convert(ParamSpec("ids", "long", [1], (-1,)), None)


def test_an_enforcer_without_declared_params_fills_nothing() -> None:
    inputs = infer_signature(FRAME).inputs
    assert not ParamEnforcer(Signature(inputs)).fills_defaults
    assert not ParamEnforcer(None).fills_defaults
    assert ParamEnforcer(Signature(inputs, params=(ParamSpec("k", "long", 1),))).fills_defaults


def test_a_stored_default_of_another_type_is_passed_as_stored() -> None:
    inputs = infer_signature(FRAME).inputs
    specs = (ParamSpec("ids", "long", None, (-1,)), ParamSpec("k", "long", "x"))
    assert ParamEnforcer(Signature(inputs, params=specs))(None) == {"ids": None, "k": "x"}
