from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.errors import Conflict, InvalidInput


def test_set_experiment_rules(home: Path) -> None:
    exp = mloop.set_experiment("e1")
    assert mloop.set_experiment(experiment_id=exp.experiment_id).name == "e1"
    with pytest.raises(InvalidInput):
        mloop.set_experiment()
    with pytest.raises(InvalidInput):
        mloop.set_experiment("a", experiment_id="1")
    mloop.Client().delete_experiment(exp.experiment_id)
    with pytest.raises(Conflict, match="deleted"):
        mloop.set_experiment("e1")


def test_set_tracking_uri_accepts_a_folder(home: Path, tmp_path: Path) -> None:
    mloop.set_tracking_uri(tmp_path / "store")
    assert mloop.get_tracking_uri() == f"sqlite:///{tmp_path / 'store' / 'mloop.db'}"
    with mloop.start_run():
        mloop.log_metric("m", 1)
    assert (tmp_path / "store" / "mloop.db").exists()
