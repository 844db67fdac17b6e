"""A search that matches nothing because the filter names a field no run has says so."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import mloop
from mloop.errors import MloopWarning


def _runs() -> None:
    mloop.set_experiment("hints")
    for auc in (0.4, 0.6):
        with mloop.start_run():
            mloop.log_metric("val_auc", auc)
            mloop.log_param("lr", "0.1")


def test_misspelt_metric_warns_with_close_matches(home: Path) -> None:
    _runs()
    with pytest.warns(MloopWarning, match=r"metrics\.val_aucc.*did you mean metrics\.val_auc\?"):
        found = mloop.search_runs(
            experiment_names=["hints"], filter_string="metrics.val_aucc > 0.5"
        )
    assert found.empty


def test_client_warns_at_the_callers_line(home: Path) -> None:
    _runs()
    client = mloop.Client()
    exp = client.get_experiment_by_name("hints")
    assert exp is not None
    with pytest.warns(MloopWarning, match="params.learning_rate") as caught:
        client.search_runs([exp.experiment_id], "params.learning_rate = '0.1'")
    assert caught[0].filename == __file__


def test_client_table_search_warns_at_the_callers_line(home: Path) -> None:
    _runs()
    client = mloop.Client()
    exp = client.get_experiment_by_name("hints")
    assert exp is not None
    with pytest.warns(MloopWarning, match=r"did you mean metrics\.val_auc\?") as caught:
        table = client.search_run_table(exp.experiment_id, "metrics.val_aucc > 0.5")
    assert caught[0].filename == __file__
    assert len(table) == 0


def test_no_warning_when_the_field_exists_or_nothing_is_filtered(home: Path) -> None:
    _runs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mloop.search_runs(filter_string="metrics.val_auc > 0.9").empty
        assert len(mloop.search_runs(filter_string="metrics.val_auc > 0.5")) == 1
        assert len(mloop.search_runs()) == 2
