"""The project secret that keys pseudonyms: one per store, never logged or stored with data.

Example:
    >>> import pathlib, tempfile
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> project_secret(home) == project_secret(home)
    True
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_ENV = "MLOOP_SECRET_KEY"


def project_secret(home: Path) -> bytes:
    """The key of the keyed hashes: ``MLOOP_SECRET_KEY``, else ``<home>/secret.key`` (made once)."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV].encode()
    path = home / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
