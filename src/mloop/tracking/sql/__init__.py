"""SQL implementations of the tracking store protocols (SQLite and PostgreSQL).

Example:
    >>> stores = open_sql_stores("sqlite:///:memory:")
    >>> stores.experiments.create_experiment("demo")
    '1'
"""

from __future__ import annotations

from mloop.store.engine import is_ephemeral
from mloop.tracking.protocols import Stores
from mloop.tracking.sql.artifact_index import SqlArtifactIndex
from mloop.tracking.sql.database import Database
from mloop.tracking.sql.experiments import SqlExperimentStore
from mloop.tracking.sql.runs import SqlRunStore


def open_sql_stores(uri: str) -> Stores:
    """Open (creating or migrating as needed) the SQL stores behind ``uri``."""
    database = Database.open(uri)
    return Stores(
        uri=uri,
        experiments=SqlExperimentStore(database),
        runs=SqlRunStore(database),
        artifacts=SqlArtifactIndex(database),
        close=database.dispose,
        # An in-memory database dies with its process: it owns no artifact store.
        store_id="" if is_ephemeral(uri) else database.store_id,
    )


__all__ = ["Database", "open_sql_stores"]
