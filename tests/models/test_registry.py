from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mloop
from mloop.entities import AliasChange, ModelVersionStatus
from mloop.errors import Conflict, InvalidInput, NotFound
from mloop.models.registry import rollback_target
from tests.models.conftest import fit_classifier, log_and_register


@pytest.fixture
def three(home: Path, credit: pd.DataFrame) -> None:
    for c in (1.0, 0.5, 0.1):
        log_and_register(fit_classifier(credit, c), credit)


def test_aliases_move_and_remember_who_why_and_when(
    three: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_USER", "ana")
    mloop.models.set_alias("credit", "champion", 1, reason="first release")
    monkeypatch.setenv("MLOOP_USER", "bo")
    change = mloop.models.set_alias("credit", "champion", 2, reason="retrained on May data")
    assert (change.from_version, change.to_version, change.actor) == (1, 2, "bo")
    assert mloop.models.get_version("credit@champion").version == 2
    assert mloop.models.get_model("credit").aliases == {"champion": 2}
    history = mloop.models.alias_history("credit", "champion")
    assert [(c.action, c.from_version, c.to_version, c.actor, c.reason) for c in history] == [
        ("set", None, 1, "ana", "first release"),
        ("set", 1, 2, "bo", "retrained on May data"),
    ]
    assert all(c.time > 0 for c in history)


def test_setting_an_alias_where_it_already_points_records_nothing(three: None) -> None:
    mloop.models.set_alias("credit", "champion", 1)
    assert mloop.models.set_alias("credit", "champion", 1).action == "unchanged"
    assert len(mloop.models.alias_history("credit")) == 1


def test_rollback_walks_back_one_move_at_a_time(three: None) -> None:
    for version in (1, 2, 3):
        mloop.models.set_alias("credit", "champion", version)
    assert mloop.models.rollback("credit", "champion", reason="bad canary").to_version == 2
    assert mloop.models.rollback("credit", "champion").to_version == 1
    with pytest.raises(Conflict, match="no earlier version"):
        mloop.models.rollback("credit", "champion")
    history = mloop.models.alias_history("credit", "champion")
    assert [c.action for c in history][-2:] == ["rollback", "rollback"]
    assert history[-2].reason == "bad canary"


def test_rollback_after_delete_and_moves_in_between() -> None:
    def change(action: str, to: int | None) -> AliasChange:
        return AliasChange("m", "a", action, None, to, "x", "", 0)

    assert rollback_target([change("set", 1)]) is None
    assert rollback_target([change("set", 1), change("delete", None), change("set", 2)]) is None
    moves = [change("set", 1), change("set", 2), change("rollback", 1), change("set", 3)]
    assert rollback_target(moves) == 1


def test_aliases_are_per_model_and_can_be_deleted(three: None) -> None:
    mloop.models.set_alias("credit", "challenger", 3)
    deleted = mloop.models.delete_alias("credit", "challenger", reason="withdrawn")
    assert (deleted.action, deleted.from_version, deleted.to_version) == ("delete", 3, None)
    with pytest.raises(NotFound, match="no alias 'challenger'"):
        mloop.models.get_version("credit@challenger")
    with pytest.raises(NotFound, match="no alias 'challenger'"):
        mloop.models.delete_alias("credit", "challenger")


def test_an_archived_version_takes_no_alias_and_a_held_version_cannot_be_archived(
    three: None,
) -> None:
    mloop.models.set_alias("credit", "champion", 1)
    with pytest.raises(Conflict, match=r"holds alias\(es\) \['champion'\]"):
        mloop.models.archive("credit", 1)
    assert mloop.models.archive("credit", 2).status == ModelVersionStatus.ARCHIVED
    with pytest.raises(Conflict, match="archived"):
        mloop.models.set_alias("credit", "champion", 2)
    mloop.models.load("models:/credit/2")  # still loadable
    assert mloop.models.get_version("credit").version == 3  # latest READY
    mloop.models.archive("credit", 3)
    assert mloop.models.get_version("credit").version == 1
    assert mloop.models.restore("credit", 3).status == ModelVersionStatus.READY


def test_deleting_versions_and_models(three: None, credit: pd.DataFrame) -> None:
    mloop.models.set_alias("credit", "champion", 3)
    with pytest.raises(Conflict, match="move them before deleting"):
        mloop.models.delete_version("credit", 3)
    mloop.models.delete_version("credit", 2)
    with pytest.raises(NotFound, match="no version 2"):
        mloop.models.get_version("credit/2")
    info = log_and_register(fit_classifier(credit, 2.0), credit)
    assert info.registered_version is not None
    assert info.registered_version.version == 4  # numbers are never reused
    with pytest.raises(Conflict, match="still has alias"):
        mloop.models.delete_model("credit")
    mloop.models.delete_alias("credit", "champion")
    mloop.models.delete_model("credit")
    with pytest.raises(NotFound, match="'credit' not found"):
        mloop.models.get_model("credit")


def test_describing_a_model(home: Path, credit: pd.DataFrame, classifier: Any) -> None:
    log_and_register(classifier, credit)
    model = mloop.models.update_model(
        "credit",
        description="Scores loan applications",
        intended_use="Pre-screening",
        limitations="Not for business loans",
        tags={"team": "risk"},
    )
    assert model.description == "Scores loan applications"
    assert model.tags == {
        "mloop.card.intended_use": "Pre-screening",
        "mloop.card.limitations": "Not for business loans",
        "team": "risk",
    }
    assert "team" not in mloop.models.update_model("credit", tags={"team": None}).tags
    with pytest.raises(InvalidInput, match="tag keys"):
        mloop.models.update_model("credit", tags={"": "x"})


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: mloop.models.set_alias("credit", "champion", 0), InvalidInput),
        (lambda: mloop.models.set_alias("credit", "champion", 9), NotFound),
        (lambda: mloop.models.set_alias("credit", "9", 1), InvalidInput),
        (lambda: mloop.models.set_alias("nope", "champion", 1), NotFound),
        (lambda: mloop.models.alias_history("credit", "bad alias"), InvalidInput),
        (lambda: mloop.models.archive("credit", 9), NotFound),
        (lambda: mloop.models.get_model("bad name"), InvalidInput),
    ],
)
def test_bad_registry_input(three: None, call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def test_listing(three: None) -> None:
    assert [m.name for m in mloop.models.list_models()] == ["credit"]
    assert [v.ref for v in mloop.models.list_versions("credit")] == [
        "credit/1",
        "credit/2",
        "credit/3",
    ]


def test_a_rollback_raced_by_another_move_is_a_conflict(
    three: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mloop.models import registry

    for version in (1, 2):
        mloop.models.set_alias("credit", "champion", version)
    real = registry.alias_history

    def read_then_someone_moves_it(*args: Any, **kwargs: Any) -> list[AliasChange]:
        seen = real(*args, **kwargs)
        mloop.models.set_alias("credit", "champion", 3)  # between the read and the move
        return seen

    monkeypatch.setattr(registry, "alias_history", read_then_someone_moves_it)
    with pytest.raises(Conflict, match="champion"):
        mloop.models.rollback("credit", "champion")
    monkeypatch.setattr(registry, "alias_history", real)
    assert mloop.models.get_version("credit@champion").version == 3
    assert [c.to_version for c in mloop.models.alias_history("credit", "champion")] == [1, 2, 3]
