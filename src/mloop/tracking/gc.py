"""Garbage collection: purge runs in the bin, then objects nothing points at.

Both honour a grace period: runs deleted, and objects written, less than
``grace_seconds`` ago survive, so a run being logged right now never loses an
object it is about to reference. A pack whose objects are partly unreferenced
is rewritten with only the referenced ones.

Collection refuses a metadata store and an artifact store that do not belong
together (:mod:`mloop.tracking.pairing`), and a metadata store that references
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

from mloop.artifacts.cas import ContentStore, StoredObject
from mloop.errors import Conflict, InvalidInput
from mloop.masking import mask_uri
from mloop.tracking.pairing import check_pair
from mloop.tracking.protocols import Stores


@dataclasses.dataclass
class GcReport:
    """What a collection removed, or would remove with ``dry_run``."""

    purged_runs: list[str] = dataclasses.field(default_factory=list)
    deleted_objects: list[str] = dataclasses.field(default_factory=list)
    freed_bytes: int = 0
    temp_files: int = 0
    dry_run: bool = False


def collect_garbage(
    stores: Stores,
    content: ContentStore,
    *,
    grace_seconds: float,
    dry_run: bool = False,
    force: bool = False,
) -> GcReport:
    """Purge deleted runs and unreferenced artifact objects older than the grace period.

    Args:
        stores: the metadata store.
        content: its artifact store.
        grace_seconds: deletions and objects younger than this survive.
        dry_run: report what would go; remove nothing.
        force: collect even when the metadata store references no object at all.

    Raises:
        InvalidInput: a negative grace period.
        Conflict: the two stores do not belong together, or the metadata store
            references nothing while the artifact store holds objects (without ``force``).
    """
    if grace_seconds < 0:
        raise InvalidInput(f"grace period must be >= 0 seconds, got {grace_seconds}")
    check_pair(stores, content)
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
    packs: dict[str, list[StoredObject]] = {}
    for stored in content.iter_objects():
        if stored.pack is not None:
            packs.setdefault(stored.pack, []).append(stored)
            continue
        if stored.digest in referenced or stored.modified > cutoff:
            continue
        report.deleted_objects.append(stored.digest)
        report.freed_bytes += stored.size
        if not dry_run:
            content.delete(stored.digest)
    for name, objects in packs.items():
        # A pack's age is that of its last write or claim; its dead objects go together.
        dead = [o for o in objects if o.digest not in referenced]
        if not dead or objects[0].modified > cutoff:
            continue
        report.deleted_objects.extend(o.digest for o in dead)
        report.freed_bytes += sum(o.size for o in dead)
        if not dry_run:
            content.rewrite_pack(name, {o.digest for o in objects if o.digest in referenced})
    for path, modified in content.iter_temp():
        if modified <= cutoff:
            report.temp_files += 1
            if not dry_run:
                content.delete_path(path)
    return report


def _refuse_if_objects(stores: Stores, content: ContentStore) -> None:
    if next(iter(content.iter_objects()), None) is None:
        return
    raise Conflict(
        f"the metadata store {mask_uri(stores.uri)!r} references no artifact object, but the "
        f"artifact store {mask_uri(content.root)!r} holds objects: collecting now would delete "
        "every one of them. Check that MLOOP_TRACKING_URI and MLOOP_ARTIFACTS_URI name the "
        "two halves of one store; if they do and every object should go, run `mloop gc "
        "--force` (collect_garbage(..., force=True))"
    )
