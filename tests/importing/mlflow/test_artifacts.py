from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.errors import InvalidInput
from mloop.importing.mlflow.artifacts import ArtifactFile, ArtifactReader, local_path, proxy_path
from mloop.importing.mlflow.http import MlflowHttp


def test_a_local_folder_is_listed_and_read_in_place(tmp_path: Path) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.csv").write_text("x\n")
    (tmp_path / "notes.txt").write_text("hi")
    reader = ArtifactReader()
    for uri in (str(tmp_path), tmp_path.as_uri()):
        assert reader.list_files(uri) == [
            ArtifactFile("notes.txt", 2),
            ArtifactFile("plots/a.csv", 2),
        ]
    assert (
        reader.fetch(tmp_path.as_uri(), "plots/a.csv", tmp_path / "x") == tmp_path / "plots/a.csv"
    )


def test_a_missing_or_absent_location_has_no_files(tmp_path: Path) -> None:
    reader = ArtifactReader()
    assert reader.list_files(str(tmp_path / "none")) == []
    assert reader.list_files("") == []


def test_cloud_storage_is_refused_with_what_to_do() -> None:
    with pytest.raises(InvalidInput, match=r"in s3: storage.*--serve-artifacts"):
        ArtifactReader().check("s3://bucket/1/abc/artifacts")


def test_proxied_artifacts_need_a_server() -> None:
    with pytest.raises(InvalidInput, match="--server http://HOST:PORT"):
        ArtifactReader().check("mlflow-artifacts:/1/abc/artifacts")


def test_uris_to_paths() -> None:
    assert local_path("file:///tmp/m%20l/x") == Path("/tmp/m l/x")
    assert local_path("relative/mlruns") == Path("relative/mlruns")
    assert proxy_path("mlflow-artifacts:/1/abc/artifacts") == "1/abc/artifacts"


class Listing(http.server.BaseHTTPRequestHandler):
    """An artifact proxy listing one folder: a file, a sub-folder, and a name out of it."""

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if self.path.startswith("/api/2.0/mlflow-artifacts/artifacts/"):
            body = b"content"
        else:
            folder = query["path"][0]
            if folder.endswith("/sub"):
                files = [{"path": "deep.txt", "is_dir": False, "file_size": 7}]
            elif folder.endswith("/evil"):
                files = [{"path": "..", "is_dir": True}]
            else:
                files = [
                    {"path": "a.txt", "is_dir": False, "file_size": 7},
                    {"path": "sub", "is_dir": True},
                ]
            body = json.dumps({"files": files}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def proxy() -> Iterator[MlflowHttp]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listing)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield MlflowHttp(f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_proxied_folder_is_listed_recursively_and_downloaded(
    proxy: MlflowHttp, tmp_path: Path
) -> None:
    reader = ArtifactReader(proxy)
    uri = "mlflow-artifacts:/1/abc/artifacts"
    assert reader.list_files(uri) == [ArtifactFile("a.txt", 7), ArtifactFile("sub/deep.txt", 7)]
    fetched = reader.fetch(uri, "sub/deep.txt", tmp_path)
    assert fetched == tmp_path / "sub" / "deep.txt"
    assert fetched.read_bytes() == b"content"


def test_a_name_out_of_the_folder_is_refused(proxy: MlflowHttp) -> None:
    with pytest.raises(InvalidInput, match=r"listed an artifact named '\.\.'"):
        ArtifactReader(proxy).list_files("mlflow-artifacts:/1/evil")
