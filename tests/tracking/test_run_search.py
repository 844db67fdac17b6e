from __future__ import annotations

import mloop
from mloop.entities import ViewType


def test_search_runs_pages_by_experiment_id(client: mloop.Client) -> None:
    exp = client.create_experiment("paged")
    for i in range(3):
        run_id = client.create_run(exp, run_name=f"r{i}").info.run_id
        client.log_metric(run_id, "loss", float(i))
    first = client.search_runs(exp, "metrics.loss < 2", max_results=1, order_by=["metrics.loss"])
    assert [r.info.run_name for r in first] == ["r0"]
    assert first.token is not None
    second = client.search_runs(
        [exp], "metrics.loss < 2", page_token=first.token, max_results=1, order_by=["metrics.loss"]
    )
    assert [r.info.run_name for r in second] == ["r1"]


def test_mlflows_experiment_zero_is_default(client: mloop.Client) -> None:
    run_id = client.create_run("0", run_name="in-default").info.run_id
    found = client.search_runs("0", run_view_type=ViewType.ALL)
    assert [r.info.run_id for r in found] == [run_id]
    table = client.search_run_table(["0"])
    assert table.run_name == ["in-default"]
