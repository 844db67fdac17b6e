"""The contract every dataset store backend passes: subclass and provide ``dataset_store``."""

from __future__ import annotations

import pytest

from mloop.data.refs import parse_ref
from mloop.entities import DatasetFile, DatasetRef
from mloop.errors import NotFound
from mloop.store.protocols.datasets import DatasetStore


def files(*names: str) -> list[DatasetFile]:
    return [DatasetFile(n, (n[0] * 64)[:64], len(n)) for n in names]


class DatasetStoreContract:
    __test__ = False

    def test_versions_are_numbered_and_deduplicated(self, dataset_store: DatasetStore) -> None:
        v1, new1 = dataset_store.commit_version("d", "1" * 64, files("a.csv"), description="first")
        v2, new2 = dataset_store.commit_version("d", "2" * 64, files("a.csv", "b.csv"), run_id="r1")
        again, new3 = dataset_store.commit_version("d", "1" * 64, files("a.csv"))
        assert (v1.version, v2.version, again.version) == (1, 2, 1)
        assert (new1, new2, new3) == (True, True, False)
        assert (v2.file_count, v2.total_bytes, v2.run_id) == (2, 10, "r1")
        assert [f.path for f in v2.files] == ["a.csv", "b.csv"]
        assert v1.description == "first"
        other, _ = dataset_store.commit_version("e", "1" * 64, files("a.csv"))
        assert other.ref == "e@1"  # the same content under another name is its own dataset

    def test_find_version_by_digest(self, dataset_store: DatasetStore) -> None:
        assert dataset_store.find_version("d", "1" * 64) is None  # no such dataset yet
        dataset_store.commit_version("d", "1" * 64, files("a.csv"))
        dataset_store.commit_version("d", "2" * 64, files("b.csv"))
        found = dataset_store.find_version("d", "2" * 64)
        assert found is not None
        assert (found.ref, found.file_count, found.digest) == ("d@2", 1, "2" * 64)
        assert dataset_store.find_version("d", "3" * 64) is None
        assert dataset_store.find_version("e", "1" * 64) is None  # digests are per dataset

    def test_refs(self, dataset_store: DatasetStore) -> None:
        dataset_store.commit_version("d", "1" * 64, files("a"))
        dataset_store.commit_version("d", "2" * 64, files("b"))
        assert dataset_store.get_version(parse_ref("d")).version == 2
        assert dataset_store.get_version(parse_ref("d@latest")).version == 2
        assert dataset_store.get_version(parse_ref("d@1")).files[0].path == "a"
        tagged = dataset_store.set_tag(parse_ref("d@1"), "prod")
        assert tagged.tags == ("prod",)
        assert dataset_store.get_version(parse_ref("d@prod")).version == 1
        dataset_store.set_tag(parse_ref("d@2"), "prod")  # tags move
        assert dataset_store.get_version(parse_ref("d@prod")).version == 2
        assert dataset_store.get_version(parse_ref("d@1")).tags == ()
        for bad in ("nope", "d@3", "d@staging"):
            with pytest.raises(NotFound):
                dataset_store.get_version(parse_ref(bad))
        with pytest.raises(NotFound):
            dataset_store.set_tag(DatasetRef("d", version=9), "x")

    def test_remove_never_reuses_numbers(self, dataset_store: DatasetStore) -> None:
        dataset_store.commit_version("d", "1" * 64, files("a"))
        dataset_store.commit_version("d", "2" * 64, files("b"))
        dataset_store.set_tag(parse_ref("d@2"), "prod")
        assert dataset_store.remove_version(parse_ref("d@prod")).version == 2
        with pytest.raises(NotFound):
            dataset_store.get_version(parse_ref("d@prod"))
        v3, _ = dataset_store.commit_version("d", "3" * 64, files("c"))
        assert v3.version == 3
        assert dataset_store.referenced_digests() == {"a" * 64, "c" * 64}
        with pytest.raises(NotFound):
            dataset_store.remove_version(parse_ref("d@2"))

    def test_validations(self, dataset_store: DatasetStore) -> None:
        dataset_store.commit_version("d", "1" * 64, files("a"))
        dataset_store.record_validation(parse_ref("d@1"), "s", False, {"n": 1}, None)
        dataset_store.record_validation(parse_ref("d@1"), "s", True, {"n": 2}, "r1")
        found = dataset_store.list_validations(parse_ref("d@1"))
        assert [(v["success"], v["result"], v["run_id"]) for v in found] == [
            (True, {"n": 2}, "r1"),
            (False, {"n": 1}, None),
        ]
        with pytest.raises(NotFound):
            dataset_store.record_validation(parse_ref("d@7"), "s", True, {}, None)

    def test_profiles_are_kept_with_their_version(self, dataset_store: DatasetStore) -> None:
        dataset_store.commit_version("d", "1" * 64, files("a"))
        assert dataset_store.find_profile(parse_ref("d@1"), "drift") is None
        assert dataset_store.record_profile(parse_ref("d@latest"), "drift", "p" * 64) == "p" * 64
        # The first recorded wins: a second writer gets it back.
        assert dataset_store.record_profile(parse_ref("d@1"), "drift", "q" * 64) == "p" * 64
        assert dataset_store.find_profile(parse_ref("d@1"), "drift") == "p" * 64
        assert dataset_store.find_profile(parse_ref("d@1"), "other") is None
        assert dataset_store.referenced_digests() == {"a" * 64, "p" * 64}
        dataset_store.remove_version(parse_ref("d@1"))
        assert dataset_store.referenced_digests() == set()
        with pytest.raises(NotFound):
            dataset_store.find_profile(parse_ref("d@1"), "drift")
        with pytest.raises(NotFound):
            dataset_store.record_profile(parse_ref("d@9"), "drift", "p" * 64)

    def test_listing_and_references(self, dataset_store: DatasetStore) -> None:
        dataset_store.commit_version("b", "1" * 64, files("x"))
        dataset_store.commit_version("a", "2" * 64, files("y"))
        dataset_store.commit_version("a", "3" * 64, files("z"))
        assert [(v.name, v.version) for v in dataset_store.list_datasets()] == [("a", 2), ("b", 1)]
        assert [v.version for v in dataset_store.list_versions("a")] == [1, 2]
        with pytest.raises(NotFound):
            dataset_store.list_versions("zzz")
        assert dataset_store.referenced_digests() == {"x" * 64, "y" * 64, "z" * 64}
