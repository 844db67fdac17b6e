"""The project secret that keys pseudonyms: one per store, never logged or stored with data.

The secret is the ``secret_key`` setting (``MLOOP_SECRET_KEY``) when set,
else ``<home>/secret.key``, made once with mode 600. A ``secret.key`` that other users can read is
refused, as the model signing key is: anyone who reads it can link
pseudonyms back to the values they hide.

Example:
    >>> import pathlib, tempfile
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> project_secret(home) == project_secret(home)
    True
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from mloop.disk import read_written, write_once
from mloop.errors import IntegrityError, PermissionDenied

SECRET_FILE = "secret.key"


def project_secret(home: Path, key: str | None = None) -> bytes:
    """The key of the keyed hashes: ``key`` (``MLOOP_SECRET_KEY``), else ``<home>/secret.key``.

    ``<home>/secret.key`` is made once, with mode 600.

    Example:
        >>> import pathlib, tempfile
        >>> len(project_secret(pathlib.Path(tempfile.mkdtemp())))
        64

    Raises:
        PermissionDenied: ``secret.key`` can be read by other users than its owner.
        IntegrityError: ``secret.key`` is empty.
    """
    if key:
        return key.encode()
    path = home / SECRET_FILE
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionDenied(
            f"pseudonymization key {path} is readable by other users (mode "
            f"{stat.S_IMODE(mode):o}); restrict it with: chmod 600 {path}"
        )
    stored = read_written(path).strip()
    if not stored:
        raise IntegrityError(
            f"pseudonymization key {path} is empty; restore it from a backup (pseudonyms made "
            "with a new key will not match earlier ones), or delete it to make a new one"
        )
    return stored


def _create(path: Path) -> None:
    # Written whole, then linked into place: of processes racing to make the
    # key, exactly one wins and every one of them reads the winner's key.
    write_once(path, secrets.token_hex(32).encode(), mode=0o600)
