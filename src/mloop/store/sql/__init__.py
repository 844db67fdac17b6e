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

import threading
from collections.abc import Callable
from typing import Any

from mloop.config import DEFAULT_PROJECT
from mloop.store.database import Database
from mloop.store.engine import is_ephemeral
from mloop.store.set import StoreSet
from mloop.store.sql.aliases import SqlAliasStore
from mloop.store.sql.artifact_index import SqlArtifactIndex
from mloop.store.sql.datasets import SqlDatasetStore
from mloop.store.sql.deployments import SqlDeploymentStore
from mloop.store.sql.experiments import SqlExperimentStore
from mloop.store.sql.governance import SqlGovernanceStore, SqlKeyStore
from mloop.store.sql.leases import SqlLeaseStore
from mloop.store.sql.models import SqlModelStore
from mloop.store.sql.monitors import SqlMonitorStore
from mloop.store.sql.policies import SqlPolicyStore
from mloop.store.sql.projects import ProjectScope, SqlProjectStore
from mloop.store.sql.runs import SqlRunStore
from mloop.store.sql.step_cache import SqlStepCacheStore


def open_sql_store_set(uri: str) -> StoreSet:
    """Open (creating or migrating as needed) every SQL store behind ``uri`` on one engine.

    Each call opens a new engine: use :func:`mloop.store.registry.open_store_set`
    for the one set a process shares per URI. The set looks names up in project
    ``default``; :meth:`StoreSet.in_project` gives the same stores in another.
    """
    database = Database.open(uri)
    # An in-memory database dies with its process: it owns no artifact store.
    store_id = "" if is_ephemeral(uri) else database.store_id
    shared = {
        "runs": SqlRunStore(database),
        "artifacts": SqlArtifactIndex(database),
        "keys": SqlKeyStore(database),
        "steps": SqlStepCacheStore(database),
        "projects": SqlProjectStore(database),
    }
    views: dict[str, StoreSet] = {}
    lock = threading.Lock()

    def scoped(project: str) -> StoreSet:
        found = views.get(project)
        if found is None:
            with lock:
                found = views.get(project)
                if found is None:
                    found = _in_project(database, uri, store_id, shared, project, scoped)
                    views[project] = found
        return found

    return scoped(DEFAULT_PROJECT)


def _in_project(
    database: Database,
    uri: str,
    store_id: str,
    shared: dict[str, Any],
    project: str,
    scoper: Callable[[str], StoreSet],
) -> StoreSet:
    scope = ProjectScope(database, project)
    return StoreSet(
        uri=uri,
        store_id=store_id,
        experiments=SqlExperimentStore(database, scope),
        datasets=SqlDatasetStore(database, scope),
        models=SqlModelStore(database, scope),
        aliases=SqlAliasStore(database, scope),
        governance=SqlGovernanceStore(database, scope),
        deployments=SqlDeploymentStore(database, scope),
        monitors=SqlMonitorStore(database, scope),
        policies=SqlPolicyStore(database, scope),
        leases=SqlLeaseStore(database, scope),
        project=project,
        scoper=scoper,
        closer=database.dispose,
        **shared,
    )


__all__ = ["open_sql_store_set"]
