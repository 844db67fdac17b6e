"""MlflowClient's registry methods: mloop's registry and governance, in the client's project."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.config import current_settings
from mloop.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from mloop.models.client import MlflowClient
from mloop.models.package import MANIFEST
from tests.models.conftest import FEATURES, fit_classifier


def _logged(credit: pd.DataFrame, c: float = 1.0) -> str:
    """The run id of a run that logged a classifier under ``model``."""
    with mloop.start_run() as run:
        mloop.models.log_model(
            fit_classifier(credit, c), "model", input_example=credit[FEATURES][:2]
        )
    return run.info.run_id


def test_mloop_mlflow_client_is_the_tracking_client_plus_the_registry(home: Path) -> None:
    assert mloop.MlflowClient is MlflowClient
    assert issubclass(MlflowClient, mloop.Client)
    assert not hasattr(mloop.Client, "create_registered_model")


def test_registered_models_are_created_tagged_searched_and_deleted(home: Path) -> None:
    client = MlflowClient()
    model = client.create_registered_model("credit", tags={"team": "risk"}, description="d")
    assert (model.name, model.description, dict(model.tags)) == ("credit", "d", {"team": "risk"})
    assert model.owner == current_settings().resolved_user()
    with pytest.raises(AlreadyExists):
        client.create_registered_model("credit")
    client.create_registered_model("churn")
    client.set_registered_model_tag("churn", "team", "growth")
    names = lambda **kw: [m.name for m in client.search_registered_models(**kw)]  # noqa: E731
    assert names() == ["churn", "credit"]
    assert names(filter_string="name LIKE 'cr%'") == ["credit"]
    assert names(filter_string="tags.team = 'growth'") == ["churn"]
    assert names(order_by=["name DESC"], max_results=1) == ["credit"]
    assert names(order_by=["creation_timestamp DESC"]) == ["churn", "credit"]
    with pytest.raises(InvalidInput, match="one page"):
        client.search_registered_models(page_token="abc")
    client.delete_registered_model("churn")
    with pytest.raises(NotFound):
        client.get_registered_model("churn")


def test_versions_aliases_and_latest_through_the_registry(home: Path, credit: pd.DataFrame) -> None:
    client = MlflowClient()
    first = _logged(credit)
    run_uri = f"{client.get_run(first).info.artifact_uri}/model"  # as MLflow's scripts write it
    v1 = client.create_model_version("credit", run_uri, run_id=first)
    v2 = mloop.register_model(f"runs:/{_logged(credit, 0.5)}/model", "credit")
    assert (v1.version, v1.run_id, v2.version) == (1, first, 2)
    assert client.get_model_version("credit", "2").digest == v2.digest

    client.set_registered_model_alias("credit", "champion", "1")
    assert client.get_model_version_by_alias("credit", "champion").version == 1
    assert client.get_registered_model("credit").aliases == {"champion": 1}
    assert [c.actor for c in mloop.models.alias_history("credit", "champion")] == [
        current_settings().resolved_user()
    ]
    client.delete_registered_model_alias("credit", "champion")
    with pytest.raises(NotFound):
        client.get_model_version_by_alias("credit", "champion")

    assert [v.version for v in client.get_latest_versions("credit")] == [2]
    assert [v.version for v in client.get_latest_versions("credit", stages=["None"])] == [2]
    with pytest.raises(InvalidInput, match=r"no model stages.*\(asked for Production\)"):
        client.get_latest_versions("credit", stages=["Production"])
    client.create_registered_model("empty")
    assert client.get_latest_versions("empty") == []

    versions = client.search_model_versions(f"run_id = '{first}'")
    assert [(v.name, v.version) for v in versions] == [("credit", 1)]
    assert [v.version for v in client.search_model_versions("name = 'credit'")] == [2, 1]
    assert [v.version for v in client.search_model_versions(order_by=["version DESC"])] == [2, 1]
    with pytest.raises(InvalidInput, match="version number"):
        client.set_registered_model_alias("credit", "champion", "two")
    with pytest.raises(InvalidInput, match="no tags"):
        mloop.register_model(run_uri, "credit", tags={"a": "b"})
    mloop.models.archive("credit", 1)
    with pytest.raises(Conflict, match="archived"):  # the registry's rules hold here too
        client.set_registered_model_alias("credit", "challenger", 1)


def test_an_alias_move_stays_governed(
    home: Path, credit: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = MlflowClient()
    client.create_model_version("credit", f"runs:/{_logged(credit)}/model")
    mloop.models.protect_alias("credit", "champion", approvals=1)
    with pytest.raises(PermissionDenied, match="1 approval"):
        client.set_registered_model_alias("credit", "champion", 1)
    assert client.get_registered_model("credit").aliases == {}
    monkeypatch.setenv("MLOOP_USER", "reviewer")
    mloop.models.approve("credit", 1)
    MlflowClient().set_registered_model_alias("credit", "champion", 1)
    assert client.get_model_version_by_alias("credit", "champion").version == 1


def test_the_registry_is_the_clients_project(home: Path, credit: pd.DataFrame) -> None:
    other = MlflowClient(settings=dataclasses.replace(current_settings(), project="fraud"))
    assert other.project == "fraud"
    other.create_registered_model("detector")
    assert [m.name for m in other.search_registered_models()] == ["detector"]
    assert len(MlflowClient().search_registered_models()) == 0
    with pytest.raises(NotFound):
        MlflowClient().get_registered_model("detector")


def test_mlflow_import_paths_reach_the_client_and_the_root_error(home: Path) -> None:
    from mloop.exceptions import MlflowException
    from mloop.tracking import MlflowClient as FromTracking

    assert FromTracking is MlflowClient
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        mloop.tracking.NoSuchName  # noqa: B018
    with pytest.raises(MlflowException) as caught:
        MlflowClient().get_registered_model("missing")
    assert caught.value.code == "RESOURCE_DOES_NOT_EXIST"


def test_latest_versions_aliases_as_a_list_and_newest_first(
    home: Path, credit: pd.DataFrame
) -> None:
    client = MlflowClient()
    client.create_registered_model("empty")
    assert client.get_registered_model("empty").latest_versions == ()
    for c in (1.0, 0.5):
        client.create_model_version("credit", f"runs:/{_logged(credit, c)}/model")
    client.set_registered_model_alias("credit", "champion", 2)
    model = client.get_registered_model("credit")
    assert [(v.version, v.aliases) for v in model.latest_versions] == [(2, ["champion"])]
    by_search = {m.name: m for m in client.search_registered_models()}
    assert [v.version for v in by_search["credit"].latest_versions] == [2]
    assert client.get_model_version("credit", 2).aliases == ["champion"]
    assert [(v.name, v.version) for v in client.search_model_versions()] == [
        ("credit", 2),
        ("credit", 1),
    ]
    oldest = client.search_model_versions(order_by=["version_number ASC"])
    assert [v.version for v in oldest] == [1, 2]


def test_descriptions_deletes_and_download_uri(home: Path, credit: pd.DataFrame) -> None:
    client = MlflowClient()
    client.create_model_version("credit", f"runs:/{_logged(credit)}/model", description="first")
    client.create_model_version("credit", f"runs:/{_logged(credit, 0.5)}/model")
    assert client.update_registered_model("credit", "scores loans").description == "scores loans"
    assert client.update_registered_model("credit").description == "scores loans"
    assert client.update_model_version("credit", "1").description == "first"
    assert client.update_model_version("credit", 1, description="first").version == 1
    with pytest.raises(InvalidInput, match=r"immutable record.*update_registered_model"):
        client.update_model_version("credit", 1, description="other")

    folder = Path(client.get_model_version_download_uri("credit", "1"))
    assert (folder / MANIFEST).is_file()
    assert mloop.models.load(str(folder)).predict(credit[FEATURES][:3]).shape == (3,)

    client.set_registered_model_alias("credit", "champion", 1)
    with pytest.raises(Conflict, match="alias"):
        client.delete_model_version("credit", 1)
    client.delete_model_version("credit", "2")
    with pytest.raises(NotFound):
        client.get_model_version("credit", 2)
    assert [v.version for v in client.search_model_versions("name = 'credit'")] == [1]


def test_copy_model_version_registers_the_same_package_under_another_name(
    home: Path, credit: pd.DataFrame
) -> None:
    client = MlflowClient()
    run_id = _logged(credit)
    source = client.create_model_version("credit", f"runs:/{run_id}/model", description="d")
    client.set_registered_model_alias("credit", "champion", 1)
    copied = client.copy_model_version("models:/credit@champion", "credit-eu")
    assert (copied.name, copied.version, copied.digest) == ("credit-eu", 1, source.digest)
    assert (copied.run_id, copied.source, copied.description) == (run_id, "models:/credit/1", "d")
    with pytest.raises(InvalidInput, match="models:/NAME/N"):
        client.copy_model_version(f"runs:/{run_id}/model", "credit-eu")
    with pytest.raises(NotFound):
        client.copy_model_version("models:/credit/9", "credit-eu")


def test_stages_version_tags_and_renames_are_refused_with_what_to_use(
    home: Path, credit: pd.DataFrame
) -> None:
    client = MlflowClient()
    client.create_model_version("credit", f"runs:/{_logged(credit)}/model")
    with pytest.raises(InvalidInput, match=r"set_registered_model_alias.*'production'"):
        client.transition_model_version_stage("credit", 1, "Production")
    with pytest.raises(InvalidInput, match="set_registered_model_tag"):
        client.set_model_version_tag("credit", 1, "k", "v")
    with pytest.raises(InvalidInput, match=r"copy_model_version\('models:/credit/N', 'loans'\)"):
        client.rename_registered_model("credit", "loans")
    assert client.get_registered_model("credit").name == "credit"


def test_registry_edits_of_missing_models_and_versions_say_so(
    home: Path, credit: pd.DataFrame
) -> None:
    client = MlflowClient()
    with pytest.raises(NotFound):
        client.update_registered_model("missing", "d")
    client.create_model_version("credit", f"runs:/{_logged(credit)}/model")
    with pytest.raises(NotFound):
        client.get_model_version_download_uri("credit", 9)
    with pytest.raises(NotFound):
        client.delete_model_version("credit", 9)
    with pytest.raises(InvalidInput, match="version number"):
        client.delete_model_version("credit", "first")
    with pytest.raises(NotFound):
        client.update_model_version("credit", 9, description="d")
    assert [v.version for v in client.search_model_versions()] == [1]
