"""Every variable mloop reads is a setting, documented in one table; none is written at run time."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from mloop.config import (
    ENVIRONMENT_VARIABLES,
    MLFLOW_VARIABLES,
    Settings,
    current_settings,
    forget_settings,
    load_settings,
)
from mloop.errors import InvalidInput

ROOT = Path(__file__).parents[1]
SOURCES = sorted((ROOT / "src" / "mloop").rglob("*.py"))


def _table_rows() -> dict[str, str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    rows = re.findall(r"^\| `(MLOOP_[A-Z_]+)` \| (.*) \|$", text, flags=re.MULTILINE)
    return dict(rows)


def test_the_table_in_the_docs_lists_every_setting_with_its_doc() -> None:
    rows = _table_rows()
    assert sorted(rows) == sorted(ENVIRONMENT_VARIABLES)
    for field in dataclasses.fields(Settings):
        assert field.metadata["doc"] in rows[field.metadata["env"]], field.name


def test_every_variable_named_in_the_code_is_a_setting() -> None:
    named = set()
    for path in SOURCES:
        named |= set(re.findall(r"\bMLOOP_[A-Z][A-Z_]*[A-Z]\b", path.read_text()))
    assert named <= set(ENVIRONMENT_VARIABLES), named - set(ENVIRONMENT_VARIABLES)


def test_only_the_settings_read_the_environment() -> None:
    readers = []
    for path in SOURCES:
        text = path.read_text()
        if path.name == "config.py":
            continue
        if re.search(r"os\.environ(?!\.copy\(\))|os\.getenv|putenv", text):
            readers.append(path.relative_to(ROOT).as_posix())
    # The CLI's table width is the terminal's business, not a setting.
    assert readers == ["src/mloop/cli/output.py"]


def test_a_secret_is_refused_in_pyproject_and_kept_out_of_repr(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mloop]\nsecret_key = "hunter2"\n')
    with pytest.raises(InvalidInput, match="MLOOP_SECRET_KEY") as caught:
        load_settings(environ={}, cwd=tmp_path)
    assert "hunter2" not in str(caught.value)
    settings = load_settings(environ={"MLOOP_SECRET_KEY": "hunter2"}, cwd="/")
    assert settings.secret_key == "hunter2"
    assert "hunter2" not in repr(settings)


def test_settings_are_read_once_per_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.mloop]\nproject = "first"\n')
    forget_settings()
    first = current_settings()
    assert first.project == "first"
    (tmp_path / "pyproject.toml").write_text('[tool.mloop]\nproject = "second"\n')
    assert current_settings() is first  # not parsed again
    monkeypatch.setenv("MLOOP_PROJECT", "third")
    assert current_settings().project == "third"  # a changed variable is seen at once
    forget_settings()
    monkeypatch.delenv("MLOOP_PROJECT")
    assert current_settings().project == "second"
    forget_settings()


@pytest.mark.parametrize("name", ["a b", "-x", "x" * 65, "ünï", "a/b", "."])
def test_bad_project_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="project name"):
        load_settings(environ={"MLOOP_PROJECT": name}, cwd="/")


def test_an_empty_project_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="project name"):
        Settings(project="")


def _mlflow_rows() -> dict[str, str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    rows = re.findall(r"^\| `(MLFLOW_[A-Z_]+)` \| `(MLOOP_[A-Z_]+)` \|", text, flags=re.MULTILINE)
    return dict(rows)


def test_the_docs_list_every_mlflow_variable_with_its_twin() -> None:
    assert _mlflow_rows() == MLFLOW_VARIABLES
    assert set(MLFLOW_VARIABLES.values()) <= set(ENVIRONMENT_VARIABLES)


def test_mlflow_variables_are_read_as_their_twins_and_mloop_wins(tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_URI": "sqlite:///m.db", "MLFLOW_EXPERIMENT_NAME": "exp"}
    settings = load_settings(environ=env, cwd="/")
    assert (settings.tracking_uri, settings.experiment_name) == ("sqlite:///m.db", "exp")
    both = {**env, "MLOOP_TRACKING_URI": "sqlite:///o.db", "MLOOP_EXPERIMENT_NAME": "own"}
    settings = load_settings(environ=both, cwd="/")
    assert (settings.tracking_uri, settings.experiment_name) == ("sqlite:///o.db", "own")
    (tmp_path / "pyproject.toml").write_text('[tool.mloop]\nexperiment_name = "file"\n')
    assert load_settings(environ=env, cwd=tmp_path).experiment_name == "exp"
    assert load_settings(environ={}, cwd=tmp_path).experiment_name == "file"
    # Credentials for an MLflow server are not an identity.
    assert load_settings(environ={"MLFLOW_TRACKING_USERNAME": "eve"}, cwd="/").user is None


def test_a_changed_mlflow_variable_is_seen_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOOP_EXPERIMENT_NAME", raising=False)
    forget_settings()
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "one")
    assert current_settings().experiment_name == "one"
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "two")
    assert current_settings().experiment_name == "two"
    forget_settings()
