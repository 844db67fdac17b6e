"""Deployments through the Python API: validation, history, promotion, rollback, governance."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sklearn.linear_model import LinearRegression

import mloop
import mloop.serving
from mloop.entities import DeploymentChange
from mloop.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from mloop.models.backend import backend
from mloop.serving.deployments import rollback_plan


def register_versions(path: Path, name: str = "credit", count: int = 3) -> None:
    """``count`` versions of ``name`` (one small package registered again and again)."""
    if not path.exists():
        mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), str(path))
    for _ in range(count):
        mloop.models.register(str(path), name)


@pytest.fixture
def credit(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """credit/1..3 registered by ana; champion -> 1, challenger -> 2."""
    monkeypatch.setenv("MLOOP_USER", "ana")
    package = home.parent / "package"
    register_versions(package)
    mloop.models.set_alias("credit", "champion", 1)
    mloop.models.set_alias("credit", "challenger", 2)
    return package


def test_create_show_list_and_history(credit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = mloop.serving.create_deployment(
        "credit-api",
        "models:/credit@champion",
        canary="credit@challenger",
        canary_percent=10,
        shadow="credit/3",
        sticky_header="X-Customer-Id",
        reason="launch",
    )
    assert (made.primary, made.canary, made.canary_percent, made.shadow) == (
        "credit@champion",
        "credit@challenger",
        10,
        "credit/3",
    )
    assert (made.sticky_header, made.mode, made.revision, made.created_by) == (
        "x-customer-id",
        "canary",
        1,
        "ana",
    )
    assert mloop.serving.get_deployment("credit-api") == made
    assert mloop.serving.list_deployments() == [made]
    monkeypatch.setenv("MLOOP_USER", "bo")
    changed = mloop.serving.update_deployment(
        "credit-api", canary_percent=25, shadow="", reason="more traffic"
    )
    assert (changed.canary_percent, changed.shadow, changed.revision) == (25, None, 2)
    history = mloop.serving.deployment_history("credit-api")
    assert [(c.action, c.actor, c.reason) for c in history] == [
        ("create", "ana", "launch"),
        ("set", "bo", "more traffic"),
    ]
    assert history[1].before == made.routing() and history[1].after == changed.routing()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "nope@champion"}, NotFound, "'nope'"),
        ({"model": "credit@gone"}, NotFound, "alias 'gone'"),
        ({"model": "credit/9"}, NotFound, "9"),
        ({"model": "credit"}, InvalidInput, "names no version"),
        ({"model": "credit/0"}, InvalidInput, "version number"),
        ({"canary": "credit/2", "canary_percent": 101}, InvalidInput, "0 to 100"),
        ({"canary": "credit/2", "canary_percent": -1}, InvalidInput, "0 to 100"),
        ({"canary": "credit/2", "canary_percent": True}, InvalidInput, "0 to 100"),
        ({"canary_percent": 10}, InvalidInput, "needs a canary"),
        ({"canary": "credit@champion"}, InvalidInput, "as the primary"),
        ({"canary": "credit/1"}, InvalidInput, "serves credit/1, as the primary"),
        ({"shadow": "credit@champion"}, InvalidInput, "shadow"),
        ({"canary": "credit/9"}, NotFound, "9"),
        ({"sticky_header": "x customer"}, InvalidInput, "header"),
        ({"mode": "rainbow"}, InvalidInput, "mode"),
        ({"mode": "blue-green", "canary": "credit/2", "canary_percent": 5}, InvalidInput, "share"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    credit: Path, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    arguments = {"model": "credit@champion", **kwargs}
    with pytest.raises(error, match=match):
        mloop.serving.create_deployment("credit-api", **arguments)  # type: ignore[arg-type]
    assert mloop.serving.list_deployments() == []
    with pytest.raises(NotFound):
        mloop.serving.deployment_history("credit-api")


def test_bad_names_duplicates_and_unknown_deployments(credit: Path) -> None:
    with pytest.raises(InvalidInput, match="deployment name"):
        mloop.serving.create_deployment("bad name", "credit/1")
    mloop.serving.create_deployment("credit-api", "credit/1")
    with pytest.raises(AlreadyExists, match="'credit-api' already exists"):
        mloop.serving.create_deployment("credit-api", "credit/2")
    assert mloop.serving.get_deployment("credit-api").primary == "credit/1"
    for call in (
        lambda: mloop.serving.get_deployment("nope"),
        lambda: mloop.serving.update_deployment("nope", canary_percent=1),
        lambda: mloop.serving.promote("nope"),
        lambda: mloop.serving.rollback("nope"),
        lambda: mloop.serving.delete_deployment("nope"),
    ):
        with pytest.raises(NotFound, match="deployment 'nope' not found"):
            call()
    with pytest.raises(InvalidInput, match="nothing to change"):
        mloop.serving.update_deployment("credit-api")


def test_a_stale_revision_is_a_conflict_and_changes_nothing(credit: Path) -> None:
    seen = mloop.serving.create_deployment("credit-api", "credit/1")
    mloop.serving.update_deployment("credit-api", shadow="credit/2", revision=seen.revision)
    for call in (
        lambda: mloop.serving.update_deployment("credit-api", shadow="credit/3", revision=1),
        lambda: mloop.serving.promote("credit-api", revision=1),
        lambda: mloop.serving.delete_deployment("credit-api", revision=1),
    ):
        with pytest.raises(Conflict, match="revision 2, not 1"):
            call()
    assert mloop.serving.get_deployment("credit-api").shadow == "credit/2"
    assert len(mloop.serving.deployment_history("credit-api")) == 2


def test_promoting_a_canary_of_the_primary_alias_moves_the_alias(credit: Path) -> None:
    mloop.serving.create_deployment(
        "credit-api", "credit@champion", canary="credit@challenger", canary_percent=10
    )
    promoted = mloop.serving.promote("credit-api", reason="challenger won")
    assert (promoted.primary, promoted.canary, promoted.canary_percent) == (
        "credit@champion",
        None,
        0,
    )
    assert mloop.models.get_version("credit@champion").version == 2
    change = mloop.serving.deployment_history("credit-api")[-1]
    assert (change.action, change.reason) == ("promote", "challenger won")
    assert change.alias_move == {"model": "credit", "alias": "champion", "from": 1, "to": 2}
    assert mloop.models.alias_history("credit", "champion")[-1].reason == "challenger won"
    with pytest.raises(Conflict, match="no canary to promote"):
        mloop.serving.promote("credit-api")
    back = mloop.serving.rollback("credit-api", reason="errors went up")
    assert (back.canary, back.canary_percent) == ("credit@challenger", 10)
    assert mloop.models.get_version("credit@champion").version == 1
    assert mloop.serving.deployment_history("credit-api")[-1].alias_move == {
        "model": "credit",
        "alias": "champion",
        "from": 2,
        "to": 1,
    }


def test_promoting_a_pinned_primary_and_blue_green_switches(credit: Path) -> None:
    mloop.serving.create_deployment("pinned", "credit/1", canary="credit/3", canary_percent=50)
    assert mloop.serving.promote("pinned").primary == "credit/3"
    assert mloop.serving.get_deployment("pinned").canary is None
    mloop.serving.create_deployment("twins", "credit/1", canary="credit/2", mode="blue-green")
    switched = mloop.serving.promote("twins")
    assert (switched.primary, switched.canary, switched.canary_percent) == (
        "credit/2",
        "credit/1",
        0,
    )
    assert mloop.serving.promote("twins").primary == "credit/1"  # and back, all at once


def test_rollback_walks_back_one_change_at_a_time(credit: Path) -> None:
    mloop.serving.create_deployment("credit-api", "credit/1")
    with pytest.raises(Conflict, match="no earlier routing"):
        mloop.serving.rollback("credit-api")
    mloop.serving.update_deployment("credit-api", model="credit/2")
    mloop.serving.update_deployment("credit-api", model="credit/3")
    assert mloop.serving.rollback("credit-api").primary == "credit/2"
    assert mloop.serving.rollback("credit-api").primary == "credit/1"
    with pytest.raises(Conflict, match="no earlier routing"):
        mloop.serving.rollback("credit-api")
    actions = [c.action for c in mloop.serving.deployment_history("credit-api")]
    assert actions == ["create", "set", "set", "rollback", "rollback"]


def test_rollback_refuses_when_the_promoted_alias_moved_since(credit: Path) -> None:
    mloop.serving.create_deployment("credit-api", "credit@champion", canary="credit/2")
    mloop.serving.promote("credit-api")
    mloop.models.set_alias("credit", "champion", 3)
    with pytest.raises(Conflict, match="moved since the promotion"):
        mloop.serving.rollback("credit-api")
    assert mloop.serving.get_deployment("credit-api").revision == 2


def test_delete_keeps_the_history(credit: Path) -> None:
    mloop.serving.create_deployment("credit-api", "credit/1")
    change = mloop.serving.delete_deployment("credit-api", reason="retired")
    assert (change.action, change.reason, change.after) == ("delete", "retired", None)
    with pytest.raises(NotFound):
        mloop.serving.get_deployment("credit-api")
    assert [c.action for c in mloop.serving.deployment_history("credit-api")] == [
        "create",
        "delete",
    ]


def test_a_protected_alias_refuses_an_unapproved_canary(
    credit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=1)
    with pytest.raises(PermissionDenied, match=r"1 approval\(s\) \(has 0\).*--allow-canary"):
        mloop.serving.create_deployment(
            "credit-api", "credit@champion", canary="credit/2", canary_percent=5
        )
    mloop.serving.create_deployment("credit-api", "credit@champion", shadow="credit/2")
    with pytest.raises(PermissionDenied, match="may not serve traffic of protected alias"):
        mloop.serving.update_deployment("credit-api", canary="credit/2", canary_percent=5)
    register_versions(credit, "fraud", 1)
    with pytest.raises(PermissionDenied, match="must be a version of 'credit'"):
        mloop.serving.update_deployment("credit-api", canary="fraud/1")
    monkeypatch.setenv("MLOOP_USER", "bo")
    mloop.models.approve("credit", 2)
    assert mloop.serving.update_deployment("credit-api", canary="credit/2").canary == "credit/2"


def test_a_protection_that_allows_canaries_still_guards_the_promotion(credit: Path) -> None:
    mloop.models.protect_alias("credit", "champion", approvals=1, allow_canary=True)
    made = mloop.serving.create_deployment(
        "credit-api", "credit@champion", canary="credit/2", canary_percent=5
    )
    assert made.canary == "credit/2"
    with pytest.raises(PermissionDenied, match="may not become credit@champion"):
        mloop.serving.promote("credit-api")
    assert mloop.serving.get_deployment("credit-api") == made
    assert mloop.models.get_version("credit@champion").version == 1


def test_projects_keep_their_own_deployments(credit: Path) -> None:
    mloop.serving.create_deployment("credit-api", "credit/1")
    mloop.set_project("other")
    assert mloop.serving.list_deployments() == []
    with pytest.raises(NotFound, match="'credit'"):  # the model lives in project default
        mloop.serving.create_deployment("credit-api", "credit/1")


def test_rollback_plan_undoes_rollbacks_and_starts_over_after_a_delete() -> None:
    def change(action: str, primary: str | None) -> DeploymentChange:
        after = None if primary is None else {"primary": primary}
        return DeploymentChange("d", 0, action, None, after, "a", "", 0)

    made = [change("create", "m/1"), change("set", "m/2"), change("set", "m/3")]
    assert rollback_plan(made)[0] == {"primary": "m/2"}
    assert rollback_plan([*made, change("rollback", "m/2")])[0] == {"primary": "m/1"}
    again = [*made, change("delete", None), change("create", "m/5")]
    assert rollback_plan(again) == (None, None)


def test_importing_the_serving_package_loads_no_web_framework() -> None:
    code = (
        "import sys, mloop.serving; mloop.serving.create_deployment; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_promotion_raced_by_another_change_says_the_alias_moved(
    credit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mloop.serving import deployments

    mloop.serving.create_deployment("credit-api", "credit@champion", canary="credit/2")
    real_set_alias = deployments.set_alias

    def set_alias_then_someone_changes_the_deployment(*args: Any, **kwargs: Any) -> Any:
        change = real_set_alias(*args, **kwargs)
        store = backend().stores.deployments  # another writer, straight to the store
        seen = store.get_deployment("credit-api")
        store.update_deployment(
            dataclasses.replace(seen, shadow="credit/3"), expected_revision=1, actor="cy"
        )
        return change

    monkeypatch.setattr(deployments, "set_alias", set_alias_then_someone_changes_the_deployment)
    with pytest.raises(Conflict, match="credit@champion moved from version 1 to 2, but"):
        mloop.serving.promote("credit-api")
    assert mloop.serving.get_deployment("credit-api").canary == "credit/2"


def test_promoting_drops_a_shadow_that_would_copy_to_the_new_primary(credit: Path) -> None:
    mloop.serving.create_deployment(
        "credit-api", "credit@champion", canary="credit@challenger", shadow="credit/2"
    )
    promoted = mloop.serving.promote("credit-api", reason="won")
    assert promoted.shadow is None
    assert "the shadow credit/2 serves the promoted version" in (
        mloop.serving.deployment_history("credit-api")[-1].reason
    )
    # The deployment stays changeable: an unrelated change goes through.
    changed = mloop.serving.update_deployment("credit-api", sticky_header="x-user")
    assert changed.sticky_header == "x-user"


def test_an_alias_moved_under_a_canary_does_not_block_unrelated_changes(credit: Path) -> None:
    mloop.serving.create_deployment("credit-api", "credit@champion", canary="credit@challenger")
    mloop.models.set_alias("credit", "champion", 2)  # now the canary serves the primary's version
    assert mloop.serving.update_deployment("credit-api", sticky_header="x-user").sticky_header
    with pytest.raises(InvalidInput, match="as the primary"):
        mloop.serving.update_deployment("credit-api", canary="credit@challenger")


def test_a_version_or_model_a_deployment_serves_cannot_be_deleted(credit: Path) -> None:
    mloop.serving.create_deployment("credit-api", "credit@champion", shadow="credit/3")
    with pytest.raises(Conflict, match=r"credit/3 is served by deployment\(s\) credit-api "
                       r"\(shadow credit/3\)"):  # fmt: skip
        mloop.models.delete_version("credit", 3)
    mloop.models.delete_alias("credit", "champion")
    mloop.models.delete_alias("credit", "challenger")
    with pytest.raises(Conflict, match="model 'credit' is served by deployment"):
        mloop.models.delete_model("credit")
    mloop.serving.delete_deployment("credit-api")
    mloop.models.delete_version("credit", 3)  # nothing serves it now
