"""Checking a whole content store against what the metadata says it holds (``mloop fsck``).

Every object is re-read and hashed, wherever it lives (a file of its own or a
pack); every pack index is decoded and checked against its pack; every object
the metadata references must be there, intact. Objects nothing references
are listed (``mloop gc`` removes them), not counted as errors.

With ``repair``, what can be mended is: a damaged copy is dropped when a good
copy exists elsewhere; a damaged pack index is rebuilt from its pack, using
the digests and sizes the metadata records (objects are stored back to back,
so each boundary is found by hashing); an index whose pack was deleted is
removed. What cannot be mended (an object with no good copy left) is reported
with every run artifact, dataset file and model file it affects.

Example:
    >>> store = ContentStore("memory://check-doc")
    >>> digest = store.put_bytes(b"kept")
    >>> report = check_store(store, [Reference(digest, 4, "run 1 artifact 'a.txt'")])
    >>> (report.objects, report.ok)
    (1, True)
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import NamedTuple

from mloop.artifacts.cas import CHUNK_SIZE, ContentStore
from mloop.artifacts.packs import PackEntry, decode_index
from mloop.errors import IntegrityError, NotFound

_SHOWN = 3


class Reference(NamedTuple):
    """One thing the metadata stores under a digest: its size and what it is, for messages."""

    digest: str
    size: int
    what: str


@dataclasses.dataclass(frozen=True)
class Problem:
    """Something wrong in the store, what it affects, and whether it was repaired."""

    kind: str
    """``missing``, ``damaged``, ``damaged index`` or ``missing pack``."""
    where: str
    digest: str | None
    detail: str
    affects: list[str] = dataclasses.field(default_factory=list)
    repaired: bool = False


@dataclasses.dataclass
class StoreCheck:
    """What a check found: objects read, problems, and objects nothing references."""

    objects: int = 0
    bytes: int = 0
    packs: int = 0
    problems: list[Problem] = dataclasses.field(default_factory=list)
    orphans: list[str] = dataclasses.field(default_factory=list)
    """Digests of objects no metadata references (``mloop gc`` removes them)."""
    duplicates: int = 0
    """Surplus copies of objects stored more than once (``mloop gc`` removes them)."""

    @property
    def ok(self) -> bool:
        """True when every referenced object is there and intact (after any repair)."""
        return all(p.repaired for p in self.problems)


class _Copy(NamedTuple):
    pack: str | None
    good: bool


@dataclasses.dataclass
class _Walk:
    content: ContentStore
    refs: dict[str, list[Reference]]
    repair: bool
    report: StoreCheck = dataclasses.field(default_factory=StoreCheck)
    copies: dict[str, list[_Copy]] = dataclasses.field(default_factory=dict)
    covered: set[str] = dataclasses.field(default_factory=set)
    """Digests a pack-level problem already reports (a deleted pack, an unrebuilt index)."""
    drops: dict[str | None, list[tuple[str, int]]] = dataclasses.field(default_factory=dict)
    """Damaged copies to drop on repair, by pack (None: files of their own), with their problem."""

    def add(self, digest: str, pack: str | None, good: bool, size: int) -> None:
        self.copies.setdefault(digest, []).append(_Copy(pack, good))
        self.report.bytes += size


def check_store(
    content: ContentStore, references: Iterable[Reference], *, repair: bool = False
) -> StoreCheck:
    """Re-read every object of ``content`` and compare the store with ``references``.

    Raises:
        StoreError: the store cannot be listed or read at all.
    """
    refs: dict[str, list[Reference]] = {}
    for ref in references:
        refs.setdefault(ref.digest, []).append(ref)
    walk = _Walk(content, refs, repair)
    report = walk.report
    for stored in content.iter_objects(on_damaged=lambda where, err: None):
        if stored.pack is None:
            walk.add(stored.digest, None, _loose_intact(content, stored.digest), stored.size)
    _check_packs(walk)
    for digest, found in walk.copies.items():
        report.objects += 1
        report.duplicates += len(found) - 1
        if digest not in refs:
            report.orphans.append(digest)
        _check_copies(walk, digest, found)
    _drop_bad_copies(walk)
    for digest, listed in refs.items():
        if digest not in walk.copies and digest not in walk.covered:
            report.problems.append(
                Problem(
                    "missing",
                    content.location(digest),
                    digest,
                    "no copy of this object is stored; restore it from a backup, or store "
                    "the same content again (mloop.log_artifact of the same file rewrites it)",
                    _affects(listed),
                )
            )
    return report


def _loose_intact(content: ContentStore, digest: str) -> bool:
    try:
        with content.open(digest) as reader:  # verifies the hash at the end
            while reader.read(CHUNK_SIZE):
                pass
    except (IntegrityError, NotFound):
        return False
    return True


def _check_packs(walk: _Walk) -> None:
    content = walk.content
    # Indexes first: a writer writes a pack before its index, so every index
    # listed here has its pack in the listing below, unless the pack is gone.
    names = sorted(content.pack_names())
    packs = content.pack_names(".pack")
    for name in names:
        index_path = content.pack_path(name, ".idx")
        entries: list[PackEntry] | None
        try:
            entries = decode_index(content.read_pack(name, ".idx"), index_path)
        except IntegrityError as err:
            entries = None
            detail = str(err)
        except FileNotFoundError:  # removed since the listing
            continue
        try:
            data = content.read_pack(name, ".pack")
        except FileNotFoundError:
            if name not in packs:  # gone before the listing: deleted, not rewritten
                _missing_pack(walk, name, entries or [])
            continue  # else rewritten by `mloop gc` since the listing
        walk.report.packs += 1
        if entries is None:
            entries = _rebuild_index(walk, name, data, detail)
        for entry in entries:
            chunk = data[entry.offset : entry.offset + entry.size]
            good = hashlib.sha256(chunk).hexdigest() == entry.digest
            walk.add(entry.digest, name, good, entry.size)


def _missing_pack(walk: _Walk, name: str, entries: list[PackEntry]) -> None:
    content = walk.content
    affected = [r for e in entries for r in walk.refs.get(e.digest, [])]
    walk.covered.update(e.digest for e in entries)
    if walk.repair:
        content.remove_pack(name)
    walk.report.problems.append(
        Problem(
            "missing pack",
            content.pack_path(name, ".pack"),
            None,
            f"the pack file was deleted; its index lists {len(entries)} object(s); restore the "
            "pack from a backup; or, after `mloop fsck --repair`, store the affected content "
            "again with mloop.log_artifact"
            + ("; its dangling index was removed" if walk.repair else ""),
            _affects(affected),
        )
    )


def _rebuild_index(walk: _Walk, name: str, data: bytes, detail: str) -> list[PackEntry]:
    """The entries of a pack whose index is damaged, found by their digests (rebuilt on repair).

    Returns them only when the index was rebuilt: until then the store cannot read them.
    """
    content = walk.content
    sizes = {digest: listed[0].size for digest, listed in walk.refs.items()}
    found, end = find_boundaries(data, sizes)
    complete = end == len(data)
    rebuilt = bool(walk.repair and found and complete)
    if rebuilt:
        content.write_pack_index(name, [(e.digest, e.offset, e.size) for e in found])
    note = (
        f"; {len(found)} object(s) found in the pack by their digests"
        + ("" if complete else f", bytes {end}-{len(data)} belong to no referenced object")
        + ("; the index was rebuilt" if rebuilt else "")
    )
    walk.report.problems.append(
        Problem(
            "damaged index",
            content.pack_path(name, ".idx"),
            None,
            detail + note,
            _affects([r for e in found for r in walk.refs.get(e.digest, [])]),
            repaired=rebuilt,
        )
    )
    if rebuilt:
        return found
    walk.covered.update(e.digest for e in found)
    return []


def find_boundaries(data: bytes, sizes: dict[str, int]) -> tuple[list[PackEntry], int]:
    """Objects laid back to back in ``data``, found by hashing candidate sizes at each offset.

    ``sizes`` maps the digests that may be there to their sizes. Returns the
    entries found and the offset where the search stopped (``len(data)`` when
    every byte belongs to a known object).

    Example:
        >>> a, b = b"first", b"second!"
        >>> known = {hashlib.sha256(x).hexdigest(): len(x) for x in (a, b)}
        >>> entries, end = find_boundaries(a + b, known)
        >>> [(e.offset, e.size) for e in entries], end
        ([(0, 5), (5, 7)], 12)
    """
    candidates = sorted({size for size in sizes.values() if size > 0})
    found: list[PackEntry] = []
    offset = 0
    while offset < len(data):
        hasher = hashlib.sha256()
        done = 0
        for size in candidates:
            if offset + size > len(data):
                return found, offset
            hasher.update(data[offset + done : offset + size])  # one pass over the longest
            done = size
            digest = hasher.copy().hexdigest()
            if sizes.get(digest) == size:
                found.append(PackEntry(digest, offset, size))
                offset += size
                break
        else:
            return found, offset
    return found, offset


def _check_copies(walk: _Walk, digest: str, found: list[_Copy]) -> None:
    content = walk.content
    bad = [c for c in found if not c.good]
    has_good = len(bad) < len(found)
    for copy in bad:
        where = (
            content.location(digest) if copy.pack is None else content.pack_path(copy.pack, ".pack")
        )
        detail = "its bytes do not match the digest; " + (
            "a good copy exists elsewhere"
            if has_good
            else "no good copy is left: restore it from a backup"
        )
        problem = Problem("damaged", where, digest, detail, _affects(walk.refs.get(digest, [])))
        walk.report.problems.append(problem)
        if walk.repair and has_good:
            walk.drops.setdefault(copy.pack, []).append((digest, len(walk.report.problems) - 1))


def _drop_bad_copies(walk: _Walk) -> None:
    """Drop damaged copies that have a good one elsewhere (one rewrite per pack)."""
    content, problems = walk.content, walk.report.problems
    for pack, drops in walk.drops.items():
        if pack is None:
            for digest, _ in drops:
                content.delete(digest)
        else:
            index = content.pack_path(pack, ".idx")
            bad = {digest for digest, _ in drops}
            keep = {e.digest for e in decode_index(content.read_pack(pack, ".idx"), index)} - bad
            try:
                content.rewrite_pack(pack, keep)
            except IntegrityError:  # a damaged object with no good copy: it stays, reported
                continue
        for _, at in drops:
            problem = problems[at]
            problems[at] = dataclasses.replace(
                problem, detail=problem.detail + " and this one was removed", repaired=True
            )


def _affects(listed: Iterable[Reference]) -> list[str]:
    return sorted({ref.what for ref in listed})
