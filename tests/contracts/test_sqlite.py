"""Every store contract suite on SQLite, each given its part of one store set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture
def store_set(tmp_path: Path) -> Iterator[StoreSet]:
    stores = open_sql_store_set(f"sqlite:///{tmp_path}/contract.db")
    yield stores
    stores.close()


class TestSqliteDatasetStore(DatasetStoreContract):
    __test__ = True

    @pytest.fixture
    def dataset_store(self, store_set: StoreSet) -> DatasetStore:
        return store_set.datasets


class TestSqliteStores(RunStoreContract):
    __test__ = True

    @pytest.fixture
    def stores(self, store_set: StoreSet) -> StoreSet:
        return store_set


class TestSqliteModelStores(ModelStoreContract):
    __test__ = True

    @pytest.fixture
    def model_store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/models.db"


class TestSqliteStepCache(StepCacheContract):
    __test__ = True

    @pytest.fixture
    def step_cache(self, store_set: StoreSet) -> StepCacheStore:
        return store_set.steps


class TestSqliteProjects(ProjectContract):
    __test__ = True


class TestSqliteDeployments(DeploymentStoreContract):
    __test__ = True

    @pytest.fixture
    def deployment_store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/deployments.db"


class TestSqliteMonitors(MonitorStoreContract):
    __test__ = True

    @pytest.fixture
    def monitor_store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/monitors.db"


class TestSqlitePolicies(PolicyStoreContract):
    __test__ = True

    @pytest.fixture
    def policy_store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/policies.db"


class TestSqliteLeases(LeaseStoreContract):
    __test__ = True

    @pytest.fixture
    def lease_store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/leases.db"
