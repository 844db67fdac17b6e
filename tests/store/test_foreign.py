"""A store that is MLflow's (or another application's) is refused before a byte of it changes.

The stores MLflow itself writes are made by MLflow's own interpreter
(``MLOOP_TEST_MLFLOW_PYTHON``); without it those tests are skipped. Stores
built here with MLflow's markers (its revision, its tables, ``.trash``,
``0/meta.yaml``) test the same paths without MLflow.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

import mloop
from mloop.config import forget_settings
from mloop.errors import StoreError
from mloop.store.foreign import is_mlflow_folder, is_mloop_revision
from mloop.store.migrate import ensure_schema
from mloop.store.opening import open_store
from mloop.store.schema import HEAD_REVISION
from mloop.tracking.connection import disconnect_all
from tests.cli.conftest import run_mloop

MLFLOW_PYTHON_ENV = "MLOOP_TEST_MLFLOW_PYTHON"
MLFLOW_REVISION = "dc11669786a5"
MLFLOW_TABLES = ("experiments", "runs", "metrics", "params", "tags", "latest_metrics")

WRITE_WITH_MLFLOW = """
import sys
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
with mlflow.start_run():
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("rmse", 0.25)
mlflow.MlflowClient().create_registered_model("iris")
"""


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` (or the file itself), with each file's hash."""
    paths = [root] if root.is_file() else sorted(root.rglob("*"))
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        for path in paths
    }


def mlflow_like_database(path: Path, revision: str = MLFLOW_REVISION) -> Path:
    """An SQLite file with MLflow's tables and an Alembic revision, in rollback-journal mode."""
    connection = sqlite3.connect(path)
    for table in MLFLOW_TABLES:
        connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    connection.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    connection.commit()
    connection.close()
    return path


def mlflow_like_folder(root: Path) -> Path:
    """A folder laid out as MLflow's file store: ``.trash`` and the Default experiment."""
    (root / ".trash").mkdir(parents=True)
    (root / "0").mkdir()
    (root / "0" / "meta.yaml").write_text("experiment_id: '0'\nname: Default\n")
    return root


def test_mloop_revisions_are_four_digits() -> None:
    assert is_mloop_revision(HEAD_REVISION)
    assert is_mloop_revision("0001")
    assert not is_mloop_revision(MLFLOW_REVISION)
    assert not is_mloop_revision("")


def test_an_mlflow_database_is_refused_without_being_changed(tmp_path: Path) -> None:
    db = mlflow_like_database(tmp_path / "mlflow.db")
    before = snapshot(tmp_path)
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{db}")
    message = str(caught.value)
    assert "is an MLflow tracking database" in message
    assert f"mloop import mlflow sqlite:///{db}" in message
    assert "upgrade mloop" not in message
    assert snapshot(tmp_path) == before  # no WAL switch, no -wal or -shm file
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_another_applications_revision_is_not_called_a_newer_mloop(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('1a2b3c4d5e6f')")
    before = snapshot(tmp_path)
    with pytest.raises(StoreError, match="not an mloop store") as caught:
        open_store(f"sqlite:///{db}")
    assert "'1a2b3c4d5e6f', which is not an mloop revision" in str(caught.value)
    assert "upgrade mloop" not in str(caught.value)
    assert "MLflow" not in str(caught.value)
    assert snapshot(tmp_path) == before


def test_a_newer_mloop_revision_still_says_upgrade_mloop(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/future.db"
    engine, _ = open_store(uri)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(StoreError, match="which this mloop does not know; upgrade mloop"):
        open_store(uri)


def test_tables_without_a_revision_are_refused_before_the_file_is_written(
    tmp_path: Path,
) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE someone_elses (x INTEGER)")
    before = snapshot(tmp_path)
    with pytest.raises(StoreError, match="has tables but no mloop schema revision"):
        open_store(f"sqlite:///{db}")
    assert snapshot(tmp_path) == before


def test_an_mlflow_folder_is_refused_and_nothing_is_made_in_it(tmp_path: Path) -> None:
    folder = mlflow_like_folder(tmp_path / "mlruns")
    before = snapshot(folder)
    with pytest.raises(StoreError, match="is an MLflow file store") as caught:
        open_store(f"sqlite:///{folder}/mloop.db")
    assert f"mloop import mlflow {folder}`" in str(caught.value)
    assert snapshot(folder) == before


def test_an_mloop_store_made_inside_mlruns_earlier_is_told_how_to_move_out(
    tmp_path: Path,
) -> None:
    folder = mlflow_like_folder(tmp_path / "mlruns")
    (folder / "mloop.db").write_bytes(b"")
    with pytest.raises(StoreError, match="is an MLflow file store") as caught:
        open_store(f"sqlite:///{folder}/mloop.db")
    assert "move it, with the artifacts folder beside it, to a folder of its own" in str(
        caught.value
    )


@pytest.mark.parametrize("marker", [".trash", "0/meta.yaml"])
def test_either_marker_makes_an_mlflow_folder(tmp_path: Path, marker: str) -> None:
    assert not is_mlflow_folder(tmp_path)
    (tmp_path / marker).parent.mkdir(parents=True, exist_ok=True)
    if marker.endswith(".yaml"):
        (tmp_path / marker).write_text("name: Default\n")
    else:
        (tmp_path / marker).mkdir()
    assert is_mlflow_folder(tmp_path)


def test_an_mloop_store_folder_is_not_taken_for_mlflow(tmp_path: Path) -> None:
    (tmp_path / "models" / "credit").mkdir(parents=True)  # local model copies live here
    (tmp_path / "1").mkdir()  # a folder named by a number, without MLflow's meta.yaml
    engine, store_id = open_store(f"sqlite:///{tmp_path}/mloop.db")
    engine.dispose()
    assert len(store_id) == 32
    assert not is_mlflow_folder(tmp_path)


@pytest.mark.postgres
def test_an_mlflow_database_on_postgres_is_refused(postgres_store: str) -> None:
    admin = sa.create_engine(postgres_store)
    with admin.begin() as connection:
        for table in MLFLOW_TABLES:
            connection.exec_driver_sql(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{MLFLOW_REVISION}')")
    try:
        with pytest.raises(StoreError, match="is an MLflow tracking database") as caught:
            ensure_schema(admin)
        assert "mloop import mlflow postgresql" in str(caught.value)
        with admin.connect() as connection:
            names = sa.inspect(connection).get_table_names()
        assert "store_meta" not in names  # no mloop table was made beside MLflow's
    finally:
        admin.dispose()


def test_the_python_api_refuses_mlflow_tracking_uri_naming_mlflows_store(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = mlflow_like_folder(tmp_path / "mlruns")
    before = snapshot(folder)
    _use_mlflow_variable(monkeypatch, "file:./mlruns")
    with pytest.raises(StoreError, match="MLflow file store"):
        mloop.start_run()
    assert snapshot(folder) == before  # no mloop.db, no artifacts/


def _use_mlflow_variable(monkeypatch: pytest.MonkeyPatch, uri: str) -> None:
    # The artifact root left to its default, as a user who sets MLFLOW_TRACKING_URI alone has it.
    monkeypatch.delenv("MLOOP_TRACKING_URI")
    monkeypatch.delenv("MLOOP_ARTIFACTS_URI")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    disconnect_all()
    forget_settings()


# --- stores written by MLflow itself -------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    """MLflow's interpreter; the tests that need it are skipped when it is not given."""
    python = os.environ.get(MLFLOW_PYTHON_ENV)
    if not python:
        pytest.skip(f"{MLFLOW_PYTHON_ENV} is unset: set it to a Python with mlflow installed")
    return os.path.abspath(python)


def write_with_mlflow(python: str, cwd: Path, uri: str) -> None:
    """Let MLflow write a run and a registered model to ``uri``."""
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"}
    env.pop("PYTHONPATH", None)  # MLflow's interpreter, with its own packages only
    done = subprocess.run(
        [python, "-c", WRITE_WITH_MLFLOW, uri],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]


@pytest.fixture(scope="module")
def mlflow_files(mlflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``mlflow.db`` and ``mlruns/``, both written by MLflow."""
    root = tmp_path_factory.mktemp("written-by-mlflow")
    write_with_mlflow(mlflow_python, root, f"sqlite:///{root}/mlflow.db")
    write_with_mlflow(mlflow_python, root, (root / "mlruns").as_uri())
    assert (root / "mlruns" / "models" / "iris" / "meta.yaml").is_file()
    return root


def test_a_database_mlflow_wrote_is_left_as_it_was(
    mlflow_files: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(mlflow_files)
    _use_mlflow_variable(monkeypatch, f"sqlite:///{mlflow_files}/mlflow.db")
    with pytest.raises(StoreError, match="is an MLflow tracking database"):
        mloop.search_runs()
    with pytest.raises(StoreError, match="is an MLflow tracking database"):
        mloop.start_run()
    assert snapshot(mlflow_files) == before


def test_an_mlruns_folder_mlflow_wrote_is_left_as_it_was(
    mlflow_files: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(mlflow_files)
    _use_mlflow_variable(monkeypatch, (mlflow_files / "mlruns").as_uri())
    with pytest.raises(StoreError, match="is an MLflow file store"):
        mloop.start_run()
    assert snapshot(mlflow_files) == before


@pytest.mark.parametrize(
    ("uri", "said"),
    [("sqlite:///mlflow.db", "MLflow tracking database"), ("file:./mlruns", "MLflow file store")],
)
def test_the_command_line_refuses_mlflows_stores(
    mlflow_files: Path, uri: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(mlflow_files)
    env = {"MLFLOW_TRACKING_URI": uri, "MLOOP_TRACKING_URI": "", "MLOOP_ARTIFACTS_URI": ""}
    monkeypatch.chdir(mlflow_files)  # the relative URIs are the user's, from the store's folder
    done = run_mloop("runs", "ls", env=env)
    assert done.returncode == StoreError.exit_code, done.stderr
    assert said in done.stderr and "mloop import mlflow" in done.stderr
    assert "Traceback" not in done.stderr
    imported = run_mloop("import", "mlflow", uri, env=env)  # into the same store: refused
    assert imported.returncode == StoreError.exit_code, imported.stderr
    assert said in imported.stderr
    assert snapshot(mlflow_files) == before


def test_the_import_the_refusal_suggests_works(mlflow_files: Path, tmp_path: Path) -> None:
    source = f"sqlite:///{mlflow_files}/mlflow.db"
    before = snapshot(mlflow_files)
    env = {"MLFLOW_TRACKING_URI": source, "MLOOP_TRACKING_URI": str(tmp_path / "store")}
    done = run_mloop("import", "mlflow", source, env=env)
    assert done.returncode == 0, done.stderr
    listed = run_mloop("runs", "ls", env=env)
    assert listed.returncode == 0, listed.stderr
    assert snapshot(mlflow_files) == before
