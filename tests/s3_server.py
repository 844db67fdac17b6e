"""A real S3-protocol server for the tests: moto's standalone server on 127.0.0.1.

The server runs in a thread of the test process on a free port, for the whole
session; each test that needs S3 gets a fresh bucket, and the AWS settings
that point botocore at the server (endpoint, fake credentials, region) are set
for that test only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

_FAKE_KEY = "mloop-test-key"
_FAKE_SECRET = "mloop-test-secret-do-not-echo"


@dataclass(frozen=True)
class S3Server:
    """Where the server listens."""

    endpoint: str


@dataclass(frozen=True)
class S3Bucket:
    """A fresh bucket on the test server, and the secret in effect (to check it is never shown)."""

    endpoint: str
    name: str
    secret: str

    def url(self, prefix: str = "") -> str:
        return f"s3://{self.name}/{prefix}".rstrip("/")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 and a free port, stopped when the session ends."""
    pytest.importorskip("s3fs", reason="the S3 tests need s3fs: pip install 'mloop[s3]'")
    server_module = pytest.importorskip(
        "moto.server", reason="the S3 tests need moto: pip install 'moto[server]'"
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    """A new, empty bucket; botocore pointed at the test server for this test only."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", _FAKE_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", _FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    name = f"mloop-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3")
    client.create_bucket(Bucket=name)
    yield S3Bucket(s3_server.endpoint, name, _FAKE_SECRET)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # its clients hold this test's settings
