"""``mloop.autolog``: one switch for every installed integration."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.autologging import state
from mloop.errors import InvalidInput
from tests.autologging.conftest import runs

Data = tuple[pd.DataFrame, pd.Series]


def test_one_call_turns_every_installed_integration_on(home: Path, binary: Data) -> None:
    mloop.autolog(log_models=False, extra_tags={"team": "risk"})
    assert state.enabled() == ["lightgbm", "sklearn", "xgboost"]
    assert state.options_of("xgboost").log_models is False  # type: ignore[union-attr]
    LogisticRegression().fit(*binary)
    xgb.XGBClassifier(n_estimators=2).fit(*binary)
    assert sorted(run.data.tags["mloop.autologging"] for run in runs()) == ["sklearn", "xgboost"]
    assert {run.data.tags["team"] for run in runs()} == {"risk"}


def test_disable_turns_every_integration_off(home: Path, binary: Data) -> None:
    fit = LogisticRegression.__dict__["fit"]
    mloop.autolog()
    mloop.autolog(disable=True)
    assert state.enabled() == []
    assert LogisticRegression.__dict__["fit"] is fit
    LogisticRegression().fit(*binary)
    assert runs() == []


def test_excluded_flavors_are_left_alone(home: Path) -> None:
    mloop.autolog(exclude_flavors=["xgboost", "lightgbm"])
    assert state.enabled() == ["sklearn"]


def test_calling_again_changes_the_options_and_keeps_the_patches(home: Path) -> None:
    mloop.autolog(exclude_flavors=["xgboost", "lightgbm"])
    fit = LogisticRegression.__dict__["fit"]
    mloop.autolog(log_models=False, exclude_flavors=["xgboost", "lightgbm"])
    assert LogisticRegression.__dict__["fit"] is fit
    assert state.options_of("sklearn").log_models is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"log_model": True}, r"unknown argument 'log_model' \(did you mean 'log_models'\?\)"),
        ({"max_tuning_runs": 2}, "unknown argument 'max_tuning_runs'"),
        ({"exclude_flavors": ["torch"]}, "names no integration"),
        ({"exclude_flavors": "sklearn"}, "must be a list"),
        ({"silent": "no"}, "silent must be True or False"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_turned_on(
    home: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        mloop.autolog(**kwargs)  # type: ignore[arg-type]
    assert state.enabled() == []


def test_the_flavor_modules_offer_their_autolog() -> None:
    import mloop.lightgbm
    import mloop.sklearn
    import mloop.xgboost
    from mloop.autologging import lightgbm, sklearn, xgboost

    assert mloop.sklearn.autolog is sklearn.autolog
    assert mloop.xgboost.autolog is xgboost.autolog
    assert mloop.lightgbm.autolog is lightgbm.autolog
