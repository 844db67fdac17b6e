from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.artifacts import reading
from mloop.artifacts.cas import CHUNK_SIZE, ContentStore, StoredObject, hash_file, object_key
from mloop.errors import IntegrityError, InvalidInput, NotFound


def _memory_root() -> str:
    return f"memory://cas-test-{uuid.uuid4().hex}"


def _forget_memory_root(root: str) -> None:
    fs = fsspec.filesystem("memory")
    path = root.removeprefix("memory://")
    if fs.exists(path):
        fs.rm(path, recursive=True)


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ContentStore]:
    if request.param == "local":
        yield ContentStore(str(tmp_path / "cas"))
        return
    root = _memory_root()
    yield ContentStore(root)
    _forget_memory_root(root)


@pytest.fixture
def local_store(tmp_path: Path) -> ContentStore:
    return ContentStore(str(tmp_path / "cas"))


@pytest.fixture(scope="module")
def shared_memory_store() -> Iterator[ContentStore]:
    root = _memory_root()
    yield ContentStore(root)
    _forget_memory_root(root)


def corrupt(path: str) -> None:
    """Flip the last byte of an object file in place, keeping its size."""
    with open(path, "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0xFF]))


def drain(reader: reading.VerifyingReader, size: int) -> None:
    while reader.read(size):
        pass


def digests(store: ContentStore) -> set[str]:
    return {o.digest for o in store.iter_objects()}


# -- round trips -----------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"hello", bytes(range(256)) * 10])
def test_bytes_round_trip(store: ContentStore, data: bytes) -> None:
    digest = store.put_bytes(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.exists(digest)
    assert store.get_bytes(digest) == data


def test_file_round_trip(store: ContentStore, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights" * 100)
    digest, size = store.put_file(source)
    assert (digest, size) == (hashlib.sha256(b"weights" * 100).hexdigest(), 700)
    target = tmp_path / "out" / "deep" / "model.bin"
    store.get_file(digest, target)
    assert target.read_bytes() == source.read_bytes()


def test_open_streams_in_pieces(store: ContentStore) -> None:
    data = b"0123456789" * 50
    digest = store.put_bytes(data)
    with store.open(digest) as reader:
        pieces = list(iter(lambda: reader.read(64), b""))
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) == 64


def test_local_object_layout(local_store: ContentStore, tmp_path: Path) -> None:
    digest = local_store.put_bytes(b"layout")
    expected = tmp_path / "cas" / "objects" / digest[:2] / digest[2:]
    assert local_store.location(digest) == str(expected)
    assert expected.read_bytes() == b"layout"


def test_file_url_root_is_local(tmp_path: Path) -> None:
    store = ContentStore(f"file://{tmp_path}/cas")
    digest = store.put_bytes(b"via url")
    assert (tmp_path / "cas" / "objects" / digest[:2] / digest[2:]).read_bytes() == b"via url"


def test_identical_content_is_stored_once(store: ContentStore, tmp_path: Path) -> None:
    source = tmp_path / "same.txt"
    source.write_bytes(b"same content")
    first = store.put_bytes(b"same content")
    second = store.put_bytes(b"same content")
    third, _ = store.put_file(source)
    other = store.put_bytes(b"other content")
    assert first == second == third
    assert sorted(o.digest for o in store.iter_objects()) == sorted({first, other})


def test_put_of_existing_local_object_restarts_its_grace_period(
    local_store: ContentStore,
) -> None:
    digest = local_store.put_bytes(b"touch me")
    path = local_store.location(digest)
    os.utime(path, (0, 0))
    local_store.put_bytes(b"touch me")
    assert os.stat(path).st_mtime > time.time() - 60


def test_large_file_streams_through_get_file(
    store: ContentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = random.Random(0).randbytes(3 * CHUNK_SIZE + 12345)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    digest, size = store.put_file(source)
    assert size == len(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert hash_file(source) == (digest, size)
    assert [o.size for o in store.iter_objects()] == [len(data)]

    sizes: list[int] = []
    original = reading.VerifyingReader.read

    def spy(self: reading.VerifyingReader, size: int = -1) -> bytes:
        sizes.append(size)
        return original(self, size)

    monkeypatch.setattr(reading.VerifyingReader, "read", spy)
    target = tmp_path / "copy.bin"
    store.get_file(digest, target)
    assert target.read_bytes() == data
    # Streamed in fixed-size chunks, never read whole.
    assert set(sizes) == {CHUNK_SIZE}
    assert len(sizes) >= 4


# -- integrity ---------------------------------------------------------------


@pytest.fixture
def corrupted(local_store: ContentStore) -> tuple[ContentStore, str]:
    digest = local_store.put_bytes(b"precious bytes" * 1000)
    corrupt(local_store.location(digest))
    return local_store, digest


def test_corrupted_object_get_bytes(corrupted: tuple[ContentStore, str]) -> None:
    store, digest = corrupted
    with pytest.raises(IntegrityError) as info:
        store.get_bytes(digest)
    assert store.location(digest) in str(info.value)
    assert digest in str(info.value)


def test_corrupted_object_open_read(corrupted: tuple[ContentStore, str]) -> None:
    store, digest = corrupted
    with (
        pytest.raises(IntegrityError, match=re.escape(store.location(digest))),
        store.open(digest) as reader,
    ):
        reader.read()


def test_corrupted_object_chunked_reads_raise_at_the_end(
    corrupted: tuple[ContentStore, str],
) -> None:
    store, digest = corrupted
    with store.open(digest) as reader:
        assert reader.read(100)
        with pytest.raises(IntegrityError):
            drain(reader, 100)


def test_corrupted_object_get_file_leaves_nothing(
    corrupted: tuple[ContentStore, str], tmp_path: Path
) -> None:
    store, digest = corrupted
    out = tmp_path / "out"
    with pytest.raises(IntegrityError, match=re.escape(store.location(digest))):
        store.get_file(digest, out / "restored.bin")
    assert list(out.iterdir()) == []


def test_corrupted_object_get_file_keeps_existing_destination(
    corrupted: tuple[ContentStore, str], tmp_path: Path
) -> None:
    store, digest = corrupted
    target = tmp_path / "restored.bin"
    target.write_bytes(b"old")
    with pytest.raises(IntegrityError):
        store.get_file(digest, target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cas", "restored.bin"]


def test_corrupted_large_object_get_file_leaves_nothing(
    local_store: ContentStore, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(random.Random(1).randbytes(2 * CHUNK_SIZE + 7))
    digest, _ = local_store.put_file(source)
    corrupt(local_store.location(digest))
    out = tmp_path / "out"
    with pytest.raises(IntegrityError):
        local_store.get_file(digest, out / "big.bin")
    assert list(out.iterdir()) == []


def test_corrupted_memory_object(tmp_path: Path) -> None:
    root = _memory_root()
    try:
        store = ContentStore(root)
        digest = store.put_bytes(b"in memory")
        store.objects.put_bytes(object_key(digest), b"in memorY")
        with pytest.raises(IntegrityError, match=re.escape(store.location(digest))):
            store.get_bytes(digest)
    finally:
        _forget_memory_root(root)


def test_read_zero_bytes_is_not_end_of_file(store: ContentStore) -> None:
    digest = store.put_bytes(b"sound object")
    with store.open(digest) as reader:
        assert reader.read(0) == b""
        assert reader.read() == b"sound object"


def test_read_none_reads_to_the_end(store: ContentStore) -> None:
    digest = store.put_bytes(b"sound object")
    with store.open(digest) as reader:
        assert reader.read(None) == b"sound object"  # type: ignore[arg-type]


def test_deleting_a_corrupted_object_and_logging_again_repairs_it(
    corrupted: tuple[ContentStore, str],
) -> None:
    store, digest = corrupted
    with pytest.raises(IntegrityError, match="delete that file and store the same content again"):
        store.get_bytes(digest)
    os.unlink(store.location(digest))
    store.put_bytes(b"precious bytes" * 1000)
    assert store.get_bytes(digest) == b"precious bytes" * 1000


# -- errors ------------------------------------------------------------------


def test_missing_object(store: ContentStore, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(digest)
    with pytest.raises(NotFound, match=digest):
        store.get_bytes(digest)
    with pytest.raises(NotFound), store.open(digest):
        pass
    out = tmp_path / "out"
    with pytest.raises(NotFound):
        store.get_file(digest, out / "x.bin")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "digest",
    [
        "",
        "abc",
        "A" * 64,
        "0" * 63,
        "0" * 65,
        "g" * 64,
        "../" + "0" * 61,
        " " + "0" * 63,
    ],
)
def test_bad_digest(store: ContentStore, tmp_path: Path, digest: str) -> None:
    with pytest.raises(InvalidInput, match="SHA-256"):
        store.get_bytes(digest)
    with pytest.raises(InvalidInput):
        store.exists(digest)
    with pytest.raises(InvalidInput):
        store.location(digest)
    with pytest.raises(InvalidInput):
        store.delete(digest)
    with pytest.raises(InvalidInput), store.open(digest):
        pass
    with pytest.raises(InvalidInput):
        store.get_file(digest, tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_put_file_of_missing_path(store: ContentStore, tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(NotFound, match=r"nope\.txt"):
        store.put_file(missing)


def test_put_file_of_a_directory(store: ContentStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        store.put_file(tmp_path)


def test_unknown_protocol_root() -> None:
    with pytest.raises(InvalidInput, match="nosuchproto"):
        ContentStore("nosuchproto://x")


@pytest.mark.parametrize(("root", "extra"), [("s3://bucket/a", "s3"), ("gs://bucket/a", "gcs")])
def test_missing_filesystem_names_the_extra(root: str, extra: str) -> None:
    # In a fresh interpreter where the filesystem's package cannot be imported,
    # whether or not this environment has it.
    module = {"s3": "s3fs", "gcs": "gcsfs"}[extra]
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from mloop.artifacts.cas import ContentStore\n"
        f"ContentStore({root!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "MissingExtra" in done.stderr
    assert f"pip install 'mloop[{extra}]'" in done.stderr


# -- atomic writes, listing, deletion -------------------------------------------


def test_no_leftovers_in_tmp_after_puts(store: ContentStore, tmp_path: Path) -> None:
    source = tmp_path / "f.bin"
    source.write_bytes(b"file" * 1000)
    store.put_bytes(b"a")
    store.put_bytes(b"a")
    store.put_file(source)
    store.put_file(source)
    assert list(store.iter_temp()) == []
    assert list(store.objects.list("tmp/")) == []


def test_iter_objects_of_an_empty_store(store: ContentStore) -> None:
    assert list(store.iter_objects()) == []
    assert list(store.iter_temp()) == []


def test_iter_objects(store: ContentStore) -> None:
    before = time.time() - 60
    a = store.put_bytes(b"a")
    bc = store.put_bytes(b"bc")
    objects = sorted(store.iter_objects(), key=lambda o: o.size)
    assert [(o.digest, o.size) for o in objects] == [(a, 1), (bc, 2)]
    for stored in objects:
        assert isinstance(stored, StoredObject)
        assert before < stored.modified < time.time() + 60


def test_iter_objects_skips_foreign_files(local_store: ContentStore, tmp_path: Path) -> None:
    digest = local_store.put_bytes(b"real")
    (tmp_path / "cas" / "objects" / "README").write_text("not an object")
    assert digests(local_store) == {digest}


def test_iter_temp_and_delete_path(store: ContentStore) -> None:
    store.put_bytes(b"creates tmp/")
    store.objects.put_bytes("tmp/interrupted-upload", b"half")
    temps = list(store.iter_temp())
    assert [path.rstrip("/").rsplit("/", 1)[-1] for path, _ in temps] == ["interrupted-upload"]
    assert isinstance(temps[0][1], float)
    store.delete_path(temps[0][0])
    assert list(store.iter_temp()) == []
    store.delete_path(temps[0][0])  # already gone: no error


def test_delete(store: ContentStore) -> None:
    keep = store.put_bytes(b"keep")
    drop = store.put_bytes(b"drop")
    store.delete(drop)
    assert not store.exists(drop)
    assert store.exists(keep)
    assert digests(store) == {keep}
    with pytest.raises(NotFound):
        store.get_bytes(drop)
    store.delete(drop)  # already gone: no error


def test_hash_file(tmp_path: Path) -> None:
    data = random.Random(2).randbytes(CHUNK_SIZE + 1)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert hash_file(path) == (hashlib.sha256(data).hexdigest(), len(data))


# -- properties ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=4096))
def test_round_trip_property(shared_memory_store: ContentStore, data: bytes) -> None:
    digest = shared_memory_store.put_bytes(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert shared_memory_store.get_bytes(digest) == data
    assert shared_memory_store.put_bytes(data) == digest


def test_likely_new_reads_once_and_still_deduplicates(tmp_path: Path) -> None:
    store = ContentStore(str(tmp_path / "cas"))
    source = tmp_path / "f.bin"
    source.write_bytes(b"abc" * 1000)
    first = store.put_file(source, likely_new=True)
    assert first == (hashlib.sha256(b"abc" * 1000).hexdigest(), 3000)
    assert store.put_file(source, likely_new=True) == first  # the existing object is kept
    assert list((tmp_path / "cas" / "tmp").iterdir()) == []
    assert store.get_bytes(first[0]) == b"abc" * 1000


def test_local_temp_dir_is_the_stores_own_tmp_folder_when_local(tmp_path: Path) -> None:
    assert ContentStore(str(tmp_path / "s")).local_temp_dir() == tmp_path / "s" / "tmp"
    assert ContentStore(f"memory://temp-dir-{tmp_path.name}").local_temp_dir() is None


def test_copy_intact_reads_the_named_copy_only(tmp_path: Path) -> None:
    store = ContentStore(str(tmp_path / "s"))
    digest = store.put_bytes(b"one copy")
    assert store.copy_intact(digest)
    assert not store.copy_intact(digest, "no-such-pack")
    Path(store.location(digest)).write_bytes(b"two copy")
    assert not store.copy_intact(digest)
