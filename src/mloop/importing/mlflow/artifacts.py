"""Reading MLflow artifact folders: local paths, ``file:`` URIs and a server's artifact proxy.

MLflow records where each run's artifacts are (``artifact_uri``) and where a
model version's files are (``storage_location``). Local folders are read in
place; ``mlflow-artifacts:`` URIs are read through the artifact proxy of the
MLflow server given with the import. Any other scheme (``s3://``, ``gs://``…)
is refused with a clear error before the run is written.

Example:
    >>> ArtifactReader().kind("file:///tmp/mlruns/1/abc/artifacts")
    'local'
    >>> ArtifactReader().kind("mlflow-artifacts:/1/abc/artifacts")
    'proxy'
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from pathlib import Path

from mloop.errors import InvalidInput
from mloop.importing.mlflow.http import MlflowHttp
from mloop.masking import mask_uri


@dataclasses.dataclass(frozen=True)
class ArtifactFile:
    """One file of an artifact folder: its path inside the folder and its size in bytes."""

    path: str
    size: int


class ArtifactReader:
    """Lists and fetches the files under an MLflow artifact URI.

    ``server`` reads ``mlflow-artifacts:`` URIs (MLflow's artifact proxy).
    """

    def __init__(self, server: MlflowHttp | None = None) -> None:
        self.server = server

    def kind(self, uri: str) -> str:
        """``"local"``, ``"proxy"`` or ``"none"`` (no artifact location at all).

        Raises:
            InvalidInput: a scheme mloop cannot read, or ``mlflow-artifacts:`` without a server.
        """
        if not uri:
            return "none"
        scheme = urllib.parse.urlsplit(uri).scheme
        if scheme in {"", "file"} or (len(scheme) == 1 and uri[1:2] == ":"):  # C:\ paths
            return "local"
        if scheme == "mlflow-artifacts":
            return "proxy"
        raise InvalidInput(
            f"artifacts at {mask_uri(uri)!r} are in {scheme}: storage, which the import does "
            "not read; copy them to a local folder or serve them with mlflow server "
            "--serve-artifacts and import from that server"
        )

    def check(self, uri: str) -> None:
        """Refuse a location this reader cannot read (InvalidInput), before anything is written."""
        if self.kind(uri) == "proxy":
            self._server()

    def missing(self, uri: str, *, required: bool = False) -> str | None:
        """Why the local folder ``uri`` names cannot be read, or None when it can.

        MLflow makes a run's artifact folder only when something is logged, so a
        run folder that is absent is no loss, unless the folders above it are
        gone too (the artifact store was moved or deleted). With ``required``
        (a model version's files), an absent folder is always missing.
        """
        if self.kind(uri) != "local":
            return None
        root = local_path(uri)
        if root.is_dir():
            return None
        if required:
            return f"its folder {str(root)!r} does not exist"
        store = root.parents[min(2, len(root.parents) - 1)]
        if store.is_dir():
            return None
        return (
            f"its artifact folder is gone ({str(store)!r} does not exist); "
            "put it back where MLflow wrote it and import again"
        )

    def list_files(self, uri: str) -> list[ArtifactFile]:
        """Every file under ``uri`` (recursively), sorted by path; none if it does not exist."""
        kind = self.kind(uri)
        if kind == "local":
            root = local_path(uri)
            if not root.is_dir():
                return []
            return [
                ArtifactFile(p.relative_to(root).as_posix(), p.stat().st_size)
                for p in sorted(root.rglob("*"))
                if p.is_file()
            ]
        if kind == "proxy":
            return sorted(self._list_proxied(proxy_path(uri)), key=lambda f: f.path)
        return []

    def _list_proxied(self, root: str, below: str = "") -> list[ArtifactFile]:
        server = self._server()
        found = []
        for entry in server.list_proxied(f"{root}/{below}".rstrip("/")):
            name = str(entry["path"]).rsplit("/", 1)[-1]
            if name in {"", ".", ".."} or "\\" in name:  # never a path out of the folder
                raise InvalidInput(
                    f"{server.shown} listed an artifact named {name!r} under {root!r}; "
                    "refusing to fetch it"
                )
            relative = f"{below}/{name}".lstrip("/")
            if entry.get("is_dir"):
                found += self._list_proxied(root, relative)
            else:
                found.append(ArtifactFile(relative, int(entry.get("file_size") or 0)))
        return found

    def fetch(self, uri: str, path: str, scratch: Path) -> Path:
        """A local file holding ``path`` under ``uri``: the file itself, or one downloaded."""
        if self.kind(uri) == "local":
            return local_path(uri) / path
        target = scratch / path
        target.parent.mkdir(parents=True, exist_ok=True)
        self._server().download_proxied(f"{proxy_path(uri)}/{path}", target)
        return target

    def _server(self) -> MlflowHttp:
        if self.server is None:
            raise InvalidInput(
                "the artifacts are on an MLflow server (mlflow-artifacts: URIs); name it with "
                "--server http://HOST:PORT"
            )
        return self.server


def local_path(uri: str) -> Path:
    """The folder a local path or ``file:`` URI names.

    Example:
        >>> local_path("file:///tmp/a%20b").as_posix()
        '/tmp/a b'
    """
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path))
    return Path(uri)


def proxy_path(uri: str) -> str:
    """The path inside the artifact proxy of an ``mlflow-artifacts:`` URI (host part dropped).

    Example:
        >>> proxy_path("mlflow-artifacts://host:5000/1/abc/artifacts")
        '1/abc/artifacts'
    """
    return urllib.parse.unquote(urllib.parse.urlsplit(uri).path).strip("/")
