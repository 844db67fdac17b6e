"""README: Tracking."""

import pandas as pd

import mloop

mloop.set_experiment("credit")
with mloop.start_run(run_name="baseline") as run:
    mloop.log_params({"lr": 0.1, "depth": 6})
    for step in range(100):
        mloop.log_metric("loss", 1 / (step + 1), step=step)
    mloop.log_metrics({"auc": 0.91, "f1": 0.84})
    mloop.set_tag("team", "risk")
    mloop.log_artifact("model.pkl")
    mloop.log_text("notes", "notes.txt")
    mloop.log_dict({"a": 1}, "cfg.json")

df: pd.DataFrame = mloop.search_runs(
    experiment_names=["credit"],
    filter_string="metrics.auc > 0.9 and params.lr = '0.1'",
    order_by=["metrics.auc DESC"],
)
history: list[mloop.Metric] = mloop.get_metric_history(run.info.run_id, "loss")
found: mloop.Run = mloop.get_run(run.info.run_id)
status: mloop.RunStatus = found.info.status
client = mloop.Client()
mloop.flush()
