"""HTML files the commands write: where (checked before anything is computed), and whole.

Example:
    >>> html_target("/no/such/folder/report.html")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: no folder '/no/such/folder' to write the HTML report ...
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from mloop.disk import sync_file, sync_folder
from mloop.errors import InvalidInput


def html_target(given: str) -> Path:
    """Where ``--html`` writes: checked before anything is computed."""
    target = Path(given)
    if not given.strip() or target.is_dir():
        raise InvalidInput(f"--html needs a file name, and {given!r} is a folder")
    folder = target.parent
    if not folder.is_dir():
        raise InvalidInput(
            f"no folder {str(folder)!r} to write the HTML report {target.name!r} in; "
            "create it first or name another"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"the folder {str(folder)!r} of the HTML report is not writable")
    return target


def write_page(target: Path, page: str) -> None:
    """Put ``page`` at ``target`` whole: written aside in the same folder, synced, renamed."""
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(page.encode("utf-8"))
            sync_file(handle)
        os.replace(temp, target)
        sync_folder(target.parent)
    except OSError as err:
        raise InvalidInput(
            f"cannot write the HTML report to {str(target)!r}: {err.strerror or err}"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
