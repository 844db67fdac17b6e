"""scikit-learn autologging, the registry with an alias, and loading by alias, MLflow's way."""

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

mlflow.set_experiment("iris-autolog")
mlflow.sklearn.autolog()

X, y = load_iris(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

with mlflow.start_run(run_name="pipeline") as run:
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    pipe.fit(X_train, y_train)

logged = mlflow.get_run(run.info.run_id)
assert logged.data.metrics["training_accuracy_score"] > 0.9, logged.data.metrics
assert "training_f1_score" in logged.data.metrics
assert logged.data.params["logisticregression__max_iter"] == "300", logged.data.params
assert logged.data.tags["estimator_name"] == "Pipeline"

with mlflow.start_run(run_name="search") as search:
    grid = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0, 10.0]}, cv=3)
    grid.fit(X_train, y_train)
searched = mlflow.get_run(search.info.run_id)
assert "best_C" in searched.data.params, searched.data.params
assert "best_cv_score" in searched.data.metrics
children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{search.info.run_id}'")
assert len(children) == 3, children

name = "iris-classifier"
version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
client = MlflowClient()
client.set_registered_model_alias(name, "champion", version.version)
assert client.get_model_version_by_alias(name, "champion").version == version.version

mlflow.sklearn.autolog(disable=True)
champion = mlflow.pyfunc.load_model(f"models:/{name}@champion")
predictions = champion.predict(X_test)
estimator = mlflow.sklearn.load_model(f"models:/{name}@champion")
assert list(estimator.predict(X_test)) == list(predictions)
assert (estimator.predict(X_test) == y_test).mean() > 0.9
print("done")
