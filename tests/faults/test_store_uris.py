"""Fault tests: tracking URIs that name no store are refused; folder forms hold a whole store.

Bad URIs once created folders named `file:./mlruns2`, `databricks` or `sqlite:` and
answered others with "unknown mloop.stores plugin".
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.config import load_settings, tracking_uri_from
from mloop.errors import InvalidInput
from mloop.tracking.connection import disconnect_all
from tests.cli.conftest import invoke

REFUSED = [
    "databricks",
    "databricks://profile",
    "databricks-uc",
    "http://localhost:5000",
    "https://user:S3CRET@mlflow.example.com",
    "sqlite:",
    "sqlite:mloop.db",
    "mysql://root@localhost/db",
    "mlflow-artifacts:/x",
]


def test_a_keyword_connection_string_is_refused_without_echoing_it(
    home: Path, tmp_path: Path
) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidInput, match="postgresql://USER:PASSWORD@HOST") as caught:
        mloop.set_tracking_uri("host=127.0.0.1 port=1 password=S3CRET")
    assert "S3CRET" not in str(caught.value)
    code, _, err = invoke("runs", "ls", env={"MLOOP_TRACKING_URI": "dbname=x password=S3CRET"})
    assert code == 2 and "S3CRET" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("uri", REFUSED)
def test_uris_that_name_no_store_are_refused(uri: str, home: Path, tmp_path: Path) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidInput) as caught:
        mloop.set_tracking_uri(uri)
        mloop.search_runs()
    message = str(caught.value)
    assert "sqlite:///path/to/mloop.db" in message and "postgresql://" in message  # what works
    assert "file:./mlruns" in message
    assert "plugin" not in message and "S3CRET" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no folder made of it
    disconnect_all()


@pytest.mark.parametrize("uri", REFUSED[:6])
def test_the_cli_refuses_them_too(uri: str, home: Path, tmp_path: Path) -> None:
    for args in (["--tracking-uri", uri, "runs", "ls"], ["--tracking-uri", uri, "data", "ls"]):
        code, _, err = invoke(*args)
        assert code == InvalidInput.exit_code, err
        assert "sqlite:///path/to/mloop.db" in err.replace("\n", "")
    assert not (tmp_path / "databricks").exists() and not (tmp_path / "sqlite:").exists()


@pytest.mark.parametrize("form", ["file:{rel}", "file://{rel}", "{rel}", "file:{abs}", "{abs}"])
def test_folder_forms_name_a_folder_holding_the_store(
    form: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOOP_ARTIFACTS_URI")
    folder = tmp_path / "mlruns2"
    uri = form.format(rel="./mlruns2", abs=folder)
    mloop.set_tracking_uri(uri)
    assert mloop.get_tracking_uri() == f"sqlite:///{folder}/mloop.db"
    with mloop.start_run():
        mloop.log_text("hello", "notes.txt")
    assert (folder / "mloop.db").is_file()
    assert any((folder / "artifacts" / "objects").iterdir())  # the artifacts live there too
    assert not (tmp_path / "file:.").exists() and not (tmp_path / "file:").exists()
    disconnect_all()


def test_the_environment_variable_takes_the_same_forms(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOOP_ARTIFACTS_URI")
    monkeypatch.setenv("MLOOP_TRACKING_URI", "file:./team-store")
    settings = load_settings()
    assert settings.resolved_tracking_uri() == f"sqlite:///{tmp_path}/team-store/mloop.db"
    assert settings.resolved_artifacts_uri() == str(tmp_path / "team-store" / "artifacts")
    code, _, err = invoke("data", "ls")
    assert code == 3 and f"{tmp_path}/team-store/mloop.db" in err.replace("\n", "")


def test_a_relative_folder_in_pyproject_is_relative_to_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.mloop]\ntracking-uri = "file:./runs"\n')
    settings = load_settings(environ={}, cwd=project / "notebooks")
    assert settings.resolved_tracking_uri() == f"sqlite:///{project}/runs/mloop.db"


def test_database_urls_pass_through() -> None:
    for uri in ("sqlite:////tmp/x.db", "sqlite://", "postgresql://u@h/db"):
        assert tracking_uri_from(uri) == uri


def test_two_sqlite_stores_in_one_folder_keep_their_own_artifacts(tmp_path: Path) -> None:
    uris = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    clients = [mloop.Client(tracking_uri=uri) for uri in uris]
    for client in clients:
        run = client.create_run(client.create_experiment("e"))
        client.log_text(run.info.run_id, "x", "x.txt")
    assert [c.settings.resolved_artifacts_uri() for c in clients] == [
        str(tmp_path / "a-artifacts"),
        str(tmp_path / "b-artifacts"),
    ]
