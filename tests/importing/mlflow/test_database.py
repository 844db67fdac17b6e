from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mloop.config import Settings
from mloop.context.context import Context
from mloop.context.opening import open_context
from mloop.errors import InvalidInput, NotFound, StoreError
from mloop.importing.mlflow import import_mlflow
from mloop.importing.mlflow.database import driver_url
from mloop.models import registry
from tests.importing.mlflow.checks import check_all
from tests.importing.mlflow.stores import MlflowStore, write_store


@pytest.fixture
def context(home: Path) -> Context:
    return open_context(
        Settings(tracking_uri=f"sqlite:///{home}/mloop.db", artifacts_uri=str(home / "a"))
    )


def test_an_sqlite_database_comes_over_whole_and_once(
    sqlite_store: MlflowStore, context: Context
) -> None:
    check_all(sqlite_store, context)


def test_into_postgresql(sqlite_store: MlflowStore, postgres_store: str, tmp_path: Path) -> None:
    context = open_context(Settings(tracking_uri=postgres_store, artifacts_uri=str(tmp_path / "a")))
    check_all(sqlite_store, context)


def test_a_postgresql_database_comes_over_whole_and_once(
    postgres_mlflow_store: MlflowStore, context: Context
) -> None:
    check_all(postgres_mlflow_store, context)


def test_a_path_to_the_database_file_works_too(sqlite_store: MlflowStore, context: Context) -> None:
    summary = import_mlflow(sqlite_store.source.removeprefix("sqlite:///"), context=context)
    assert summary.runs.brought == 3


def test_an_sqlite_file_that_is_not_mlflows_is_refused(tmp_path: Path, context: Context) -> None:
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")
    with pytest.raises(InvalidInput, match=r"not an MLflow tracking database.*experiments"):
        import_mlflow(f"sqlite:///{tmp_path}/other.db", context=context)


def test_an_unreachable_database_hides_its_password(context: Context) -> None:
    with pytest.raises(StoreError) as caught:
        import_mlflow("postgresql://mlflow:S3CRET-PW@127.0.0.1:1/mlflow", context=context)
    assert "S3CRET-PW" not in str(caught.value)
    assert "mlflow:***@127.0.0.1:1" in str(caught.value)


def test_postgresql_gets_the_driver_mloop_installs() -> None:
    assert driver_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert driver_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"


def test_runs_whose_artifact_folder_moved_are_left_out_until_it_is_back(
    mlflow_python: str, tmp_path: Path, context: Context
) -> None:
    root = tmp_path / "moved"
    root.mkdir()
    write_store(mlflow_python, root, f"sqlite:///{root}/mlflow.db")
    (root / "mlruns").rename(root / "elsewhere")
    first = import_mlflow(f"{root}/mlflow.db", context=context)
    assert first.runs.brought == 0
    reason = "run whose artifacts are missing"
    assert len(first.skipped[reason]) == 3
    assert "mlruns' does not exist" in first.details[(reason, first.skipped[reason][0])]
    assert (first.versions.brought, first.models.brought) == (0, 0)
    assert first.skipped["model none of whose versions could be brought"] == ["legacy", "scorer"]
    assert "version without an MLmodel file" not in first.skipped
    assert len(first.skipped["version files missing"]) == 3
    (root / "elsewhere").rename(root / "mlruns")
    again = import_mlflow(f"{root}/mlflow.db", context=context)
    assert (again.runs.brought, again.versions.brought) == (3, 3)
    assert again.artifact_files.brought >= 2


def test_a_second_stores_versions_come_as_new_versions(
    sqlite_store: MlflowStore, mlflow_python: str, tmp_path: Path, context: Context
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    ids = write_store(mlflow_python, other, f"sqlite:///{other}/mlflow.db")
    import_mlflow(sqlite_store.source, context=context)
    second = import_mlflow(f"{other}/mlflow.db", context=context)
    assert (second.versions.brought, second.versions.already) == (3, 0)
    assert (second.models.brought, second.models.already) == (0, 2)
    sources = [v.source for v in registry.list_versions("scorer", context=context)]
    assert sources[2:] == [f"mlflow:models:/scorer/{n}?run_id={ids['parent']}" for n in (1, 2)]
    again = import_mlflow(f"{other}/mlflow.db", context=context)
    assert (again.versions.brought, again.versions.already) == (0, 3)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, context: Context) -> None:
    (tmp_path / "junk.db").write_text("x\n")
    with pytest.raises(InvalidInput, match=r"junk\.db' is not an SQLite database"):
        import_mlflow(str(tmp_path / "junk.db"), context=context)


def test_a_missing_database_file_is_not_created(tmp_path: Path, context: Context) -> None:
    with pytest.raises(NotFound, match=r"no MLflow database at .*gone\.db"):
        import_mlflow(f"sqlite:///{tmp_path}/gone.db", context=context)
    assert not (tmp_path / "gone.db").exists()


def test_an_mloop_store_is_refused(home: Path, context: Context) -> None:
    mloop_db = home / "mloop.db"
    assert mloop_db.is_file()
    with pytest.raises(InvalidInput, match=r"is an mloop store, not an MLflow one"):
        import_mlflow(str(mloop_db), context=context)
