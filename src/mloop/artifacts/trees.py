"""Stored objects copied into a local, read-only folder once, for readers that need files.

A local copy is outside the content store's protection: anyone can edit or
delete it. So the copy records, per file, a stat fingerprint taken when the
file was written (size, modification and change times, inode) and checks it
on every use: an edit changes the change time even when it keeps the size and
restores the modification time, and a deleted or replaced file is seen at
once. A file whose fingerprint no longer matches is fetched again from the
store (verified) with a logged warning. :func:`verify_copy` re-reads every
byte instead, for damage a stat cannot see.

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
import json
import logging
import os
import stat
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from mloop.artifacts.cas import ContentStore, hash_file
from mloop.errors import IntegrityError, NotFound

_log = logging.getLogger(__name__)
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
_Fingerprints = dict[str, list[int]]


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

    A finished copy is marked by ``marker`` (holding ``stamp`` and each file's
    fingerprint), written last, so an interrupted copy is redone, never used.
    On every call each file's stat is checked against its fingerprint; a changed
    or missing file is fetched again, with a warning. Every object is verified as
    it is read; a damaged or missing one raises an error naming ``what`` and the path.

    Raises:
        IntegrityError: a stored object is damaged.
        NotFound: a stored object is missing.
    """
    entries = list(entries)
    recorded = _read_marker(marker, stamp)
    if recorded is None:
        fresh: _Fingerprints = {}
        _fetch(content, entries, target, fresh, what)
        _write_marker(marker, stamp, fresh)
        return target
    todo = [(path, digest) for path, digest in entries if _changed(target, path, recorded)]
    if todo:
        _fetch(content, todo, target, recorded, what)
        _write_marker(marker, stamp, recorded)
        _warn(what, target, [path for path, _ in todo])
    return target


def verify_copy(
    content: ContentStore,
    entries: Iterable[tuple[str, str]],
    target: Path,
    marker: Path,
    stamp: str,
    *,
    what: str = "stored",
    repair: bool = True,
) -> list[str]:
    """Re-read every file of a local copy; fetch damaged or missing ones again.

    Returns the paths that were damaged or missing (empty when the copy is sound,
    or when there is no finished copy to check); files the copy should not hold
    are listed too. With ``repair`` (the default) those files are fetched again,
    or removed.

    Example:
        >>> import tempfile, pathlib
        >>> from mloop.artifacts.cas import ContentStore
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> store = ContentStore(str(root / "store"))
        >>> entries = [("t.csv", store.put_bytes(b"rows"))]
        >>> _ = materialize(store, entries, root / "copy", root / ".done", "v1")
        >>> verify_copy(store, entries, root / "copy", root / ".done", "v1")
        []
    """
    entries = list(entries)
    recorded = _read_marker(marker, stamp)
    if recorded is None:
        return []
    damaged = [(path, digest) for path, digest in entries if not _intact(target / path, digest)]
    listed = {path for path, _ in entries}
    extra = sorted(
        p.relative_to(target).as_posix()
        for p in target.rglob("*")
        if (p.is_file() or p.is_symlink()) and p != marker
    )
    extra = [path for path in extra if path not in listed]
    repaired = sorted([path for path, _ in damaged] + extra)
    if not repair:
        return repaired
    for path in extra:
        (target / path).unlink()
    _fetch(content, damaged, target, recorded, what)
    _write_marker(marker, stamp, recorded)
    if repaired:
        _warn(what, target, repaired)
    return repaired


def _fetch(
    content: ContentStore,
    entries: list[tuple[str, str]],
    target: Path,
    recorded: _Fingerprints,
    what: str,
) -> None:
    for path, digest in entries:
        destination = target / path
        if destination.exists():
            destination.chmod(stat.S_IRUSR | stat.S_IWUSR)
        with naming(f"{what} file {path!r}"):
            content.get_file(digest, destination)
        destination.chmod(_READ_ONLY)
        recorded[path] = _fingerprint(os.stat(destination))  # after chmod: it moves ctime


def _fingerprint(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _changed(target: Path, path: str, recorded: _Fingerprints) -> bool:
    try:
        st = os.stat(target / path)
    except FileNotFoundError:
        return True
    return recorded.get(path) != _fingerprint(st)


def _intact(path: Path, digest: str) -> bool:
    try:
        return path.is_file() and hash_file(path)[0] == digest
    except OSError:
        return False


def _read_marker(marker: Path, stamp: str) -> _Fingerprints | None:
    try:
        record = json.loads(marker.read_text())
    except (OSError, ValueError):  # no finished copy, or one marked by an older mloop
        return None
    if not isinstance(record, dict) or record.get("stamp") != stamp:
        return None
    files = record.get("files")
    return files if isinstance(files, dict) else None


def _write_marker(marker: Path, stamp: str, recorded: _Fingerprints) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    temp = marker.with_name(f"{marker.name}.{uuid.uuid4().hex}.tmp")  # threads may race here
    temp.write_text(json.dumps({"stamp": stamp, "files": recorded}, separators=(",", ":")))
    os.replace(temp, marker)


def _warn(what: str, target: Path, paths: list[str]) -> None:
    shown = ", ".join(repr(p) for p in paths[:5]) + (" …" if len(paths) > 5 else "")
    _log.warning(
        "the local copy of %s at %s was changed or removed; %d file(s) fetched again from "
        "the store and verified: %s",
        what,
        target,
        len(paths),
        shown,
    )
