"""docs/tracking.md: Moving over from MLflow."""

import time

import mloop
from mloop import MlflowClient
from mloop.entities import Metric, Param, RunTag, ViewType

client = MlflowClient()
exp_id: str = client.create_experiment("client-api", tags={"team": "risk"})
run = client.create_run(exp_id, tags={"mlflow.runName": "by-client"})
client.log_batch(
    run.info.run_id,
    metrics=[Metric("loss", 0.5, int(time.time() * 1000), 0)],
    params=[Param("lr", "0.1")],
    tags=[RunTag("stage", "dev")],
)
history: list[Metric] = client.get_metric_history(run.info.run_id, "loss")
experiments: list[mloop.Experiment] = mloop.search_experiments(
    ViewType.ALL, filter_string="tags.team = 'risk'"
)
found: mloop.Experiment | None = mloop.get_experiment_by_name("client-api")
last: mloop.Run | None = mloop.last_active_run()
uri: str = mloop.get_artifact_uri("model")

version = mloop.register_model(f"runs:/{run.info.run_id}/model", "credit")
client.set_registered_model_alias("credit", "champion", version.version)
champion = client.get_model_version_by_alias("credit", "champion")
latest = client.get_latest_versions("credit")
names = [m.name for m in client.search_registered_models("name LIKE 'cr%'")]
runs = [v.run_id for v in client.search_model_versions(f"name = '{champion.name}'")]

# The names past the basics (docs/mlflow.md: What maps).
from mloop.exceptions import MlflowException  # noqa: E402

try:
    client.get_registered_model("missing")
except MlflowException as err:
    code: str = err.code
latest_list: list[str] = [
    str(v.version) for v in client.get_registered_model("credit").latest_versions
]
aliases: list[str] = list(champion.aliases)
copied: int = client.copy_model_version("models:/credit@champion", "credit-eu").version
folder: str = client.get_model_version_download_uri("credit", 1)
page_token: str | None = client.search_runs([exp_id], max_results=1).token
mloop.log_metric("loss", 0.5, 1, True)
mloop.delete_run(run.info.run_id)
registry: str = mloop.get_registry_uri()
