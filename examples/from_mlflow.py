"""The demo's MLflow sections: autologging a scikit-learn search, and importing an MLflow store.

``make demo`` calls these from ``quickstart.py``. The import section needs an
interpreter with MLflow installed (``make demo`` builds ``.mlflow-venv`` and
names it in ``MLOOP_DEMO_MLFLOW_PYTHON``); mloop itself never depends on MLflow.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import mloop
import mloop.sklearn

# Plain MLflow code, run by MLflow's own interpreter: the store a team already has.
MLFLOW_HISTORY = """
import sys
import mlflow
import mlflow.sklearn
from sklearn.linear_model import LogisticRegression

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("churn")
X, y = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]], [0, 1, 0, 1]
with mlflow.start_run(run_name="churn-sweep"):
    for c in (0.1, 1.0):
        with mlflow.start_run(run_name=f"C={c}", nested=True):
            mlflow.log_param("C", c)
            for epoch in range(5):
                mlflow.log_metric("loss", 1 / (epoch + 1 + c), step=epoch)
    model = LogisticRegression().fit(X, y)
    mlflow.log_text("trained on the 2026 extract", "notes.txt")
    mlflow.sklearn.log_model(
        model, name="model", registered_model_name="churn", pip_requirements=["scikit-learn"]
    )
mlflow.MlflowClient().set_registered_model_alias("churn", "champion", "1")
"""


def autologging(credit_csv: Path) -> None:
    """Section 18: one call logs a scikit-learn search, its candidates and the model."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    print("18. Autologging: mloop.autolog() and a scikit-learn grid search")
    frame = pd.read_csv(credit_csv)
    features, y = frame[["income", "debt"]], frame["label"]
    mloop.set_experiment("credit-autolog")
    mloop.autolog()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [0.01, 0.1, 1.0]},
        cv=3,
    )
    with mloop.start_run(run_name="grid") as run:
        search.fit(features, y)
    mloop.autolog(disable=True)
    logged = mloop.get_run(run.info.run_id)
    print(
        f"   params: {len(logged.data.params)}, e.g. best_logisticregression__C = "
        f"{logged.data.params['best_logisticregression__C']}"
    )
    print(f"   metrics: {', '.join(sorted(logged.data.metrics))}")
    children = mloop.search_runs(
        filter_string=f"tags.mloop.parentRunId = '{run.info.run_id}'",
        order_by=["metrics.rank_test_score"],
    )
    print(f"   {len(children)} child runs, one per candidate:")
    print(
        children[["params.logisticregression__C", "metrics.mean_test_score"]].to_string(index=False)
    )
    best = mloop.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    print(
        f"   mloop.sklearn.load_model gives back a {type(best).__name__}, "
        f"accuracy {(best.predict(features) == y).mean():.3f}"
    )


def import_history(mloop_cli: str, work: Path) -> None:
    """Section 19: an MLflow store written by MLflow itself comes over with one command."""
    print("19. Importing an MLflow store: mloop import mlflow sqlite:///mlflow.db")
    mlflow_python = os.environ.get("MLOOP_DEMO_MLFLOW_PYTHON")
    if not mlflow_python or not Path(mlflow_python).exists():
        print("   skipped: no interpreter with MLflow (make demo builds .mlflow-venv and names it)")
        return
    folder = work / "mlflow"
    folder.mkdir()
    database = f"sqlite:///{folder / 'mlflow.db'}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    wrote = subprocess.run(
        [mlflow_python, "-c", MLFLOW_HISTORY, database],
        cwd=folder,  # MLflow keeps the artifacts in ./mlartifacts or ./mlruns beside it
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if wrote.returncode != 0:
        raise RuntimeError(f"MLflow could not write its store:\n{wrote.stderr[-2000:]}")
    print("   MLflow wrote mlflow.db and its artifacts: an experiment, 3 runs, a model, an alias")
    for _ in range(2):  # the second import finds everything already there
        print("   $ mloop import mlflow sqlite:///mlflow.db")
        subprocess.run([mloop_cli, "import", "mlflow", database], check=True, cwd=folder)
    subprocess.run([mloop_cli, "runs", "ls", "-e", "churn"], check=True)
    champion = mloop.pyfunc.load_model("models:/churn@champion")
    predicted = champion.predict([[0.0, 1.0]]).tolist()
    print(f"   models:/churn@champion loads in mloop: predicts {predicted}")
