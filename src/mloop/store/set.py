"""One store set per metadata-store URI: every domain's store on one connection pool.

A :class:`StoreSet` is what the domains (tracking, data, models, pipelines)
reach their storage through; none opens a database itself. The SQL
implementation (:func:`mloop.store.sql.open_sql_store_set`) builds every
store of the set on one engine; a REST implementation will build them over
one HTTP client. The stores that come next (users, audit) join the set as
fields of their own, as deployments, monitors, policies and leases did.

Example:
    >>> from mloop.store.sql import open_sql_store_set
    >>> stores = open_sql_store_set("sqlite://")
    >>> (stores.experiments.create_experiment("demo"), stores.datasets.list_datasets())
    ('1', [])
    >>> stores.close()
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from mloop.config import DEFAULT_PROJECT
from mloop.store.protocols.datasets import DatasetStore
from mloop.store.protocols.deployments import DeploymentStore
from mloop.store.protocols.leases import LeaseStore
from mloop.store.protocols.monitors import MonitorStore
from mloop.store.protocols.policies import PolicyStore
from mloop.store.protocols.projects import ProjectStore
from mloop.store.protocols.registry import AliasStore, GovernanceStore, KeyStore, ModelStore
from mloop.store.protocols.steps import StepCacheStore
from mloop.store.protocols.tracking import ArtifactIndex, ExperimentStore, RunStore


def _nothing_to_close() -> None:
    return None


@dataclasses.dataclass(frozen=True)
class StoreSet:
    """Every domain's store behind one metadata-store URI.

    Attributes:
        uri: the metadata store's URI.
        store_id: the metadata store's identity, which its artifact store
            records (empty when it has none, e.g. an in-memory database).
        experiments: experiments (:class:`ExperimentStore`).
        runs: runs and what they logged (:class:`RunStore`).
        artifacts: run artifact paths to digests (:class:`ArtifactIndex`).
        datasets: dataset versions (:class:`DatasetStore`).
        models: registered models and versions (:class:`ModelStore`).
        aliases: model aliases and their history (:class:`AliasStore`).
        governance: protections, decisions, gates, evaluations (:class:`GovernanceStore`).
        keys: trusted signing keys (:class:`KeyStore`).
        steps: the pipeline step cache (:class:`StepCacheStore`).
        projects: the namespaces (:class:`ProjectStore`).
        deployments: named endpoints and their history (:class:`DeploymentStore`).
        monitors: monitors and their reports (:class:`MonitorStore`).
        policies: continuous-training policies and their runs (:class:`PolicyStore`).
        leases: which agent runs which job (:class:`LeaseStore`).
        project: the project whose names the experiments, datasets, models,
            aliases, governance, deployments, monitors, policies and leases
            stores look up (ids reach every project).
    """

    uri: str
    store_id: str
    experiments: ExperimentStore
    runs: RunStore
    artifacts: ArtifactIndex
    datasets: DatasetStore
    models: ModelStore
    aliases: AliasStore
    governance: GovernanceStore
    keys: KeyStore
    steps: StepCacheStore
    projects: ProjectStore
    deployments: DeploymentStore
    monitors: MonitorStore
    policies: PolicyStore
    leases: LeaseStore
    project: str = DEFAULT_PROJECT
    # Builds the same set scoped to another project (on the same connections).
    scoper: Callable[[str], StoreSet] | None = dataclasses.field(default=None, repr=False)
    closer: Callable[[], None] = dataclasses.field(default=_nothing_to_close, repr=False)

    def in_project(self, project: str) -> StoreSet:
        """The same stores, looking names up in ``project`` (made by its first write).

        Example:
            >>> from mloop.store.sql import open_sql_store_set
            >>> stores = open_sql_store_set("sqlite://")
            >>> a, b = stores.in_project("a"), stores.in_project("b")
            >>> a.experiments.create_experiment("x") != b.experiments.create_experiment("x")
            True
            >>> stores.close()
        """
        if project == self.project:
            return self
        if self.scoper is None:
            raise TypeError(f"this store set ({self.uri}) cannot be scoped to another project")
        return self.scoper(project)

    def close(self) -> None:
        """Release the set's connections (its pool); a later use opens new ones.

        Example:
            >>> from mloop.store.sql import open_sql_store_set
            >>> open_sql_store_set("sqlite://").close()
        """
        self.closer()
