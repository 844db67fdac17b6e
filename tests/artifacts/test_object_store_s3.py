"""The object-store contract on S3, for real: moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import pytest

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.objects import remote
from mloop.artifacts.objects.base import ObjectStore
from mloop.artifacts.objects.schemes import open_object_store
from mloop.errors import StoreError
from tests.artifacts.object_store_contract import ObjectStoreContract
from tests.s3_server import S3Bucket


@pytest.fixture
def root(s3_bucket: S3Bucket) -> str:
    return s3_bucket.url("artifacts")


@pytest.fixture
def objects(root: str) -> ObjectStore:
    return open_object_store(root)


class TestS3ObjectStore(ObjectStoreContract):
    __test__ = True


def _keys(bucket: S3Bucket) -> list[str]:
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket=bucket.name)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _uploads(bucket: S3Bucket) -> list[str]:
    import boto3

    found = boto3.client("s3").list_multipart_uploads(Bucket=bucket.name)
    return [upload["Key"] for upload in found.get("Uploads", [])]


_FINAL = re.compile(
    r"^artifacts/(objects/[0-9a-f]{2}/[0-9a-f]{62}|packs/[0-9a-f]{32}\.(pack|idx))$"
)


def test_a_remote_write_never_goes_through_a_temporary_key(
    root: str, s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    looks: list[int] = []
    real_write = remote._StreamWriter.write

    def write_and_look(self: remote._StreamWriter, data: bytes) -> None:
        real_write(self, data)
        seen.extend(_keys(s3_bucket))  # what a reader listing the bucket sees mid-write
        looks.append(len(data))

    monkeypatch.setattr(remote._StreamWriter, "write", write_and_look)
    store = ContentStore(root)
    data = os.urandom(7 << 20)
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    digest, _ = store.put_file(source)
    assert len(looks) >= 7  # the bytes streamed while the bucket was watched
    assert seen == []  # nothing at all appeared before the upload completed
    store.put_file(source, likely_new=True)  # already there: the spooled copy is dropped
    store.put_bytes(b"small")
    with store.batch() as batch:
        for i in range(20):
            batch.put_bytes(f"packed {i}".encode())
    keys = _keys(s3_bucket)
    assert all(_FINAL.match(key) for key in keys), keys
    assert f"artifacts/objects/{digest[:2]}/{digest[2:]}" in keys
    assert _uploads(s3_bucket) == []  # every multipart upload was completed
    assert list(store.iter_temp()) == []


def test_a_failed_stream_leaves_no_object_and_no_upload(
    root: str, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    store = ContentStore(root)
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(6 << 20))
    with pytest.raises(RuntimeError, match="interrupted"), store.batch() as batch:
        batch.put_bytes(b"half a pack")
        raise RuntimeError("interrupted")
    writer = store.objects.begin("objects/ab/" + "c" * 62)
    writer.write_file(source)
    writer.abort()
    assert _keys(s3_bucket) == []
    assert _uploads(s3_bucket) == []


def test_a_missing_bucket_is_a_clear_error_that_names_it(s3_bucket: S3Bucket) -> None:
    store = ContentStore("s3://no-such-bucket-here/artifacts")
    with pytest.raises(StoreError) as info:
        store.put_bytes(b"anything")
    message = str(info.value)
    assert "no-such-bucket-here" in message
    assert "does not exist" in message
    assert s3_bucket.secret not in message
    assert "AWS_ENDPOINT_URL" in message  # says where the settings come from


def test_missing_credentials_are_a_clear_error(
    s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3fs

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3fs.S3FileSystem.clear_instance_cache()
    store = ContentStore(s3_bucket.url("artifacts"))
    with pytest.raises(StoreError, match=s3_bucket.name) as info:
        store.put_bytes(b"anything")
    assert "credentials" in str(info.value).lower()


def test_large_objects_stream_back_verified(root: str, tmp_path: Path) -> None:
    store = ContentStore(root)
    data = os.urandom(5 << 20)
    digest = store.put_bytes(data)
    with store.open(digest) as reader:
        pieces = list(iter(lambda: reader.read(1 << 20), b""))
    assert hashlib.sha256(b"".join(pieces)).hexdigest() == digest
    assert max(len(p) for p in pieces) == 1 << 20


@pytest.mark.parametrize(
    "url", ["s3://AKIAEXAMPLE:sEcReT123@bucket/prefix", "gs://user:sEcReT123@bucket/x"]
)
def test_credentials_in_the_url_are_refused_without_echoing_them(url: str) -> None:
    from mloop.errors import InvalidInput

    with pytest.raises(InvalidInput, match="has credentials in it") as caught:
        open_object_store(url)
    assert "sEcReT123" not in str(caught.value)


def test_a_young_object_is_not_copied_onto_itself_when_reused(root: str) -> None:
    objects = open_object_store(root)
    objects.put_bytes("young", b"fresh")
    before = objects.info("young")
    assert before is not None
    time.sleep(1.1)
    assert objects.touch("young")  # reused within RENEW_AFTER: no CopyObject
    after = objects.info("young")
    assert after is not None and after.modified == before.modified
    assert not objects.touch("gone")
