from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.errors import InvalidInput, NotFound


def test_search_runs_dataframe(home: Path) -> None:
    mloop.set_experiment("search")
    for i in range(4):
        with mloop.start_run(run_name=f"r{i}"):
            mloop.log_params({"lr": f"0.{i}"})
            mloop.log_metric("auc", 0.5 + i / 10)
    df = mloop.search_runs(
        experiment_names=["search"],
        filter_string="metrics.auc > 0.55",
        order_by=["metrics.auc DESC"],
    )
    assert isinstance(df, pd.DataFrame)
    assert df["run_name"].tolist() == ["r3", "r2", "r1"]
    assert {"run_id", "status", "start_time", "end_time", "metrics.auc", "params.lr"} <= set(
        df.columns
    )
    assert str(df["start_time"].dtype).startswith("datetime64")
    runs = mloop.search_runs(output_format="list", max_results=2, order_by=["params.lr"])
    assert [r.info.run_name for r in runs] == ["r0", "r1"]
    with pytest.raises(NotFound):
        mloop.search_runs(experiment_names=["nope"])
    with pytest.raises(InvalidInput):
        mloop.search_runs(output_format="csv")  # type: ignore[call-overload]
