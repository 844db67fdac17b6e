"""A run's name and parent as tags under MLflow's names, so searches and frames can name them."""

from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.errors import InvalidInput, NotFound


def test_every_run_has_its_name_as_a_tag_and_children_their_parent(home: Path) -> None:
    with mloop.start_run(run_name="sweep") as parent:
        for alpha in ("0.1", "1.0"):
            with mloop.start_run(run_name=f"alpha-{alpha}", nested=True):
                mloop.log_param("alpha", alpha)
    children = mloop.search_runs(
        filter_string=f"tags.mloop.parentRunId = '{parent.info.run_id}'",
        order_by=["params.alpha"],
    )
    assert list(children["tags.mloop.runName"]) == ["alpha-0.1", "alpha-1.0"]
    assert set(children["tags.mloop.parentRunId"]) == {parent.info.run_id}
    assert mloop.get_run(parent.info.run_id).data.tags["mloop.runName"] == "sweep"
    named = mloop.search_runs(filter_string="tags.mloop.runName = 'sweep'", output_format="list")
    assert [run.info.run_id for run in named] == [parent.info.run_id]


def test_setting_the_name_tag_renames_the_run(home: Path) -> None:
    with mloop.start_run(run_name="draft") as run:
        mloop.set_tag("mloop.runName", "final")
    renamed = mloop.get_run(run.info.run_id)
    assert renamed.info.run_name == "final"
    assert renamed.data.tags["mloop.runName"] == "final"


def test_renaming_a_run_moves_its_name_tag(home: Path) -> None:
    with mloop.start_run(run_name="draft") as run:
        pass
    mloop.Client().update_run(run.info.run_id, name="kept")
    assert mloop.get_run(run.info.run_id).data.tags["mloop.runName"] == "kept"


def test_a_bad_name_by_tag_is_refused_and_the_name_stays(home: Path) -> None:
    with mloop.start_run(run_name="draft") as run, pytest.raises(InvalidInput):
        mloop.set_tag("mloop.runName", "x" * 1000)
    assert mloop.get_run(run.info.run_id).info.run_name == "draft"


@pytest.mark.parametrize("key", ["mlflow.parentRunId", "mloop.parentRunId"])
def test_a_parent_tag_given_to_create_run_sets_the_parent(home: Path, key: str) -> None:
    client = mloop.Client()
    experiment = mloop.set_experiment("tags").experiment_id
    parent = client.create_run(experiment, run_name="parent").info.run_id
    child = client.create_run(experiment, tags={key: parent, "team": "risk"})
    got = client.get_run(child.info.run_id)
    assert got.info.parent_run_id == parent
    assert got.data.tags["mloop.parentRunId"] == parent
    assert "mlflow.parentRunId" not in got.data.tags
    found = mloop.search_runs(filter_string=f"tags.mloop.parentRunId = '{parent}'")
    assert list(found["run_id"]) == [child.info.run_id]


def test_a_parent_given_twice_differently_or_missing_is_refused(home: Path) -> None:
    client = mloop.Client()
    experiment = mloop.set_experiment("tags").experiment_id
    first = client.create_run(experiment).info.run_id
    second = client.create_run(experiment).info.run_id
    same = client.create_run(experiment, tags={"mlflow.parentRunId": first}, parent_run_id=first)
    assert same.info.parent_run_id == first
    with pytest.raises(InvalidInput, match=r"parent.*given twice"):
        client.create_run(experiment, tags={"mlflow.parentRunId": first}, parent_run_id=second)
    with pytest.raises(InvalidInput, match="given twice"):
        client.create_run(
            experiment, tags={"mlflow.parentRunId": first, "mloop.parentRunId": second}
        )
    with pytest.raises(NotFound):
        client.create_run(experiment, tags={"mlflow.parentRunId": "no-such-run"})
