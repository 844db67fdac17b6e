"""The object-store contract on a local folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.artifacts.objects.base import ObjectStore
from mloop.artifacts.objects.schemes import open_object_store
from tests.artifacts.object_store_contract import ObjectStoreContract


@pytest.fixture
def root(tmp_path: Path) -> str:
    return str(tmp_path / "store")


@pytest.fixture
def objects(root: str) -> ObjectStore:
    return open_object_store(root)


class TestLocalObjectStore(ObjectStoreContract):
    __test__ = True


def test_a_file_url_is_a_local_folder(tmp_path: Path) -> None:
    objects = open_object_store(f"file://{tmp_path}/store")
    objects.put_bytes("a/b", b"x")
    assert (tmp_path / "store" / "a" / "b").read_bytes() == b"x"
    assert objects.scratch_dir() == tmp_path / "store" / "tmp"
