"""A run's name and parent as tags under MLflow's names, so searches and frames can name them."""

from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.errors import InvalidInput


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
