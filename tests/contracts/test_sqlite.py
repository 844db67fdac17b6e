from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.data.sql_store import SqlDatasetStore, open_dataset_store
from mloop.tracking.protocols import Stores
from mloop.tracking.sql import open_sql_stores
from tests.contracts.dataset_store_contract import DatasetStoreContract
from tests.contracts.model_store_contract import ModelStoreContract
from tests.contracts.run_store_contract import RunStoreContract


class TestSqliteDatasetStore(DatasetStoreContract):
    __test__ = True

    @pytest.fixture
    def dataset_store(self, tmp_path: Path) -> Iterator[SqlDatasetStore]:
        store = open_dataset_store(f"sqlite:///{tmp_path}/datasets.db")
        yield store
        store.close()


class TestSqliteStores(RunStoreContract):
    __test__ = True

    @pytest.fixture
    def stores(self, tmp_path: Path) -> Iterator[Stores]:
        stores = open_sql_stores(f"sqlite:///{tmp_path}/contract.db")
        yield stores
        stores.close()


class TestSqliteModelStores(ModelStoreContract):
    __test__ = True

    @pytest.fixture
    def model_store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/models.db"
