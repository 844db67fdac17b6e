"""SQL implementations of every store protocol (SQLite and PostgreSQL), on one engine.

Example:
    >>> stores = open_sql_store_set("sqlite:///:memory:")
    >>> stores.experiments.create_experiment("demo")
    '1'
    >>> stores.models.create_model("credit").name
    'credit'
    >>> stores.close()
"""

from __future__ import annotations

from mloop.store.database import Database
from mloop.store.engine import is_ephemeral
from mloop.store.set import StoreSet
from mloop.store.sql.aliases import SqlAliasStore
from mloop.store.sql.artifact_index import SqlArtifactIndex
from mloop.store.sql.datasets import SqlDatasetStore
from mloop.store.sql.experiments import SqlExperimentStore
from mloop.store.sql.governance import SqlGovernanceStore, SqlKeyStore
from mloop.store.sql.models import SqlModelStore
from mloop.store.sql.runs import SqlRunStore
from mloop.store.sql.step_cache import SqlStepCacheStore


def open_sql_store_set(uri: str) -> StoreSet:
    """Open (creating or migrating as needed) every SQL store behind ``uri`` on one engine.

    Each call opens a new engine: use :func:`mloop.store.registry.open_store_set`
    for the one set a process shares per URI.
    """
    database = Database.open(uri)
    return StoreSet(
        uri=uri,
        # An in-memory database dies with its process: it owns no artifact store.
        store_id="" if is_ephemeral(uri) else database.store_id,
        experiments=SqlExperimentStore(database),
        runs=SqlRunStore(database),
        artifacts=SqlArtifactIndex(database),
        datasets=SqlDatasetStore(database),
        models=SqlModelStore(database),
        aliases=SqlAliasStore(database),
        governance=SqlGovernanceStore(database),
        keys=SqlKeyStore(database),
        steps=SqlStepCacheStore(database),
        closer=database.dispose,
    )


__all__ = ["open_sql_store_set"]
