"""MLflow names past the basics: import paths, experiment "0", paging, registry edits."""

import mlflow
import mlflow.sklearn
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

client = MlflowClient()
assert mlflow.get_registry_uri() == mlflow.get_tracking_uri()
mlflow.set_registry_uri(mlflow.get_tracking_uri())

default = mlflow.set_experiment(experiment_id="0")
assert default.name == "Default", default.name
with mlflow.start_run() as parent:
    mlflow.log_metric("loss", 0.5, 1, True)  # key, value, step, synchronous
    mlflow.log_params({"lr": 0.1}, synchronous=True)
    mlflow.set_tag("team", "risk", synchronous=False)
    mlflow.log_metrics({"auc": 0.9}, step=2, synchronous=False)
assert parent.info.experiment_id == default.experiment_id
child = client.create_run(default.experiment_id, tags={"mlflow.parentRunId": parent.info.run_id})
client.set_terminated(child.info.run_id)
children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
assert list(children["run_id"]) == [child.info.run_id], children

other = mlflow.create_experiment("elsewhere")
with mlflow.start_run(experiment_id=other) as far:
    mlflow.log_param("where", "far")
everywhere = {
    r.info.run_id for r in mlflow.search_runs(search_all_experiments=True, output_format="list")
}
assert {parent.info.run_id, child.info.run_id, far.info.run_id} <= everywhere
mlflow.delete_run(far.info.run_id)
assert mlflow.get_run(far.info.run_id).info.lifecycle_stage == "deleted"

seen = []
page = client.search_runs([default.experiment_id], max_results=1)
seen.extend(r.info.run_id for r in page)
while page.token:
    page = client.search_runs([default.experiment_id], max_results=1, page_token=page.token)
    seen.extend(r.info.run_id for r in page)
assert sorted(seen) == sorted([parent.info.run_id, child.info.run_id]), seen

X, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=300).fit(X, y)
signature = infer_signature(X, model.predict(X), params={"threshold": 0.5, "top_k": 3})
with mlflow.start_run() as model_run:
    mlflow.sklearn.log_model(model, name="model", signature=signature)
name = "names-model"
source = f"runs:/{model_run.info.run_id}/model"
first = mlflow.register_model(source, name)
second = mlflow.register_model(source, name)
client.set_registered_model_alias(name, "champion", second.version)
assert client.get_model_version(name, second.version).aliases == ["champion"]
latest = client.get_registered_model(name).latest_versions
assert [str(v.version) for v in latest] == [str(second.version)]
found = client.search_model_versions(f"name = '{name}'")
assert [str(v.version) for v in found] == ["2", "1"]  # newest first
assert client.update_registered_model(name, description="iris").description == "iris"
assert isinstance(client.get_model_version_download_uri(name, first.version), str)
copied = client.copy_model_version(f"models:/{name}@champion", "names-copy")
assert (copied.name, str(copied.version)) == ("names-copy", "1")
client.delete_model_version(name, first.version)
assert [str(v.version) for v in client.search_model_versions(f"name = '{name}'")] == ["2"]
try:
    client.get_registered_model("no-such-model")
    raise AssertionError("a missing model was found")
except MlflowException:
    pass
print("done")
