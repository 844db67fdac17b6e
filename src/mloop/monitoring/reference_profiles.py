"""A dataset version's drift profile: computed from its rows once, then read back.

:func:`reference_profile` returns the :class:`~mloop.monitoring.profiles.TableProfile`
of every column of a dataset version. The first call reads the version's
rows, profiles them, writes the profile to the content store and records it
with the version; later calls, in any process, read the stored profile
(its SHA-256 checked as it is read, its contents checked before use), not
the rows. ``mloop gc`` keeps it while the version exists.

Example:
    >>> import tempfile, pandas as pd
    >>> from mloop import data
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"age": [30, 40, 50]}).to_csv(f"{folder}/train.csv", index=False)
    >>> _ = data.add(folder, "people-doc")
    >>> reference_profile("people-doc@latest").column("age").values.tolist()
    [30.0, 40.0, 50.0]
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from mloop.context.context import Context
from mloop.data import api as data
from mloop.data.formats import is_tabular
from mloop.data.refs import parse_ref
from mloop.errors import InvalidInput
from mloop.monitoring.profiles import VERSION, TableProfile, profile
from mloop.tracking import fluent

KIND = f"drift-profile/{VERSION}"
"""What the profile is recorded as with the version (a new format is a new kind)."""

KEPT = 2
"""How many profiles a process keeps in memory once read."""

_lock = threading.Lock()
_recent: OrderedDict[tuple[str, str], TableProfile] = OrderedDict()


def reference_profile(
    ref: str,
    *,
    context: Context | None = None,
    executor: str = "local",
    address: str | None = None,
) -> TableProfile:
    """The drift profile of the dataset version ``ref`` (``credit@train``, ``credit@3``).

    When it is not stored yet, it is computed here (``executor="local"``), or
    block by block on Ray (``executor="ray"``, joining ``address`` when given).

    Raises:
        NotFound: no such dataset or version.
        InvalidInput: the version has no tabular files, or a column cannot be
            profiled (dates; values of mixed kinds).
    """
    if executor not in ("local", "ray"):
        raise InvalidInput(f"executor must be 'local' or 'ray', got {executor!r}")
    ctx = context if context is not None else fluent.current_client().context
    dataset = data.get(ref, context=ctx)
    store, pinned = ctx.stores.datasets, parse_ref(f"{dataset.name}@{dataset.version}")
    digest = store.find_profile(pinned, KIND)
    if digest is None:
        computed = _compute(dataset, executor, address).to_bytes()
        digest = store.record_profile(pinned, KIND, ctx.content.put_bytes(computed))
    return _read(ctx.content.root, digest, ctx)


def _compute(dataset: data.Dataset, executor: str, address: str | None) -> TableProfile:
    if executor == "local":
        # Columns drift cannot compare (dates) are noted, not fatal: a monitor may not need them.
        return profile(dataset.to_pandas(), skip_unsupported=True)
    from mloop.monitoring.ray_profiles import profile_on_ray

    root = dataset.path
    files = [root / f.path for f in dataset.files if is_tabular(f.path)]
    if not files:
        raise InvalidInput(f"dataset {dataset.ref} has no tabular files to profile")
    return profile_on_ray(files, address=address, skip_unsupported=True)


def _read(root: str, digest: str, context: Context) -> TableProfile:
    # A profile never changes under its digest: the last few read stay in memory.
    key = (root, digest)
    with _lock:
        if key in _recent:
            _recent.move_to_end(key)
            return _recent[key]
    found = TableProfile.from_bytes(context.content.get_bytes(digest))
    with _lock:
        _recent[key] = found
        while len(_recent) > KEPT:
            _recent.popitem(last=False)
    return found
