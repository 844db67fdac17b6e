"""A run's artifacts: storing files, folders, text, mappings and figures, listing and reading them.

Example:
    >>> import tempfile
    >>> from mloop.tracking.client import Client
    >>> client = Client(tracking_uri="sqlite://", artifacts_uri=tempfile.mkdtemp())
    >>> run = client.create_run(client.create_experiment("artifacts-doc"))
    >>> client.log_text(run.info.run_id, "hello", "notes/hello.txt")
    >>> client.load_text(run.info.run_id, "notes/hello.txt")
    'hello'
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mloop.artifacts.cas import ContentStore
from mloop.entities import ArtifactInfo
from mloop.errors import InvalidInput, NotFound
from mloop.tracking import artifact_files
from mloop.tracking.run_access import RunAccess


class RunArtifacts(RunAccess):
    """The artifact methods of :class:`~mloop.tracking.client.Client`."""

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Store a file (or a folder with its tree) under ``artifact_path/<name>``."""
        self._check_run(run_id)
        self._write_queued()
        backend = self._backend
        artifact_files.store_local(
            backend.content, backend.stores.artifacts, run_id, local_path, artifact_path
        )

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Store a folder's contents under ``artifact_path``, keeping its tree."""
        if not Path(local_dir).is_dir():
            raise NotFound(f"cannot log {str(local_dir)!r}: not a directory")
        self._check_run(run_id)
        self._write_queued()
        backend = self._backend
        artifact_files.store_local(
            backend.content,
            backend.stores.artifacts,
            run_id,
            local_dir,
            artifact_path,
            contents_only=True,
        )

    @property
    def content(self) -> ContentStore:
        """The artifact object store (objects by SHA-256) behind this client."""
        return self._backend.content

    def record_artifacts(self, run_id: str, entries: Iterable[tuple[str, str, int]]) -> None:
        """Point run-relative ``(path, digest, size)`` entries at objects already stored.

        Raises:
            InvalidInput: a path escapes the run.
            NotFound: an object is not in the artifact store.
        """
        rows = [(artifact_files.check_artifact_path(p), d, s) for p, d, s in entries]
        for path, digest, _ in rows:
            if not self._backend.content.exists(digest):
                raise NotFound(f"cannot record artifact {path!r}: object {digest} is not stored")
        if run_id in self._live_runs:  # a run of this process: written with its next batch
            self._backend.writer.add_artifacts(run_id, rows)
            return
        self._check_run(run_id)
        self._write_queued()
        self._backend.stores.artifacts.record_artifacts(run_id, rows)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Store a string as a UTF-8 text file."""
        if not isinstance(text, str):
            raise InvalidInput(f"log_text takes a string, got {type(text).__name__}")
        self._store_bytes(run_id, text.encode(), artifact_file)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """Store a mapping as JSON, or as YAML when the file ends in .yaml or .yml."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml  # only YAML artifacts pay for importing PyYAML

            data = yaml.safe_dump(dict(dictionary), sort_keys=False).encode()
        else:
            try:
                data = json.dumps(dictionary, indent=2, default=str).encode()
            except (TypeError, ValueError) as err:
                raise InvalidInput(f"log_dict could not serialize the mapping: {err}") from None
        self._store_bytes(run_id, data, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Store a matplotlib figure as an image (format from the file extension)."""
        if not hasattr(figure, "savefig"):
            raise InvalidInput(f"log_figure takes a matplotlib Figure, got {type(figure).__name__}")
        buffer = io.BytesIO()
        suffix = Path(artifact_file).suffix.lstrip(".") or "png"
        figure.savefig(buffer, format=suffix)
        self._store_bytes(run_id, buffer.getvalue(), artifact_file)

    def _store_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        self._check_run(run_id)
        self._write_queued()
        backend = self._backend
        artifact_files.store_bytes(
            backend.content, backend.stores.artifacts, run_id, data, artifact_file
        )

    def list_artifacts(
        self, run_id: str, path: str | None = None, *, recursive: bool = False
    ) -> list[ArtifactInfo]:
        """Files and folders directly under ``path``, or every file below it with ``recursive``."""
        self._write_queued()
        index = self._backend.stores.artifacts
        prefix = artifact_files.check_artifact_path(path)
        if recursive:
            return index.find_artifacts(run_id, prefix or None)
        return index.list_artifacts(run_id, prefix)

    def download_artifacts(
        self, run_id: str, path: str | None = None, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy a run's artifact (file or folder) to ``dst_path`` (a new temp folder by default)."""
        self._write_queued()
        destination = (
            dst_path if dst_path is not None else tempfile.mkdtemp(prefix="mloop-artifacts-")
        )
        backend = self._backend
        return str(
            artifact_files.download(
                backend.content, backend.stores.artifacts, run_id, path, destination
            )
        )

    def load_text(self, run_id: str, artifact_file: str) -> str:
        """Read a text artifact back (verified against its hash)."""
        self._write_queued()
        items = self._backend.stores.artifacts.find_artifacts(
            run_id, artifact_files.check_artifact_path(artifact_file)
        )
        exact = [i for i in items if i.path == artifact_files.check_artifact_path(artifact_file)]
        if not exact or exact[0].digest is None:
            raise NotFound(f"run {run_id} has no artifact file {artifact_file!r}")
        return self._backend.content.get_bytes(exact[0].digest).decode()
