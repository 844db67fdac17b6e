"""Write an MLflow store with MLflow itself (run in the MLflow test interpreter, not mloop's).

Usage: python write_store.py TRACKING_URI [REGISTRY_URI]

Two experiments (one deleted), a parent run with two nested children, metric
histories (and a NaN), params, tags, artifacts in folders, a registered
scikit-learn model with two versions (skops), one pickled with cloudpickle, tags on the model and a version, an
alias and a stage, a model logged but not registered; a run still RUNNING and a deleted run. Prints the MLflow
run ids as JSON on its last line.
"""

import json
import os
import sys
import tempfile

import mlflow
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression

uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
if len(sys.argv) > 2:
    mlflow.set_registry_uri(sys.argv[2])
client = MlflowClient()

exp_id = mlflow.create_experiment("credit", tags={"team": "risk"})
gone = mlflow.create_experiment("abandoned")
with mlflow.start_run(experiment_id=gone, run_name="lost"):
    mlflow.log_param("p", 1)
client.delete_experiment(gone)

X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
y = [0, 1, 0, 1]
ids = {}
with mlflow.start_run(experiment_id=exp_id, run_name="parent") as parent:
    ids["parent"] = parent.info.run_id
    mlflow.log_params({"lr": 0.1, "depth": 3})
    mlflow.set_tag("stage", "search")
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("nan_metric", float("nan"))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "notes.txt"), "w") as f:
            f.write("hello from mlflow\n")
        os.makedirs(os.path.join(tmp, "plots"))
        with open(os.path.join(tmp, "plots", "curve.csv"), "w") as f:
            f.write("x,y\n1,2\n")
        mlflow.log_artifact(os.path.join(tmp, "notes.txt"))
        mlflow.log_artifacts(os.path.join(tmp, "plots"), artifact_path="plots")
    for name in ("child-a", "child-b"):
        with mlflow.start_run(experiment_id=exp_id, run_name=name, nested=True) as child:
            ids[name] = child.info.run_id
            mlflow.log_param("c", name)
            mlflow.log_metric("acc", 0.5, step=0)
            mlflow.log_metric("acc", 0.75, step=1)
    model = LogisticRegression().fit(X, y)
    # Requirements named: MLflow need not infer them (which takes seconds).
    needs = ["scikit-learn"]
    mlflow.sklearn.log_model(
        model, name="model", registered_model_name="scorer", pip_requirements=needs
    )
    mlflow.sklearn.log_model(
        LogisticRegression(C=0.5).fit(X, y),
        name="model2",
        registered_model_name="scorer",
        pip_requirements=needs,
    )

    # Logged, never registered: MLflow 3 keeps it outside the run's artifacts.
    mlflow.sklearn.log_model(model, name="unregistered", pip_requirements=needs)
    mlflow.sklearn.log_model(
        model,
        name="legacy",
        serialization_format="cloudpickle",
        registered_model_name="legacy",
        pip_requirements=needs,
    )

client.update_registered_model("scorer", description="scores credit")
client.set_registered_model_tag("scorer", "owner", "risk-team")
client.set_model_version_tag("scorer", "1", "validated", "yes")
client.update_model_version("scorer", "2", description="second try")
client.set_registered_model_alias("scorer", "champion", "2")
running = client.create_run(exp_id, run_name="still-running")  # never ended: RUNNING
ids["running"] = running.info.run_id
with mlflow.start_run(experiment_id=exp_id, run_name="binned") as binned:
    ids["binned"] = binned.info.run_id
client.delete_run(ids["binned"])
client.transition_model_version_stage("scorer", "1", "Staging")
print(json.dumps(ids))
