"""Projects through the public API: the same names in two projects, chosen three ways."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.errors import InvalidInput, NotFound


def _fill_project(folder: Path, rows: str) -> str:
    """An experiment, a dataset and a model named credit in the current project."""
    mloop.set_experiment("credit")
    folder.mkdir(exist_ok=True)
    (folder / "train.csv").write_text(rows)
    with mloop.start_run() as run:
        mloop.log_param("project", mloop.get_project())
        mloop.data.add(folder, name="credit")
        model = LogisticRegression().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
        mloop.models.log_model(model, "model", registered_model_name="credit")
    return run.info.run_id


def test_two_projects_hold_an_experiment_a_dataset_and_a_model_of_the_same_name(
    home: Path, tmp_path: Path
) -> None:
    first = _fill_project(tmp_path / "a", "x,y\n0,0\n")
    mloop.set_project("fraud")
    second = _fill_project(tmp_path / "b", "x,y\n1,1\n2,0\n")

    assert mloop.get_run(second).data.params["project"] == "fraud"
    assert (mloop.data.get("credit").path / "train.csv").read_text() == "x,y\n1,1\n2,0\n"
    assert mloop.models.get_version("credit/1").run_id == second
    assert [m.name for m in mloop.models.list_models()] == ["credit"]
    runs = mloop.search_runs(experiment_names=["credit"], output_format="list")
    assert [r.info.run_id for r in runs] == [second]

    mloop.set_project(None)  # back to default
    assert mloop.get_project() == "default"
    assert (mloop.data.get("credit@1").path / "train.csv").read_text() == "x,y\n0,0\n"
    assert mloop.models.get_version("credit/1").run_id == first
    runs = mloop.search_runs(experiment_names=["credit"], output_format="list")
    assert [r.info.run_id for r in runs] == [first]
    # Lineage crosses projects by id.
    assert mloop.get_run(second).data.params["project"] == "fraud"


def test_the_project_comes_from_the_environment(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_PROJECT", "churn")
    assert mloop.get_project() == "churn"
    _fill_project(tmp_path / "a", "x,y\n0,0\n")
    monkeypatch.delenv("MLOOP_PROJECT")
    with pytest.raises(NotFound, match="not found"):
        mloop.data.get("credit")
    assert mloop.models.list_models() == []
    mloop.set_project("churn")
    assert mloop.data.get("credit").version == 1


def test_the_project_comes_from_pyproject(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mloop]\nproject = "vision"\n')
    assert mloop.get_project() == "vision"


@pytest.mark.parametrize("name", ["has space", "", "a/b", "x" * 65])
def test_a_bad_project_name_is_refused_before_anything_is_written(home: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="project name"):
        mloop.set_project(name)
    assert mloop.get_project() == "default"
    assert not (home / "mloop.db").exists()


def test_an_experiment_set_in_one_project_is_not_used_in_another(home: Path) -> None:
    mloop.set_experiment("credit")
    mloop.set_project("fraud")
    with mloop.start_run() as run:
        pass
    experiment = mloop.Client().get_experiment(run.info.experiment_id)
    assert experiment.name == "Default"
    assert mloop.Client().get_experiment_by_name("credit") is None
