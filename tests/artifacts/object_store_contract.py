"""The object-store contract: one suite every backend must pass (local, memory, S3).

A backend's test module subclasses :class:`ObjectStoreContract` and gives it an
``objects`` fixture (an empty store) and a ``root`` fixture (the URL a content
store opens on the same place). The suite checks the promises of
:class:`~mloop.artifacts.objects.base.ObjectStore`, then the content store and
its packs on top of the backend.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from mloop.artifacts.cas import ContentStore, object_key
from mloop.artifacts.objects import remote
from mloop.artifacts.objects.base import ObjectStore
from mloop.errors import IntegrityError, NotFound


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ObjectStoreContract:
    __test__ = False

    # -- the object store -------------------------------------------------------

    def test_put_and_get(self, objects: ObjectStore) -> None:
        objects.put_bytes("objects/ab/cd", b"hello")
        assert objects.get_bytes("objects/ab/cd") == b"hello"
        assert objects.exists("objects/ab/cd")
        info = objects.info("objects/ab/cd")
        assert info is not None
        assert (info.key, info.size) == ("objects/ab/cd", 5)
        assert abs(info.modified - time.time()) < 120

    def test_empty_object(self, objects: ObjectStore) -> None:
        objects.put_bytes("empty", b"")
        assert objects.get_bytes("empty") == b""
        assert objects.exists("empty")

    def test_put_replaces(self, objects: ObjectStore) -> None:
        objects.put_bytes("k", b"first")
        objects.put_bytes("k", b"second")
        assert objects.get_bytes("k") == b"second"

    def test_missing_key(self, objects: ObjectStore) -> None:
        assert not objects.exists("no/such")
        assert objects.info("no/such") is None
        assert not objects.touch("no/such")
        objects.delete("no/such")  # nothing to do: no error
        with pytest.raises(FileNotFoundError):
            objects.get_bytes("no/such")
        with pytest.raises(FileNotFoundError):
            objects.open("no/such")
        with pytest.raises(FileNotFoundError):
            objects.read_range("no/such", 0, 1)

    def test_open_streams_and_read_range(self, objects: ObjectStore) -> None:
        data = bytes(range(256)) * 40
        objects.put_bytes("r", data)
        with objects.open("r") as reader:
            pieces = list(iter(lambda: reader.read(1000), b""))
        assert b"".join(pieces) == data
        assert objects.read_range("r", 10, 20) == data[10:30]
        assert objects.read_range("r", len(data) - 5, 20) == data[-5:]

    def test_a_write_is_invisible_until_committed(self, objects: ObjectStore) -> None:
        writer = objects.begin("packs/p.pack")
        writer.write(b"part one, ")
        writer.write(b"part two")
        assert not objects.exists("packs/p.pack")
        assert [i.key for i in objects.list("packs/")] == []
        writer.commit("packs/p.pack")
        assert objects.get_bytes("packs/p.pack") == b"part one, part two"

    def test_a_write_whose_key_comes_last(self, objects: ObjectStore, tmp_path: Path) -> None:
        source = tmp_path / "f.bin"
        source.write_bytes(b"from a file")
        writer = objects.begin()
        writer.write_file(source)
        writer.write(b"; and more")
        writer.commit("objects/ef/01")
        assert objects.get_bytes("objects/ef/01") == b"from a file; and more"

    def test_a_large_file_streams_in(self, objects: ObjectStore, tmp_path: Path) -> None:
        data = os.urandom(9 << 20)  # more than one upload part, more than a spool in memory
        source = tmp_path / "big.bin"
        source.write_bytes(data)
        for key in ("big/known", None):
            writer = objects.begin(key)
            writer.write_file(source)
            writer.commit(key or "big/later")
        assert sha(objects.get_bytes("big/known")) == sha(data)
        assert sha(objects.get_bytes("big/later")) == sha(data)

    def test_an_aborted_write_leaves_nothing(self, objects: ObjectStore, tmp_path: Path) -> None:
        for key in ("objects/aa/bb", None):
            writer = objects.begin(key)
            writer.write(b"never seen")
            writer.abort()
            writer.abort()  # twice: harmless
        assert not objects.exists("objects/aa/bb")
        assert list(objects.list("objects/")) == []
        assert list(objects.list("tmp/")) == []

    def test_commit_under_another_key_is_refused(self, objects: ObjectStore) -> None:
        writer = objects.begin("a")
        writer.write(b"x")
        with pytest.raises(ValueError, match="committed as"):
            writer.commit("b")
        writer.abort()
        assert not objects.exists("a")
        assert not objects.exists("b")

    def test_list_under_a_prefix(self, objects: ObjectStore) -> None:
        objects.put_bytes("objects/ab/1", b"1")
        objects.put_bytes("objects/ab/22", b"22")
        objects.put_bytes("objects/cd/333", b"333")
        objects.put_bytes("objectsX/ab/4", b"4")
        found = sorted((i.key, i.size) for i in objects.list("objects/"))
        assert found == [("objects/ab/1", 1), ("objects/ab/22", 2), ("objects/cd/333", 3)]
        assert [i.key for i in objects.list("objects/cd/")] == ["objects/cd/333"]
        assert list(objects.list("nothing/")) == []
        for info in objects.list("objects/"):
            assert abs(info.modified - time.time()) < 120

    def test_touch_restarts_the_age(
        self, objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A remote store renews only objects older than RENEW_AFTER: make this one count.
        monkeypatch.setattr(remote, "RENEW_AFTER", 0.0)
        objects.put_bytes("t", b"aging")
        before = objects.info("t")
        assert before is not None
        time.sleep(1.1)  # object stores keep whole seconds
        assert objects.touch("t")
        after = objects.info("t")
        assert after is not None
        assert after.modified > before.modified
        (listed,) = [i for i in objects.list("") if i.key == "t"]
        assert listed.modified > before.modified
        assert objects.get_bytes("t") == b"aging"

    def test_delete(self, objects: ObjectStore) -> None:
        objects.put_bytes("d/keep", b"k")
        objects.put_bytes("d/drop", b"d")
        objects.delete("d/drop")
        assert not objects.exists("d/drop")
        assert [i.key for i in objects.list("d/")] == ["d/keep"]

    def test_location_names_the_key(self, objects: ObjectStore) -> None:
        assert objects.location("objects/ab/cd").endswith("/objects/ab/cd")

    # -- the content store on it ---------------------------------------------------

    def test_content_round_trip(self, root: str, tmp_path: Path) -> None:
        store = ContentStore(root)
        digest = store.put_bytes(b"content")
        assert store.get_bytes(digest) == b"content"
        assert store.put_bytes(b"content") == digest
        source = tmp_path / "model.bin"
        source.write_bytes(os.urandom(3 << 20))
        for likely_new in (False, True):
            assert store.put_file(source, likely_new=likely_new)[0] == sha(source.read_bytes())
        store.get_file(sha(source.read_bytes()), tmp_path / "out" / "model.bin")
        assert (tmp_path / "out" / "model.bin").read_bytes() == source.read_bytes()
        assert sorted(o.digest for o in store.iter_objects()) == sorted(
            [digest, sha(source.read_bytes())]
        )
        assert list(store.iter_temp()) == []

    def test_content_reads_verify_the_hash(self, root: str, objects: ObjectStore) -> None:
        store = ContentStore(root)
        digest = store.put_bytes(b"precious")
        objects.put_bytes(object_key(digest), b"damaged!")
        with pytest.raises(IntegrityError, match=digest):
            store.get_bytes(digest)
        with pytest.raises(NotFound):
            store.get_bytes(sha(b"never stored"))

    def test_content_packs(self, root: str) -> None:
        store = ContentStore(root)
        blobs = [f"small {i}".encode() for i in range(30)]
        with store.batch() as batch:
            digests = [batch.put_bytes(b) for b in blobs]
        assert len(store.pack_names()) == 1
        other = ContentStore(root)  # another process finds the new pack
        assert [other.get_bytes(d) for d in digests] == blobs
        (name,) = store.pack_names()
        store.rewrite_pack(name, set(digests[:3]))
        assert sorted(o.digest for o in other.iter_objects()) == sorted(digests[:3])
        assert other.get_bytes(digests[0]) == blobs[0]

    def test_content_claim_restarts_the_grace_period(
        self, root: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(remote, "RENEW_AFTER", 0.0)  # as if claimed long after its write
        store = ContentStore(root)
        digest = store.put_bytes(b"claimed again")
        (first,) = store.iter_objects()
        time.sleep(1.1)
        assert store.claim(digest)
        (again,) = store.iter_objects()
        assert again.modified > first.modified
        assert not store.claim(sha(b"never stored"))
