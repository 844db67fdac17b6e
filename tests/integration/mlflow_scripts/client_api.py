"""MLflow's client API as people write it: tracking by id, entity classes, the registry."""

import os
import tempfile
import time

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

# A model to register, logged the usual way.
X, y = load_iris(return_X_y=True, as_frame=True)
with mlflow.start_run(run_name="model") as model_run:
    mlflow.sklearn.log_model(LogisticRegression(max_iter=300).fit(X, y), name="model")
model_run_id = model_run.info.run_id
client = MlflowClient()

exp_id = client.create_experiment("client-api", tags={"team": "risk"})
run = client.create_run(exp_id, tags={"mlflow.runName": "by-client"})
run_id = run.info.run_id
now = int(time.time() * 1000)
client.log_param(run_id, "lr", 0.1)
client.log_batch(
    run_id,
    metrics=[Metric("loss", 1.0 / (step + 1), now + step, step) for step in range(5)],
    params=[Param("depth", "3")],
    tags=[RunTag("stage", "dev")],
)
client.log_metric(run_id, "auc", 0.91)
client.set_tag(run_id, "owner", "ana")
with tempfile.TemporaryDirectory() as tmp:
    notes = os.path.join(tmp, "notes.txt")
    with open(notes, "w") as f:
        f.write("hello")
    client.log_artifact(run_id, notes, artifact_path="docs")
    client.set_terminated(run_id)

    fetched = client.get_run(run_id)
    assert fetched.info.run_name == "by-client", fetched.info.run_name
    assert fetched.data.params == {"lr": "0.1", "depth": "3"}, fetched.data.params
    assert fetched.data.tags["stage"] == "dev"
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert [a.path for a in client.list_artifacts(run_id)] == ["docs"]
    local = client.download_artifacts(run_id, "docs/notes.txt", tmp)
    with open(local) as f:
        assert f.read() == "hello"

runs = client.search_runs([exp_id], "metrics.auc > 0.5", order_by=["metrics.auc DESC"])
assert [r.info.run_id for r in runs] == [run_id]
assert mlflow.get_experiment_by_name("client-api").experiment_id == exp_id
assert mlflow.get_experiment(exp_id).tags["team"] == "risk"
found = mlflow.search_experiments(filter_string="tags.team = 'risk'")
assert [e.name for e in found] == ["client-api"]

with mlflow.start_run() as active:
    mlflow.log_metric("accuracy", 0.8)
    assert mlflow.get_artifact_uri("model").endswith("/model")
assert mlflow.last_active_run().info.run_id == active.info.run_id
experiment = client.get_experiment(active.info.experiment_id)
assert experiment.name == os.environ["MLFLOW_EXPERIMENT_NAME"], experiment.name

name = "credit-model"
client.create_registered_model(name, tags={"team": "risk"}, description="credit scoring")
source = f"runs:/{model_run_id}/model"
first = client.create_model_version(name, source, run_id=model_run_id)
second = mlflow.register_model(source, name)
client.set_registered_model_alias(name, "champion", first.version)
champion = client.get_model_version_by_alias(name, "champion")
assert str(champion.version) == str(first.version)
assert client.get_registered_model(name).aliases == {"champion": first.version}
models = client.search_registered_models(filter_string=f"name = '{name}'")
assert [m.name for m in models] == [name]
versions = client.search_model_versions(f"name = '{name}'")
assert sorted(int(v.version) for v in versions) == [1, 2]
assert [str(v.version) for v in client.get_latest_versions(name)] == [str(second.version)]
client.delete_registered_model_alias(name, "champion")

mlflow.delete_experiment(exp_id)
assert mlflow.get_experiment_by_name("client-api").lifecycle_stage == "deleted"
deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY)
assert [e.name for e in deleted] == ["client-api"]
print("done")
