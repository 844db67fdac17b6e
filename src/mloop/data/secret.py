"""The project secret that keys pseudonyms: one per store, never logged or stored with data.

The secret is ``MLOOP_SECRET_KEY`` when set, else ``<home>/secret.key``,
made once with mode 600. A ``secret.key`` that other users can read is
refused, as the model signing key is: anyone who reads it can link
pseudonyms back to the values they hide.

Example:
    >>> import pathlib, tempfile
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> project_secret(home) == project_secret(home)
    True
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from mloop.errors import PermissionDenied

SECRET_ENV = "MLOOP_SECRET_KEY"
SECRET_FILE = "secret.key"


def project_secret(home: Path) -> bytes:
    """The key of the keyed hashes: ``MLOOP_SECRET_KEY``, else ``<home>/secret.key`` (made once).

    Example:
        >>> import pathlib, tempfile
        >>> len(project_secret(pathlib.Path(tempfile.mkdtemp())))
        64

    Raises:
        PermissionDenied: ``secret.key`` can be read by other users than its owner.
    """
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV].encode()
    path = home / SECRET_FILE
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionDenied(
            f"pseudonymization key {path} is readable by other users (mode "
            f"{stat.S_IMODE(mode):o}); restrict it with: chmod 600 {path}"
        )
    return path.read_text().strip().encode()


def _create(path: Path) -> None:
    # Written whole under a temporary name, then linked into place: a second
    # process never reads a half-written key, and the first key made wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".secret-", dir=path.parent)  # mode 600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(scratch, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
