"""The registry writer's choices, on registry folders laid out as MLflow's file store writes them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import skops.io as sio
import yaml
from sklearn.linear_model import LogisticRegression

from mloop.config import Settings
from mloop.context.context import Context
from mloop.context.opening import open_context
from mloop.errors import NotFound
from mloop.importing.mlflow import import_mlflow
from mloop.importing.mlflow.registry import version_source
from mloop.importing.mlflow.runs import RUN_ID_TAG
from mloop.models import api, registry
from mloop.models.api import load
from mloop.models.flavors.mlflow_folder import MlflowModelFolder
from mloop.models.package import PackageSpec, write_package
from mloop.tracking.client import Client

X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
Y = [0, 1, 0, 1]


@pytest.fixture
def context(home: Path) -> Context:
    return open_context(
        Settings(tracking_uri=f"sqlite:///{home}/mloop.db", artifacts_uri=str(home / "a"))
    )


def model_files(folder: Path, with_mlmodel: bool = True) -> Path:
    """A model folder as MLflow's sklearn flavor writes it (skops)."""
    folder.mkdir(parents=True)
    sio.dump(LogisticRegression().fit(X, Y), folder / "model.skops")
    if with_mlmodel:
        flavor = {"pickled_model": "model.skops", "serialization_format": "skops"}
        (folder / "MLmodel").write_text(yaml.safe_dump({"flavors": {"sklearn": flavor}}))
    return folder


def registered(
    root: Path, name: str, versions: dict[int, dict[str, object]], **meta: object
) -> None:
    """``models/<name>/`` with ``meta.yaml`` and a ``version-<n>/meta.yaml`` per version."""
    folder = root / "models" / name
    folder.mkdir(parents=True)
    (folder / "meta.yaml").write_text(yaml.safe_dump({"name": name, **meta}))
    for number, fields in versions.items():
        (folder / f"version-{number}").mkdir()
        document = {"name": name, "version": number, "status": "READY", **fields}
        (folder / f"version-{number}" / "meta.yaml").write_text(yaml.safe_dump(document))


def test_numbers_with_gaps_go_on_and_odd_versions_are_left_out(
    tmp_path: Path, context: Context
) -> None:
    mlruns = tmp_path / "mlruns"
    files = model_files(tmp_path / "files")
    bare = model_files(tmp_path / "bare", with_mlmodel=False)
    registered(
        mlruns,
        "scorer",
        {
            2: {"storage_location": files.as_uri(), "current_stage": "Production"},
            3: {"storage_location": str(files)},
            4: {"storage_location": str(bare)},
            5: {"storage_location": str(files), "status": "PENDING_REGISTRATION"},
            6: {"storage_location": "s3://bucket/model"},
        },
        aliases={"champion": 3, "old": 4},
    )
    registered(mlruns, "has space", {1: {"storage_location": str(files)}})
    summary = import_mlflow(str(mlruns), context=context)
    assert (summary.models.brought, summary.versions.brought, summary.aliases.brought) == (1, 2, 1)
    skipped = summary.skipped
    assert skipped["version without an MLmodel file"] == [version_source("scorer", 4)]
    assert skipped["version not ready (PENDING_REGISTRATION)"] == [version_source("scorer", 5)]
    assert skipped["version files unreadable"] == [version_source("scorer", 6)]
    assert (
        "s3: storage" in summary.details[("version files unreadable", version_source("scorer", 6))]
    )
    assert skipped["alias of a version not brought"] == ["scorer@old"]
    assert skipped["model mloop cannot store"] == ["has space"]
    versions = registry.list_versions("scorer", context=context)
    store = f"?store={mlruns.resolve()}"
    assert [(v.version, v.source) for v in versions] == [
        (1, version_source("scorer", 2) + store),
        (2, version_source("scorer", 3) + store),
    ]
    model = registry.get_model("scorer", context=context)
    assert model.tags["mloop.import.version.1.stage"] == "Production"
    assert registry.get_version("scorer@champion", context=context).version == 2
    assert list(load("models:/scorer@champion", context=context).predict(X)) == Y


def test_an_alias_moved_in_mloop_stays_where_it_is(tmp_path: Path, context: Context) -> None:
    mlruns = tmp_path / "mlruns"
    files = model_files(tmp_path / "files")
    versions = {1: {"storage_location": str(files)}, 2: {"storage_location": str(files)}}
    registered(mlruns, "scorer", versions, aliases={"champion": 2}, description="d")
    import_mlflow(str(mlruns), context=context)
    registry.set_alias("scorer", "champion", 1, context=context)
    again = import_mlflow(str(mlruns), context=context)
    assert (again.aliases.brought, again.aliases.already) == (0, 1)
    assert registry.get_version("scorer@champion", context=context).version == 1
    assert registry.get_model("scorer", context=context).description == "d"


def test_a_version_found_through_its_logged_model(tmp_path: Path, context: Context) -> None:
    mlruns = tmp_path / "mlruns"
    experiment = mlruns / "7"
    experiment.mkdir(parents=True)
    (experiment / "meta.yaml").write_text("experiment_id: '7'\nname: e\nlifecycle_stage: active\n")
    logged = experiment / "models" / "m-abc"
    model_files(logged / "artifacts")
    (logged / "meta.yaml").write_text(
        f"model_id: m-abc\nartifact_location: {(logged / 'artifacts').as_uri()}\n"
    )
    registered(mlruns, "scorer", {1: {"source": "models:/m-abc"}})
    summary = import_mlflow(str(mlruns), context=context)
    assert summary.versions.brought == 1
    assert list(load("models:/scorer/1", context=context).predict(X)) == Y


def test_a_version_an_older_import_recorded_without_its_store_is_known(
    tmp_path: Path, context: Context
) -> None:
    mlruns = tmp_path / "mlruns"
    files = model_files(tmp_path / "files")
    registered(mlruns, "scorer", {1: {"storage_location": str(files)}})
    import_mlflow(str(mlruns), context=context)
    package = tmp_path / "package"
    write_package(MlflowModelFolder(files, {}), package, PackageSpec(flavor="mlflow"))
    older = api.register(package, "scorer", source=version_source("scorer", 2), context=context)
    (mlruns / "models" / "scorer" / "version-2").mkdir()
    document = {"name": "scorer", "version": 2, "status": "READY", "storage_location": str(files)}
    (mlruns / "models" / "scorer" / "version-2" / "meta.yaml").write_text(yaml.safe_dump(document))
    again = import_mlflow(str(mlruns), context=context)
    assert (again.versions.brought, again.versions.already) == (0, 2)
    assert registry.get_version(f"scorer/{older.version}", context=context).version == 2
    elsewhere = tmp_path / "copy"
    shutil.copytree(mlruns, elsewhere)
    other = import_mlflow(str(elsewhere), context=context)
    assert (other.versions.brought, other.versions.already) == (2, 0)


def test_what_changed_in_mlflow_since_is_noted_and_left_as_it_is(
    tmp_path: Path, context: Context
) -> None:
    mlruns = tmp_path / "mlruns"
    files = model_files(tmp_path / "files")
    versions = {1: {"storage_location": str(files)}, 2: {"storage_location": str(files)}}
    registered(mlruns, "scorer", versions, aliases={"champion": 2}, description="first")
    (mlruns / "models" / "scorer" / "tags").mkdir()
    (mlruns / "models" / "scorer" / "tags" / "team").write_text("risk")
    first = import_mlflow(str(mlruns), context=context)
    assert first.notes == {}
    meta = {"name": "scorer", "aliases": {"champion": 1}, "description": "second"}
    (mlruns / "models" / "scorer" / "meta.yaml").write_text(yaml.safe_dump(meta))
    (mlruns / "models" / "scorer" / "tags" / "team").write_text("fraud")
    again = import_mlflow(str(mlruns), context=context)
    assert again.notes == {
        "alias that points to another version in MLflow, left where it is in mloop": [
            "scorer@champion (MLflow: 1, mloop: 2)"
        ],
        "model description that differs in MLflow, left as it is in mloop": ["scorer"],
        "model tag that differs in MLflow, left as it is in mloop": ["scorer: team"],
    }
    model = registry.get_model("scorer", context=context)
    assert (model.description, model.tags["team"], model.aliases["champion"]) == (
        "first",
        "risk",
        2,
    )


RUN_ARTIFACTS_MODEL = """
import json, os, sys, tempfile
import mlflow
from sklearn.linear_model import LogisticRegression
mlflow.set_tracking_uri(sys.argv[1])
X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
with mlflow.start_run() as run, tempfile.TemporaryDirectory() as tmp:
    for name in ("model", "plain"):
        model = LogisticRegression().fit(X, [0, 1, 0, 1])
        mlflow.sklearn.save_model(model, os.path.join(tmp, name), pip_requirements=["scikit-learn"])
        mlflow.log_artifacts(os.path.join(tmp, name), artifact_path=name)
mlflow.register_model(f"runs:/{run.info.run_id}/model", "from-artifacts")
print(json.dumps({"run": run.info.run_id}))
"""


def test_a_model_registered_from_run_artifacts_loads_by_its_run_uri(
    mlflow_python: str, tmp_path: Path, context: Context
) -> None:
    # MLflow 2's way: the model folder in the run's artifacts, registered from runs:/RUN/model
    # (MLflow 3 records that version's source as the folder's location).
    env = {**os.environ, "GIT_PYTHON_REFRESH": "quiet"}
    done = subprocess.run(
        [mlflow_python, "-c", RUN_ARTIFACTS_MODEL, f"sqlite:///{tmp_path}/mlflow.db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    mlflow_run = json.loads(done.stdout.strip().splitlines()[-1])["run"]
    import_mlflow(f"sqlite:///{tmp_path}/mlflow.db", context=context)
    run = Client(context=context).search_runs(
        [e.experiment_id for e in Client(context=context).search_experiments()],
        filter_string=f"tags.`{RUN_ID_TAG}` = '{mlflow_run}'",
    )[0]
    loaded = load(f"runs:/{run.info.run_id}/model", context=context)
    assert loaded.digest == registry.get_version("from-artifacts/1", context=context).digest
    assert list(loaded.predict(X)) == Y
    # Plain MLflow files in the run, never registered: no verified package, and a clear way out.
    with pytest.raises(NotFound, match=rf"MLflow run {mlflow_run}.*Register it in MLflow"):
        load(f"runs:/{run.info.run_id}/plain", context=context)
