"""Fluent tracking as people write it for MLflow: nested runs, metric histories, artifacts."""

import os
import tempfile

import mlflow
from mlflow import MlflowClient

mlflow.set_experiment("fluent-nested")
with mlflow.start_run(run_name="sweep") as parent:
    mlflow.log_params({"model": "ridge", "folds": 3})
    mlflow.set_tags({"team": "risk", "purpose": "sweep"})
    for alpha in (0.1, 1.0, 10.0):
        with mlflow.start_run(run_name=f"alpha-{alpha}", nested=True):
            mlflow.log_param("alpha", alpha)
            for epoch in range(4):
                mlflow.log_metric("rmse", 1.0 / (epoch + 1) + alpha / 100, step=epoch)
            mlflow.log_metrics({"r2": 0.9 - alpha / 100, "mae": 0.2 + alpha / 100})
            assert mlflow.active_run().info.run_name == f"alpha-{alpha}"
    assert mlflow.active_run().info.run_id == parent.info.run_id
    mlflow.log_metric("best_rmse", 0.251)
    mlflow.log_dict({"features": ["age", "income"]}, "config/features.json")
    mlflow.log_text("trained on the 2026 extract", "notes.txt")
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.csv")
        with open(report, "w") as f:
            f.write("alpha,rmse\n0.1,0.251\n")
        mlflow.log_artifact(report, artifact_path="reports")
        plots = os.path.join(tmp, "plots")
        os.makedirs(plots)
        for name in ("a.txt", "b.txt"):
            with open(os.path.join(plots, name), "w") as f:
                f.write(name)
        mlflow.log_artifacts(plots, artifact_path="plots")

experiment = mlflow.get_experiment_by_name("fluent-nested")
children = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id],
    filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    order_by=["metrics.r2 DESC"],
)
assert len(children) == 3, children
assert list(children["params.alpha"]) == ["0.1", "1.0", "10.0"], children["params.alpha"]
assert list(children["tags.mlflow.runName"]) == ["alpha-0.1", "alpha-1.0", "alpha-10.0"]
assert (children["status"] == "FINISHED").all()
best = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id],
    filter_string="metrics.rmse < 0.26 and params.alpha = '0.1'",
    output_format="list",
)
assert [r.info.run_name for r in best] == ["alpha-0.1"], best

run = mlflow.get_run(parent.info.run_id)
assert run.info.status == "FINISHED"
assert run.data.params == {"model": "ridge", "folds": "3"}, run.data.params
assert run.data.tags["team"] == "risk"
assert run.data.metrics["best_rmse"] == 0.251

client = MlflowClient()
history = client.get_metric_history(children["run_id"][0], "rmse")
assert [m.step for m in history] == [0, 1, 2, 3]
top = sorted(a.path for a in client.list_artifacts(parent.info.run_id))
assert top == ["config", "notes.txt", "plots", "reports"], top
assert [a.path for a in client.list_artifacts(parent.info.run_id, "plots")] == [
    "plots/a.txt",
    "plots/b.txt",
]
with tempfile.TemporaryDirectory() as tmp:
    local = client.download_artifacts(parent.info.run_id, "config/features.json", tmp)
    with open(local) as f:
        assert '"income"' in f.read()
print("done")
