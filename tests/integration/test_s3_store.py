"""The whole loop with its artifacts on S3 (moto's S3 server on 127.0.0.1).

A dataset, a run artifact and a model package each round-trip through an
``s3://`` artifact store, and garbage collection honours its grace period
there, judging an object's age by the bucket's own listing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.tracking.connection import connect
from mloop.tracking.gc import collect_garbage
from tests.s3_server import S3Bucket


@pytest.fixture
def s3_home(home: Path, s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh MLOOP_HOME whose artifact store is a prefix of a fresh bucket."""
    url = s3_bucket.url("team/artifacts")
    monkeypatch.setenv("MLOOP_ARTIFACTS_URI", url)
    return url


def _keys(bucket: S3Bucket, prefix: str) -> list[str]:
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket=bucket.name, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_dataset_round_trips_through_s3(
    s3_home: str, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    folder = tmp_path / "credit"
    (folder / "part").mkdir(parents=True)
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "part" / "b.csv").write_text("x,y\n3,4\n" * 1000)
    mloop.data.add(folder, name="credit")
    version = mloop.data.get("credit@1")
    assert (version.path / "a.csv").read_text() == "x,y\n1,2\n"
    assert (version.path / "part" / "b.csv").read_text() == "x,y\n3,4\n" * 1000
    keys = _keys(s3_bucket, "team/artifacts/")
    assert any(key.startswith("team/artifacts/packs/") for key in keys)
    assert not any("/tmp/" in key for key in keys)


def test_a_run_artifact_round_trips_through_s3(
    s3_home: str, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(np.random.default_rng(0).bytes(3 << 20))
    with mloop.start_run() as run:
        mloop.log_artifact(weights)
        mloop.log_text("hello", "notes/readme.txt")
    out = Path(mloop.Client().download_artifacts(run.info.run_id, dst_path=tmp_path / "out"))
    assert (out / "weights.bin").read_bytes() == weights.read_bytes()
    assert (out / "notes" / "readme.txt").read_text() == "hello"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert f"team/artifacts/objects/{digest[:2]}/{digest[2:]}" in _keys(s3_bucket, "team/")


def test_a_model_package_round_trips_through_s3(s3_home: str) -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    labels = (frame.a + frame.b > 0).astype(int)
    model = LogisticRegression().fit(frame, labels)
    with mloop.start_run():
        info = mloop.models.log_model(
            model, "model", input_example=frame[:5], registered_model_name="s3-credit"
        )
    loaded = mloop.models.load("models:/s3-credit/1")
    assert list(loaded.predict(frame[:20])) == list(model.predict(frame[:20]))
    assert mloop.models.load(info.model_uri).predict(frame[:3]) is not None


def test_gc_keeps_young_unreferenced_objects_on_s3(s3_home: str, tmp_path: Path) -> None:
    with mloop.start_run():
        mloop.log_text("kept", "kept.txt")
    backend = connect(mloop.Client().settings)
    stray = backend.content.put_bytes(b"nothing references this")
    report = collect_garbage(backend.stores, backend.content, grace_seconds=3600)
    assert report.deleted_objects == []  # young: a writer may be about to reference it
    assert backend.content.exists(stray)
    report = collect_garbage(backend.stores, backend.content, grace_seconds=0)
    assert report.deleted_objects == [stray]
    assert not backend.content.exists(stray)
    kept = hashlib.sha256(b"kept").hexdigest()
    assert backend.content.get_bytes(kept) == b"kept"
