"""Opening a contract suite's store more than once, as separate processes would, and closing all."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set

OpenStores = Callable[[], StoreSet]


def store_opener(uri: str) -> Iterator[OpenStores]:
    """A fixture body: yields a function that opens ``uri`` anew; every set opened is closed after."""
    opened: list[StoreSet] = []

    def open_() -> StoreSet:
        stores = open_sql_store_set(uri)
        opened.append(stores)
        return stores

    yield open_
    for stores in opened:
        stores.close()
