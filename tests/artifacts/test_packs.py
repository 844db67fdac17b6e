"""Small objects stored in batches live in pack files; reads find them wherever they are."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from mloop.artifacts import batch as batch_module
from mloop.artifacts import cas
from mloop.artifacts.cas import PACK_OBJECT_LIMIT, ContentStore
from mloop.artifacts.packs import decode_index, encode_index
from mloop.errors import IntegrityError, NotFound


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ContentStore]:
    if request.param == "local":
        yield ContentStore(str(tmp_path / "cas"))
        return
    root = f"memory://packs-test-{uuid.uuid4().hex}"
    yield ContentStore(root)
    memory = fsspec.filesystem("memory")
    if memory.exists(root.removeprefix("memory://")):
        memory.rm(root.removeprefix("memory://"), recursive=True)


@pytest.fixture
def local_store(tmp_path: Path) -> ContentStore:
    return ContentStore(str(tmp_path / "cas"))


def write_files(folder: Path, contents: dict[str, bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in contents.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def pack_files(store: ContentStore) -> list[str]:
    return sorted(info.key.rsplit("/", 1)[-1] for info in store.objects.list("packs/"))


# -- the index format ------------------------------------------------------------


def test_index_round_trip() -> None:
    entries = [(sha(b"a"), 0, 1), (sha(b"bb"), 1, 2)]
    decoded = decode_index(encode_index(entries), "x.idx")
    assert [(e.digest, e.offset, e.size) for e in decoded] == entries
    assert decode_index(encode_index([]), "empty.idx") == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],  # truncated
        lambda data: b"garbage" + data[7:],  # not an index
        lambda data: data[:30] + bytes([data[30] ^ 1]) + data[31:],  # a flipped bit
        lambda data: b"",
    ],
)
def test_damaged_index_is_refused(damage: object) -> None:
    data = encode_index([(sha(b"a"), 0, 1)])
    with pytest.raises(IntegrityError, match=r"pack index where\.idx is damaged"):
        decode_index(damage(data), "where.idx")  # type: ignore[operator]


# -- storing in a batch -------------------------------------------------------------


def test_small_files_share_one_pack(store: ContentStore, tmp_path: Path) -> None:
    contents = {f"f{i}.bin": f"content {i}".encode() for i in range(50)}
    paths = write_files(tmp_path / "src", contents)
    with store.batch() as batch:
        results = [batch.put_file(p) for p in paths]
    assert results == [(sha(data), len(data)) for data in contents.values()]
    assert len([n for n in pack_files(store) if n.endswith(".pack")]) == 1
    for data in contents.values():
        assert store.get_bytes(sha(data)) == data
        assert store.exists(sha(data))
    stored = list(store.iter_objects())
    assert sorted(o.digest for o in stored) == sorted(sha(d) for d in contents.values())
    assert {o.pack for o in stored} == {pack_files(store)[0].removesuffix(".idx")}
    assert list(store.iter_temp()) == []


def test_large_files_in_a_batch_get_their_own_object(local_store: ContentStore) -> None:
    big = os.urandom(PACK_OBJECT_LIMIT + 1)
    with local_store.batch() as batch:
        digest = batch.put_bytes(big)
        small = batch.put_bytes(b"small")
    assert Path(local_store.location(digest)).read_bytes() == big  # a file of its own
    assert not Path(local_store.location(small)).exists()  # packed
    assert local_store.get_bytes(small) == b"small"


def test_packed_objects_stream_to_files(store: ContentStore, tmp_path: Path) -> None:
    data = os.urandom(5000)
    with store.batch() as batch:
        digest = batch.put_bytes(data)
    store.get_file(digest, tmp_path / "out" / "copy.bin")
    assert (tmp_path / "out" / "copy.bin").read_bytes() == data
    with store.open(digest) as reader:
        assert reader.read(10) + reader.read() == data


def test_content_already_stored_is_not_packed_again(store: ContentStore) -> None:
    loose = store.put_bytes(b"already here")
    with store.batch() as batch:
        batch.put_bytes(b"already here")
        batch.put_bytes(b"new")
        batch.put_bytes(b"new")  # twice in one batch: once in the pack
    with store.batch() as batch:
        batch.put_bytes(b"new")  # in an earlier pack: nothing written
    objects = sorted((o.digest, o.pack is None) for o in store.iter_objects())
    assert objects == sorted([(loose, True), (sha(b"new"), False)])
    assert len([n for n in pack_files(store) if n.endswith(".pack")]) == 1


def test_an_empty_batch_writes_nothing(store: ContentStore) -> None:
    with store.batch():
        pass
    assert pack_files(store) == []


def test_a_failed_batch_leaves_nothing_behind(store: ContentStore) -> None:
    with pytest.raises(RuntimeError, match="interrupted"), store.batch() as batch:
        digest = batch.put_bytes(b"half way")
        raise RuntimeError("interrupted")
    assert not store.exists(digest)
    assert pack_files(store) == []
    assert list(store.iter_temp()) == []


def test_missing_source_file(store: ContentStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"), store.batch() as batch:
        batch.put_file(tmp_path / "absent.bin")
    with pytest.raises(NotFound, match="no such file"), store.batch() as batch:
        batch.put_file(tmp_path)


def test_a_full_pack_is_finished_and_a_new_one_started(
    local_store: ContentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "PACK_SIZE_LIMIT", 100)
    blobs = [bytes([i]) * 60 for i in range(5)]
    with local_store.batch() as batch:
        for blob in blobs:
            batch.put_bytes(blob)
    assert len([n for n in pack_files(local_store) if n.endswith(".pack")]) == 3
    assert [local_store.get_bytes(sha(b)) for b in blobs] == blobs


def test_a_batch_is_safe_from_many_threads(local_store: ContentStore) -> None:
    blobs = [os.urandom(100) for _ in range(400)]

    def work(part: list[bytes]) -> None:
        for blob in part:
            batch.put_bytes(blob)
            batch.put_bytes(blobs[0])  # the same content from every thread

    with local_store.batch() as batch:
        threads = [threading.Thread(target=work, args=(blobs[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(o.digest for o in local_store.iter_objects()) == sorted(sha(b) for b in blobs)
    assert all(local_store.get_bytes(sha(b)) == b for b in blobs)


def test_another_store_instance_finds_new_packs(tmp_path: Path) -> None:
    reader = ContentStore(str(tmp_path / "cas"))
    assert not reader.exists(sha(b"later"))  # lists the (empty) packs once
    writer = ContentStore(str(tmp_path / "cas"))
    with writer.batch() as batch:
        batch.put_bytes(b"later")
    assert reader.get_bytes(sha(b"later")) == b"later"  # a miss reads the new index


def test_claiming_a_packed_object_touches_its_pack(local_store: ContentStore) -> None:
    with local_store.batch() as batch:
        digest = batch.put_bytes(b"claimed")
    pack = Path(local_store.pack_path(pack_files(local_store)[0].removesuffix(".idx"), ".pack"))
    os.utime(pack, (0, 0))
    fresh = ContentStore(local_store.root)  # another process: it has not touched the pack yet
    assert fresh.claim(digest)
    assert pack.stat().st_mtime > time.time() - 60
    assert not fresh.claim(sha(b"never stored"))


# -- integrity ---------------------------------------------------------------------


def test_a_corrupted_packed_object_is_detected(local_store: ContentStore, tmp_path: Path) -> None:
    with local_store.batch() as batch:
        first = batch.put_bytes(b"first object")
        second = batch.put_bytes(b"second object")
    pack = Path(local_store.location("0" * 64)).parents[2] / "packs" / pack_files(local_store)[1]
    assert pack.suffix == ".pack"
    raw = bytearray(pack.read_bytes())
    raw[-1] ^= 0xFF  # inside the second object
    pack.write_bytes(bytes(raw))
    assert local_store.get_bytes(first) == b"first object"
    with pytest.raises(IntegrityError, match=re.escape(str(pack)) + r".*restore that pack"):
        local_store.get_bytes(second)
    target = tmp_path / "out.bin"
    with pytest.raises(IntegrityError):
        local_store.get_file(second, target)
    assert not target.exists()


def test_a_truncated_pack_is_detected(local_store: ContentStore) -> None:
    with local_store.batch() as batch:
        digest = batch.put_bytes(b"will be cut short")
    pack = Path(local_store.location("0" * 64)).parents[2] / "packs" / pack_files(local_store)[1]
    pack.write_bytes(pack.read_bytes()[:5])
    with pytest.raises(IntegrityError, match="is corrupted"):
        local_store.get_bytes(digest)


# -- garbage collection support --------------------------------------------------------


def test_rewrite_pack_keeps_only_what_is_asked(store: ContentStore) -> None:
    with store.batch() as batch:
        keep = batch.put_bytes(b"keep me")
        drop = batch.put_bytes(b"drop me")
    (old,) = {o.pack for o in store.iter_objects()}
    assert old is not None
    store.rewrite_pack(old, {keep})
    assert store.get_bytes(keep) == b"keep me"
    assert not store.exists(drop)
    assert [o.digest for o in store.iter_objects()] == [keep]
    assert old not in {o.pack for o in store.iter_objects()}


def test_rewrite_pack_with_nothing_to_keep_removes_it(store: ContentStore) -> None:
    with store.batch() as batch:
        drop = batch.put_bytes(b"drop me")
    (old,) = {o.pack for o in store.iter_objects()}
    assert old is not None
    store.rewrite_pack(old, set())
    assert pack_files(store) == []
    with pytest.raises(NotFound):
        store.get_bytes(drop)


def test_rewrite_pack_refuses_to_copy_corrupted_objects(local_store: ContentStore) -> None:
    with local_store.batch() as batch:
        keep = batch.put_bytes(b"keep me")
    (name,) = {o.pack for o in local_store.iter_objects()}
    assert name is not None
    pack = Path(local_store.pack_path(name, ".pack"))
    pack.write_bytes(b"KEEP ME")
    with pytest.raises(IntegrityError, match="is corrupted"):
        local_store.rewrite_pack(name, {keep})
    assert pack.exists()  # nothing was removed


def test_a_pack_without_its_index_is_a_leftover(local_store: ContentStore) -> None:
    with local_store.batch() as batch:
        digest = batch.put_bytes(b"orphaned")
    index = next(Path(local_store.pack_path("x", ".idx")).parent.glob("*.idx"))
    index.unlink()  # as if the write stopped between the pack and its index
    assert not ContentStore(local_store.root).exists(digest)
    leftovers = [path for path, _ in local_store.iter_temp()]
    assert leftovers == [str(index.with_suffix(".pack"))]


# -- large files: hashed while the kernel copies ------------------------------------------


def test_large_local_files_are_hashed_while_copied(
    local_store: ContentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cas, "PARALLEL_COPY_SIZE", 1000)
    data = os.urandom(300_000)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    for likely_new in (True, False):
        assert local_store.put_file(source, likely_new=likely_new) == (sha(data), len(data))
    assert Path(local_store.location(sha(data))).read_bytes() == data
    assert list(local_store.iter_temp()) == []


def test_a_file_changed_during_the_copy_is_refused(
    local_store: ContentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cas, "PARALLEL_COPY_SIZE", 1000)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(300_000))
    real_copy = shutil.copyfile

    def copy_then_append(src: str, dst: str) -> str:
        result = real_copy(src, dst)
        with open(src, "ab") as handle:
            handle.write(b"appended while copying")
        return result

    monkeypatch.setattr(shutil, "copyfile", copy_then_append)
    with pytest.raises(IntegrityError, match="changed while it was being stored"):
        local_store.put_file(source, likely_new=True)
    assert list(local_store.iter_objects()) == []
    assert list(local_store.iter_temp()) == []
