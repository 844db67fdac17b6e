from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.errors import NotFound
from tests.models.conftest import FEATURES, fit_classifier


@pytest.fixture
def carded(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credit: pd.DataFrame
) -> str:
    credit.to_csv(tmp_path / "credit.csv", index=False)
    monkeypatch.setenv("MLOOP_USER", "ana")
    dataset = mloop.data.add(tmp_path / "credit.csv", name="credit-data")
    with mloop.start_run():
        mloop.log_input(dataset, context="training")
        mloop.log_params({"C": 1.0, "solver": "lbfgs"})
        mloop.log_metric("train_accuracy", 0.8)
        mloop.models.log_model(
            fit_classifier(credit),
            input_example=credit[FEATURES][:2],
            registered_model_name="credit",
        )
    mloop.models.update_model(
        "credit",
        description="Scores applications",
        intended_use="Pre-screening of personal loans",
        limitations="Not validated for applicants under 21",
        tags={"team": "risk"},
    )
    mloop.models.gate(
        "credit/1",
        data=credit,
        targets="label",
        rules=["accuracy >= 0.6"],
        slices=["region"],
        sensitive=["sex"],
    )
    monkeypatch.setenv("MLOOP_USER", "bo")
    mloop.models.approve("credit", 1, comment="fair enough")
    return "credit/1"


def test_the_card_holds_everything_a_reviewer_asks_for(carded: str) -> None:
    card = mloop.models.model_card(carded)
    assert card["model"]["ref"] == "credit/1"
    assert card["model"]["description"] == "Scores applications"
    assert card["intended_use"] == "Pre-screening of personal loans"
    assert card["limitations"] == "Not validated for applicants under 21"
    assert card["tags"] == {"team": "risk"}
    [data] = card["training_data"]
    assert data["ref"] == "credit-data@1"
    assert [c["name"] for c in data["schema"]] == ["income", "debt", "region", "sex", "label"]
    assert data["rows"] == 300
    assert card["parameters"] == {"C": "1.0", "solver": "lbfgs"}
    assert card["training_metrics"] == {"train_accuracy": 0.8}
    assert card["evaluation"]["metrics"]["accuracy"] > 0.6
    assert set(card["evaluation"]["slices"]["region"]) == {"north", "south"}
    assert card["fairness"]["sex"]["dp_diff"] >= 0
    assert set(card["feature_importance"]) == set(FEATURES)
    assert card["lineage"]["datasets"] == ["credit-data@1"]
    assert card["lineage"]["model_version"] == "credit/1"
    assert card["lineage"]["pipeline_run"] is None
    assert [g["passed"] for g in card["gates"]] == [True]
    assert [(a["actor"], a["decision"]) for a in card["approvals"]] == [("bo", "approved")]
    json.dumps(card)  # plain data all the way down


def test_the_markdown_card(carded: str) -> None:
    text = mloop.models.render_markdown(mloop.models.model_card(carded))
    for heading in (
        "# Model card: credit/1",
        "## Intended use",
        "## Limitations",
        "## Training data",
        "### credit-data@1",
        "## Parameters",
        "## Evaluation",
        "### By region",
        "## Fairness",
        "### sex: dp_diff",
        "## Feature importance",
        "## Lineage",
        "## Gates",
        "## Approvals",
    ):
        assert heading in text, heading
    assert "credit-data@1 → run " in text
    assert "| bo | approved | fair enough |" in text
    assert "300 rows." in text  # the training data's row count, as the JSON has it
    card = mloop.models.model_card(carded)
    matrix, labels = card["evaluation"]["confusion_matrix"], card["evaluation"]["labels"]
    assert "### Confusion matrix (rows: actual, columns: predicted)" in text
    first = "| " + " | ".join([str(labels[0]), *(str(v) for v in matrix[0])]) + " |"
    assert first in text


def test_a_card_without_evaluations_or_inputs(
    home: Path, tmp_path: Path, credit: pd.DataFrame
) -> None:
    mloop.models.save(fit_classifier(credit), tmp_path / "pkg")
    mloop.models.register(tmp_path / "pkg", "bare")
    card = mloop.models.model_card("bare/1")
    assert card["training_data"] == []
    assert card["evaluation"]["metrics"] == {}
    text = mloop.models.render_markdown(card)
    assert "_No dataset versions were recorded as inputs._" in text
    assert "_No sensitive columns were evaluated._" in text


def test_a_removed_dataset_version_is_noted(carded: str) -> None:
    mloop.data.remove("credit-data@1")
    [data] = mloop.models.model_card(carded)["training_data"]
    assert data["note"] == "version no longer available"


def test_no_card_for_a_missing_version(carded: str) -> None:
    with pytest.raises(NotFound, match="no version 2"):
        mloop.models.model_card("credit/2")
