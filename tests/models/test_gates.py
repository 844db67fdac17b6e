from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.errors import InvalidInput, NotFound
from tests.models.conftest import fit_classifier, log_and_register


@pytest.fixture
def two(home: Path, credit: pd.DataFrame) -> pd.DataFrame:
    """credit/1 (champion, well fitted) and credit/2 (heavily regularized, on one feature)."""
    log_and_register(fit_classifier(credit, 1.0), credit)
    weak = fit_classifier(credit, 0.0001, features=["income"])
    with mloop.start_run():
        mloop.models.log_model(
            weak, input_example=credit[["income"]][:2], registered_model_name="credit"
        )
    mloop.models.set_alias("credit", "champion", 1)
    return credit


def test_both_are_evaluated_on_the_same_data_and_compared(two: pd.DataFrame) -> None:
    result = mloop.models.gate(
        "credit/2",
        against="credit@champion",
        data=two,
        targets="label",
        rules=["roc_auc >= champion.roc_auc - 0.005", "accuracy >= 0.5"],
    )
    assert (result.candidate.ref, result.baseline and result.baseline.ref) == (
        "credit/2",
        "credit/1",
    )
    first, second = result.rules
    assert not first["passed"]
    assert first["value"] == result.candidate_evaluation.metrics["roc_auc"]
    assert result.baseline_evaluation is not None
    assert first["threshold"] == pytest.approx(
        result.baseline_evaluation.metrics["roc_auc"] - 0.005
    )
    assert second["passed"]
    assert not result.passed
    assert result.candidate_evaluation.data == result.baseline_evaluation.data


def test_the_result_is_recorded_on_the_candidate(two: pd.DataFrame) -> None:
    mloop.models.gate(
        "credit/1",
        against="credit@champion",
        data=two,
        targets="label",
        rules=["accuracy >= champion.accuracy"],
    )
    [record] = mloop.models.gate_results("credit", 1)
    assert record.passed
    assert record.details["against_version"] == 1
    assert record.rules[0]["rule"] == "accuracy >= champion.accuracy"
    assert mloop.models.gate_results("credit", 2) == []


def test_inside_a_run_the_gate_is_logged(two: pd.DataFrame) -> None:
    with mloop.start_run() as run:
        mloop.models.gate("credit/2", data=two, targets="label", rules=["f1 >= 0"])
    logged = mloop.get_run(run.info.run_id)
    assert logged.data.tags["mloop.gate.credit"] == "passed"
    stored = json.loads(mloop.Client().load_text(run.info.run_id, "gates/credit-2.json"))
    assert stored["passed"] is True


def test_fairness_rules_on_sensitive_columns(two: pd.DataFrame) -> None:
    result = mloop.models.gate(
        "credit@champion", data=two, targets="label", rules=["dp_diff <= 0.5"], sensitive=["sex"]
    )
    assert result.passed
    assert "sex" in result.candidate_evaluation.fairness


def test_a_data_file_and_a_dataset_reference(two: pd.DataFrame, tmp_path: Path) -> None:
    two.to_csv(tmp_path / "holdout.csv", index=False)
    mloop.data.add(tmp_path / "holdout.csv", name="holdout")
    for data in (str(tmp_path / "holdout.csv"), "holdout@1"):
        assert mloop.models.gate(
            "credit/1", data=data, targets="label", rules=["accuracy > 0.5"]
        ).passed


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"rules": []}, InvalidInput, "at least one rule"),
        ({"rules": ["auc > 0.5"]}, InvalidInput, "available: accuracy"),
        ({"rules": ["f1 > staging.f1"]}, InvalidInput, "names 'staging'"),
        ({"rules": ["f1 >"]}, InvalidInput, "does not parse"),
        ({"rules": ["f1 > 0"], "targets": "nope"}, InvalidInput, "target column"),
        ({"rules": ["f1 > 0"], "against": "credit/9"}, NotFound, "no version 9"),
        ({"rules": ["f1 > 0"], "against": "other@champion"}, NotFound, "'other' not found"),
        ({"rules": ["f1 > 0"], "data": "missing@1"}, NotFound, "missing"),
    ],
)
def test_bad_gates_record_nothing(
    two: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    options: dict[str, object] = {"data": two, "targets": "label", **kwargs}
    with pytest.raises(error, match=message):
        mloop.models.gate("credit/2", **options)  # type: ignore[arg-type]
    assert mloop.models.gate_results("credit", 2) == []


def test_a_single_rule_may_be_a_string(two: pd.DataFrame) -> None:
    assert mloop.models.gate("credit/1", data=two, targets="label", rules="accuracy > 0.5").passed


def test_target_is_the_old_name_of_targets(two: pd.DataFrame) -> None:
    data = two
    with pytest.warns(DeprecationWarning, match=r"gate\(target=...\) is deprecated") as caught:
        result = mloop.models.gate("credit/1", data=data, target="label", rules=["accuracy > 0.5"])
    assert result.passed
    assert caught[0].filename == __file__
    with pytest.raises(InvalidInput, match="targets= only"):
        mloop.models.gate(
            "credit/1", data=data, target="label", targets="label", rules=["accuracy > 0.5"]
        )
    with pytest.raises(InvalidInput, match="needs targets="):
        mloop.models.gate("credit/1", data=data, rules=["accuracy > 0.5"])
