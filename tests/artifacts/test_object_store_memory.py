"""The object-store contract in fsspec's memory filesystem."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import fsspec
import pytest

from mloop.artifacts.objects.base import ObjectStore
from mloop.artifacts.objects.schemes import open_object_store
from tests.artifacts.object_store_contract import ObjectStoreContract


@pytest.fixture
def root() -> Iterator[str]:
    url = f"memory://objects-test-{uuid.uuid4().hex}"
    yield url
    memory = fsspec.filesystem("memory")
    if memory.exists(url.removeprefix("memory://")):
        memory.rm(url.removeprefix("memory://"), recursive=True)


@pytest.fixture
def objects(root: str) -> ObjectStore:
    return open_object_store(root)


class TestMemoryObjectStore(ObjectStoreContract):
    __test__ = True


def test_two_stores_of_one_memory_root_share_objects(root: str) -> None:
    open_object_store(root).put_bytes("k", b"shared")
    assert open_object_store(root).get_bytes("k") == b"shared"
    assert open_object_store(root).scratch_dir() is None
