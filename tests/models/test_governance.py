from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.errors import InvalidInput, NotFound, PermissionDenied
from tests.models.conftest import fit_classifier, log_and_register

RULE = "roc_auc >= champion.roc_auc - 0.005"


@pytest.fixture
def registry(home: Path, monkeypatch: pytest.MonkeyPatch, credit: pd.DataFrame) -> pd.DataFrame:
    """credit/1 and credit/2 registered by ana; champion needs 1 approval and a passed gate."""
    monkeypatch.setenv("MLOOP_USER", "ana")
    log_and_register(fit_classifier(credit, 1.0), credit)
    log_and_register(fit_classifier(credit, 0.5), credit)
    mloop.models.protect_alias("credit", "champion", approvals=1, gates=[RULE])
    return credit


def _gate(version: int, data: pd.DataFrame, rule: str = RULE) -> bool:
    result = mloop.models.gate(
        f"credit/{version}", against="credit@champion", data=data, targets="label", rules=[rule]
    )
    return result.passed


def _as(monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    monkeypatch.setenv("MLOOP_USER", user)


def test_a_protected_alias_says_exactly_what_is_missing(registry: pd.DataFrame) -> None:
    with pytest.raises(PermissionDenied) as caught:
        mloop.models.set_alias("credit", "champion", 1)
    message = str(caught.value)
    assert "credit/1 may not become credit@champion" in message
    assert "1 approval(s) (has 0)" in message
    assert f"a passed gate with rule(s) ['{RULE}']" in message
    assert mloop.models.get_model("credit").aliases == {}


def test_with_a_gate_and_an_approval_by_someone_else_it_moves(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _gate(1, registry)
    _as(monkeypatch, "bo")
    mloop.models.approve("credit", 1, comment="card reviewed")
    change = mloop.models.set_alias("credit", "champion", 1, reason="first release")
    assert (change.to_version, change.actor) == (1, "bo")


def test_the_author_cannot_be_the_only_approver(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _gate(1, registry)
    mloop.models.approve("credit", 1)  # ana, who registered it
    with pytest.raises(PermissionDenied, match="someone other than the version's author 'ana'"):
        mloop.models.set_alias("credit", "champion", 1)
    _as(monkeypatch, "bo")
    mloop.models.approve("credit", 1)
    mloop.models.set_alias("credit", "champion", 1)


def test_n_approvals_are_counted_per_person(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=2)
    _as(monkeypatch, "bo")
    mloop.models.approve("credit", 1)
    mloop.models.approve("credit", 1)  # twice by the same person is one approval
    with pytest.raises(PermissionDenied, match=r"2 approval\(s\) \(has 1\)"):
        mloop.models.set_alias("credit", "champion", 1)
    _as(monkeypatch, "cy")
    mloop.models.approve("credit", 1)
    mloop.models.set_alias("credit", "champion", 1)


def test_a_standing_rejection_blocks_until_withdrawn(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=1)
    _as(monkeypatch, "bo")
    mloop.models.approve("credit", 1)
    _as(monkeypatch, "cy")
    mloop.models.reject("credit", 1, comment="fails on thin files")
    with pytest.raises(PermissionDenied, match="rejected by cy: fails on thin files"):
        mloop.models.set_alias("credit", "champion", 1)
    mloop.models.approve("credit", 1, comment="fixed upstream")  # cy's latest decision stands
    mloop.models.set_alias("credit", "champion", 1)
    assert [d.decision for d in mloop.models.decisions("credit", 1)] == [
        "approved",
        "rejected",
        "approved",
    ]


def test_a_failed_gate_does_not_count(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not _gate(1, registry, "accuracy >= 0.99")
    mloop.models.protect_alias("credit", "champion", approvals=1, gates=["accuracy >= 0.99"])
    _as(monkeypatch, "bo")
    mloop.models.approve("credit", 1)
    with pytest.raises(PermissionDenied, match="a passed gate"):
        mloop.models.set_alias("credit", "champion", 1)


def test_the_gate_must_be_against_the_current_champion(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, credit: pd.DataFrame
) -> None:
    _as(monkeypatch, "bo")
    for version in (1, 2):
        mloop.models.approve("credit", version)
    assert _gate(2, registry)  # against no champion yet: the comparison is skipped
    assert _gate(1, registry)
    mloop.models.set_alias("credit", "champion", 1)
    # credit/2 passed against "no champion", but there is one now: it must be gated again
    with pytest.raises(PermissionDenied, match="a passed gate against version 1"):
        mloop.models.set_alias("credit", "champion", 2)
    assert _gate(2, registry, RULE)
    mloop.models.set_alias("credit", "champion", 2)


def test_the_cli_route_is_held_to_the_same_rules(registry: pd.DataFrame) -> None:
    from tests.cli.conftest import invoke

    code, _, err = invoke("models", "alias", "credit", "champion", "1")
    assert code == 5
    assert "may not become credit@champion" in err


def test_rollback_is_held_to_the_rules_too(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    mloop.models.unprotect_alias("credit", "champion")
    mloop.models.set_alias("credit", "champion", 1)
    mloop.models.set_alias("credit", "champion", 2)
    mloop.models.protect_alias("credit", "champion", approvals=1)
    with pytest.raises(PermissionDenied, match="credit/1 may not become"):
        mloop.models.rollback("credit", "champion")
    _as(monkeypatch, "bo")
    mloop.models.approve("credit", 1)
    assert mloop.models.rollback("credit", "champion").to_version == 1


def test_unprotected_aliases_move_freely(registry: pd.DataFrame) -> None:
    mloop.models.set_alias("credit", "challenger", 2)
    assert mloop.models.missing_requirements("credit", "challenger", 2) == []


def test_protections_are_listed_and_lifted(registry: pd.DataFrame) -> None:
    [protection] = mloop.models.protections("credit")
    assert (protection.alias, protection.approvals, protection.gates, protection.created_by) == (
        "champion",
        1,
        (RULE,),
        "ana",
    )
    mloop.models.unprotect_alias("credit", "champion")
    assert mloop.models.protections("credit") == []
    with pytest.raises(NotFound, match="not protected"):
        mloop.models.unprotect_alias("credit", "champion")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"approvals": -1}, "approvals must be"),
        ({"approvals": True}, "approvals must be"),
        ({"approvals": 0}, "needs approvals >= 1 or at least one gate rule"),
        ({"gates": ["roc_auc >>= 1"]}, "does not parse"),
        ({"gates": ["import os"]}, "does not parse"),
    ],
)
def test_bad_protections(registry: pd.DataFrame, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        mloop.models.protect_alias("credit", "champion", **kwargs)  # type: ignore[arg-type]


def test_decisions_need_a_real_version(registry: pd.DataFrame) -> None:
    with pytest.raises(NotFound, match="no version 7"):
        mloop.models.approve("credit", 7)
    with pytest.raises(NotFound):
        mloop.models.protect_alias("nope", "champion")
    with pytest.raises(InvalidInput, match="comment must be a string"):
        mloop.models.reject("credit", 1, comment=3)  # type: ignore[arg-type]


def test_a_rollback_counts_the_gate_the_version_passed_before(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as(monkeypatch, "bo")
    for version in (1, 2):
        mloop.models.approve("credit", version)
    assert _gate(1, registry)  # no champion yet
    mloop.models.set_alias("credit", "champion", 1)
    assert _gate(2, registry)  # against credit/1
    mloop.models.set_alias("credit", "champion", 2)
    # credit/1's gate was measured before there was a champion: a forward move would need a
    # new gate against credit/2, a rollback goes back to what was already let in
    assert mloop.models.missing_requirements("credit", "champion", 1) != []
    assert mloop.models.rollback("credit", "champion", reason="canary errors").to_version == 1
