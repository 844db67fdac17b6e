from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mloop.data.sql_store import SqlDatasetStore, open_dataset_store
from mloop.store import schema
from mloop.tracking.protocols import Stores
from mloop.tracking.sql import open_sql_stores
from tests.contracts.dataset_store_contract import DatasetStoreContract
from tests.contracts.model_store_contract import ModelStoreContract
from tests.contracts.run_store_contract import RunStoreContract

pytestmark = pytest.mark.postgres


def _truncate(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    names = ", ".join(t.name for t in reversed(schema.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()


class TestPostgresDatasetStore(DatasetStoreContract):
    __test__ = True

    @pytest.fixture
    def dataset_store(self, postgres_url: str) -> Iterator[SqlDatasetStore]:
        store = open_dataset_store(postgres_url)
        yield store
        store.close()
        _truncate(postgres_url)


class TestPostgresStores(RunStoreContract):
    __test__ = True

    @pytest.fixture
    def stores(self, postgres_url: str) -> Iterator[Stores]:
        stores = open_sql_stores(postgres_url)
        yield stores
        stores.close()
        _truncate(postgres_url)


class TestPostgresModelStores(ModelStoreContract):
    __test__ = True

    @pytest.fixture
    def model_store_uri(self, postgres_url: str) -> Iterator[str]:
        # Every store the suite opened on it is closed before this runs again.
        yield postgres_url
        _truncate(postgres_url)
