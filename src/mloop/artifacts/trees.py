"""Stored objects copied into a local, read-only folder once, for readers that need files.

Example:
    >>> import tempfile, pathlib
    >>> from mloop.artifacts.cas import ContentStore
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> store = ContentStore(str(root / "store"))
    >>> digest = store.put_bytes(b"rows")
    >>> folder = materialize(store, [("t.csv", digest)], root / "copy", root / ".copy.done", "v1")
    >>> (folder / "t.csv").read_text()
    'rows'
"""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from mloop.artifacts.cas import ContentStore
from mloop.errors import IntegrityError, NotFound

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@contextlib.contextmanager
def naming(what: str) -> Iterator[None]:
    """Re-raise a damaged or missing object's error with what the user stored under it.

    The content store knows digests and packs; the caller knows that the digest is,
    say, file ``part1.csv`` of dataset ``ds@1``.

    Example:
        >>> try:
        ...     with naming("dataset 'ds@1' file 'a.csv'"):
        ...         raise NotFound("artifact object 12ab is missing")
        ... except NotFound as err:
        ...     print(err)
        dataset 'ds@1' file 'a.csv': artifact object 12ab is missing
    """
    try:
        yield
    except (IntegrityError, NotFound) as err:
        raise type(err)(f"{what}: {err}") from err


def materialize(
    content: ContentStore,
    entries: Iterable[tuple[str, str]],
    target: Path,
    marker: Path,
    stamp: str,
    *,
    what: str = "stored",
) -> Path:
    """``(relative path, digest)`` entries as read-only files under ``target``, fetched once.

    A finished copy is marked by ``marker`` holding ``stamp``, written last, so an
    interrupted copy is redone, never used. Every object is verified as it is read;
    a damaged or missing one raises an error naming ``what`` and the file's path.
    """
    if marker.exists() and marker.read_text() == stamp:
        return target
    for path, digest in entries:
        destination = target / path
        if destination.exists():
            destination.chmod(stat.S_IRUSR | stat.S_IWUSR)
        with naming(f"{what} file {path!r}"):
            content.get_file(digest, destination)
        destination.chmod(_READ_ONLY)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(stamp)
    return target
