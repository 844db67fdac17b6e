"""Every store contract suite on PostgreSQL, each given its part of one store set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mloop.store import schema
from mloop.store.protocols.datasets import DatasetStore
from mloop.store.protocols.steps import StepCacheStore
from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set
from tests.contracts.dataset_store_contract import DatasetStoreContract
from tests.contracts.deployment_store_contract import DeploymentStoreContract
from tests.contracts.lease_store_contract import LeaseStoreContract
from tests.contracts.model_store_contract import ModelStoreContract
from tests.contracts.monitor_store_contract import MonitorStoreContract
from tests.contracts.policy_store_contract import PolicyStoreContract
from tests.contracts.project_contract import ProjectContract
from tests.contracts.run_store_contract import RunStoreContract
from tests.contracts.step_cache_contract import StepCacheContract

pytestmark = pytest.mark.postgres


def _truncate(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    names = ", ".join(t.name for t in reversed(schema.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        # As a new store: project default (id 1) exists from the start.
        conn.execute(
            schema.projects.insert().values(name="default", description="", created_time=0)
        )
    engine.dispose()


@pytest.fixture
def store_set(postgres_url: str) -> Iterator[StoreSet]:
    stores = open_sql_store_set(postgres_url)
    yield stores
    stores.close()
    _truncate(postgres_url)


class TestPostgresDatasetStore(DatasetStoreContract):
    __test__ = True

    @pytest.fixture
    def dataset_store(self, store_set: StoreSet) -> DatasetStore:
        return store_set.datasets


class TestPostgresStores(RunStoreContract):
    __test__ = True

    @pytest.fixture
    def stores(self, store_set: StoreSet) -> StoreSet:
        return store_set


class TestPostgresModelStores(ModelStoreContract):
    __test__ = True

    @pytest.fixture
    def model_store_uri(self, postgres_url: str) -> Iterator[str]:
        # Every store the suite opened on it is closed before this runs again.
        yield postgres_url
        _truncate(postgres_url)


class TestPostgresStepCache(StepCacheContract):
    __test__ = True

    @pytest.fixture
    def step_cache(self, store_set: StoreSet) -> StepCacheStore:
        return store_set.steps


class TestPostgresProjects(ProjectContract):
    __test__ = True


class TestPostgresDeployments(DeploymentStoreContract):
    __test__ = True

    @pytest.fixture
    def deployment_store_uri(self, postgres_url: str) -> Iterator[str]:
        yield postgres_url
        _truncate(postgres_url)


class TestPostgresMonitors(MonitorStoreContract):
    __test__ = True

    @pytest.fixture
    def monitor_store_uri(self, postgres_url: str) -> Iterator[str]:
        yield postgres_url
        _truncate(postgres_url)


class TestPostgresPolicies(PolicyStoreContract):
    __test__ = True

    @pytest.fixture
    def policy_store_uri(self, postgres_url: str) -> Iterator[str]:
        yield postgres_url
        _truncate(postgres_url)


class TestPostgresLeases(LeaseStoreContract):
    __test__ = True

    @pytest.fixture
    def lease_store_uri(self, postgres_url: str) -> Iterator[str]:
        yield postgres_url
        _truncate(postgres_url)
