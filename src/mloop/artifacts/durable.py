"""Making local writes durable before they become visible (see :mod:`mloop.disk`).

Every object, pack and pack index is synced (``fsync``) before it is renamed
into place, and the folder that received the new name is synced after, so the
name itself survives. Object stores reached through fsspec (S3, GCS) make an
upload visible only once it is complete, and need neither. The functions live
in :mod:`mloop.disk`, below both the artifact and the metadata stores.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with open(folder / "f", "wb") as handle:
    ...     _ = handle.write(b"bytes")
    ...     sync_file(handle)
    >>> sync_folder(folder)
"""

from __future__ import annotations

from mloop.disk import sync_file, sync_folder, sync_path

__all__ = ["sync_file", "sync_folder", "sync_path"]
