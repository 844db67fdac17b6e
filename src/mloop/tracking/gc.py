"""Garbage collection: purge runs in the bin, then objects nothing points at.

Both honour a grace period: runs deleted, and objects written, less than
``grace_seconds`` ago survive, so a run being logged right now never loses an
object it is about to reference. A pack whose objects are partly unreferenced
is rewritten with only the referenced ones. Writers racing to store the same
content leave it in several places (two packs, or a pack and a file of its
own): once every copy is older than the grace period, the first whole one
(its bytes verified) is kept and the others go; when none is whole, all stay
and ``problems`` says so. A damaged pack (or pack index) is reported in
``problems`` and left alone; the rest of the store is collected.

Collection refuses a metadata store and an artifact store that do not belong
together (:mod:`mloop.context.pairing`), an artifact store that holds objects
but records no owner, and a metadata store that references
nothing while the artifact store holds objects (an empty or wrong store would
make every object look like garbage) unless ``force`` is given.

Example:
    >>> report = GcReport()
    >>> report.freed_bytes
    0
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from pathlib import Path

from mloop.artifacts.cas import ContentStore, StoredObject
from mloop.artifacts.scratch import sweep
from mloop.context.pairing import check_collectable
from mloop.errors import Conflict, IntegrityError, InvalidInput
from mloop.masking import mask_uri
from mloop.store.set import StoreSet


@dataclasses.dataclass
class GcReport:
    """What a collection removed, or would remove with ``dry_run``."""

    purged_runs: list[str] = dataclasses.field(default_factory=list)
    deleted_objects: list[str] = dataclasses.field(default_factory=list)
    freed_bytes: int = 0
    temp_files: int = 0
    dry_run: bool = False
    duplicate_copies: list[str] = dataclasses.field(default_factory=list)
    """Digests of surplus copies removed (the object itself stays, stored once)."""
    problems: list[str] = dataclasses.field(default_factory=list)
    """Damaged packs or indexes found and skipped (``mloop fsck --repair`` mends them)."""


def collect_garbage(
    stores: StoreSet,
    content: ContentStore,
    *,
    grace_seconds: float,
    dry_run: bool = False,
    force: bool = False,
    scratch_fallback: Path | None = None,
) -> GcReport:
    """Purge deleted runs and unreferenced artifact objects older than the grace period.

    Args:
        stores: the metadata store.
        content: its artifact store.
        grace_seconds: deletions and objects younger than this survive.
        dry_run: report what would go; remove nothing.
        force: collect even when the metadata store references no object at all, or
            the artifact store records no owner (it is then recorded, even in a dry run).
        scratch_fallback: the local scratch folder used when the artifact store is
            not local (:meth:`~mloop.config.Settings.scratch_fallback`); its stale
            scratch folders are removed too.

    Raises:
        InvalidInput: a negative grace period.
        Conflict: the two stores do not belong together, or (without ``force``) the
            artifact store holds objects and records no owner, or the metadata store
            references nothing while the artifact store holds objects.
    """
    if grace_seconds < 0:
        raise InvalidInput(f"grace period must be >= 0 seconds, got {grace_seconds}")
    check_collectable(stores, content, force=force)
    referenced = stores.artifacts.referenced_digests()
    if not referenced and not force:
        _refuse_if_objects(stores, content)
    now = time.time()
    cutoff = now - grace_seconds
    report = GcReport(dry_run=dry_run)
    report.purged_runs = stores.runs.purge_runs(int(cutoff * 1000), dry_run=dry_run)
    if report.purged_runs:
        # In a dry run the runs are still there: count what only they reference as freed.
        referenced = stores.artifacts.referenced_digests(
            exclude_runs=report.purged_runs if dry_run else ()
        )
    loose: dict[str, StoredObject] = {}
    packs: dict[str, list[StoredObject]] = {}

    def damaged(where: str, err: IntegrityError) -> None:
        report.problems.append(str(err))

    for stored in content.iter_objects(on_damaged=damaged):
        if stored.pack is not None:
            packs.setdefault(stored.pack, []).append(stored)
        else:
            loose[stored.digest] = stored
    surplus = _surplus_copies(content, loose, packs, referenced, cutoff, report)
    _collect_loose(content, loose.values(), referenced, surplus, cutoff, report)
    _collect_packs(content, packs, referenced, surplus, cutoff, report)
    # Whole scratch folders left by killed processes first: deleting their files one
    # by one would make each folder look freshly modified to the sweep.
    report.temp_files += sweep(content, scratch_fallback, cutoff=cutoff, dry_run=dry_run)
    for path, modified in content.iter_temp():
        if modified <= cutoff:
            report.temp_files += 1
            if not dry_run:
                content.delete_path(path)
    return report


def _refuse_if_objects(stores: StoreSet, content: ContentStore) -> None:
    if next(iter(content.iter_objects()), None) is None:
        return
    raise Conflict(
        f"the metadata store {mask_uri(stores.uri)!r} references no artifact object, but the "
        f"artifact store {mask_uri(content.root)!r} holds objects: collecting now would delete "
        "every one of them. Check that MLOOP_TRACKING_URI and MLOOP_ARTIFACTS_URI name the "
        "two halves of one store; if they do and every object should go, run `mloop gc "
        "--force` (collect_garbage(..., force=True))"
    )


Where = tuple[str | None, str]
"""``(pack name, or None for a file of its own; digest)``: one copy of an object."""


def _collect_loose(
    content: ContentStore,
    loose: Iterable[StoredObject],
    referenced: set[str],
    surplus: set[Where],
    cutoff: float,
    report: GcReport,
) -> None:
    for stored in loose:
        if (None, stored.digest) in surplus:
            report.duplicate_copies.append(stored.digest)
        elif stored.digest in referenced or stored.modified > cutoff:
            continue
        else:
            report.deleted_objects.append(stored.digest)
        report.freed_bytes += stored.size
        if not report.dry_run:
            content.delete(stored.digest)


def _collect_packs(
    content: ContentStore,
    packs: dict[str, list[StoredObject]],
    referenced: set[str],
    surplus: set[Where],
    cutoff: float,
    report: GcReport,
) -> None:
    for name, objects in packs.items():
        # A pack's age is that of its last write or claim; its dead objects go together.
        dead = [o for o in objects if o.digest not in referenced]
        copies = [o for o in objects if (name, o.digest) in surplus]
        if not (dead or copies) or objects[0].modified > cutoff:
            continue
        gone = {o.digest for o in dead + copies}
        if not report.dry_run:
            try:
                content.rewrite_pack(name, {o.digest for o in objects if o.digest not in gone})
            except IntegrityError as err:  # kept bytes are damaged: the pack stays as it is
                report.problems.append(str(err))
                continue
        report.deleted_objects.extend(o.digest for o in dead)
        report.duplicate_copies.extend(o.digest for o in copies)
        report.freed_bytes += sum(o.size for o in dead + copies)


def _surplus_copies(
    content: ContentStore,
    loose: dict[str, StoredObject],
    packs: dict[str, list[StoredObject]],
    referenced: set[str],
    cutoff: float,
    report: GcReport,
) -> set[Where]:
    """Copies of referenced objects stored more than once, all but one of each.

    Only when every copy is older than the grace period: a young one may be what a
    writer just claimed. The copy kept is the first that is whole (its bytes match
    its digest), packed ones first (a file of its own costs one unlink to drop; a
    packed copy, a rewrite), so readers that find another copy gone look again and
    find the one kept. When no copy is whole, none goes: the damage is reported.
    """
    copies: dict[str, list[tuple[Where, float]]] = {}
    for name in sorted(packs):
        for stored in packs[name]:
            copies.setdefault(stored.digest, []).append(((name, stored.digest), stored.modified))
    for digest, stored in loose.items():
        copies.setdefault(digest, []).append(((None, digest), stored.modified))
    surplus: set[Where] = set()
    for digest, found in copies.items():
        if len(found) < 2 or digest not in referenced:
            continue  # unreferenced copies all go by the usual rule
        if any(modified > cutoff for _, modified in found):
            continue
        keep = next((where for where, _ in found if content.copy_intact(digest, where[0])), None)
        if keep is None:
            report.problems.append(
                f"artifact object {digest} is stored {len(found)} times and no copy matches its "
                "digest; every copy was kept. Run `mloop fsck` to see what it affects"
            )
            continue
        surplus.update(where for where, _ in found if where != keep)
    return surplus
