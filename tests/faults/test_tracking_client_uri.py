"""Item 10: a Client built without a URI follows mloop.set_tracking_uri, as MLflow's does."""

from __future__ import annotations

from pathlib import Path

import mloop
from mloop.tracking.client import Client


def test_client_without_uri_follows_set_tracking_uri(home: Path, tmp_path: Path) -> None:
    mloop.set_tracking_uri(tmp_path / "elsewhere")
    with mloop.start_run() as run:
        mloop.log_metric("loss", 0.5, step=1)
    client = Client()
    assert client.tracking_uri == mloop.get_tracking_uri()
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.value, m.step) for m in history] == [(0.5, 1)]


def test_explicit_uri_still_wins(home: Path, tmp_path: Path) -> None:
    mloop.set_tracking_uri(tmp_path / "elsewhere")
    uri = f"sqlite:///{tmp_path}/other.db"
    assert Client(tracking_uri=uri).tracking_uri == uri


def test_without_set_tracking_uri_the_settings_decide(home: Path) -> None:
    assert Client().tracking_uri == f"sqlite:///{home}/mloop.db"
