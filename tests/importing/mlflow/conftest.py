"""The MLflow-written stores (see tests/importing/mlflow/stores.py), for every test here."""

from tests.importing.mlflow.stores import mlflow_python as mlflow_python
from tests.importing.mlflow.stores import mlruns_store as mlruns_store
from tests.importing.mlflow.stores import postgres_mlflow_store as postgres_mlflow_store
from tests.importing.mlflow.stores import server_store as server_store
from tests.importing.mlflow.stores import sqlite_store as sqlite_store
