"""Writing what can be written of a batch the store refused.

A batch is one transaction, so one value the database refuses (a number out
of range, a NUL byte) or one run removed under the writer (deleted and purged
by another process) would roll back every point of every run in it. When that
happens the writer hands the batch to :func:`salvage`, which writes it again
run by run and, within a run, splits the refused part in halves until only
the offending items are left: those are dropped and reported, everything else
is written. A run that no longer exists is refused as a whole at once, not
item by item. Finding ``k`` bad items among ``n`` costs about ``k·log2(n)``
transactions, and nothing on the path where the store accepts the batch.

Example:
    >>> from mloop.store.sql import open_sql_store_set
    >>> stores = open_sql_store_set("sqlite:///:memory:")
    >>> run = stores.runs.create_run(stores.experiments.create_experiment("s"), "r", 0, {})
    >>> rows = [(run.run_id, "m", 1.0, 0, 0), (run.run_id, "bad", 1.0, 2**70, 0)]
    >>> outcome = salvage(stores.runs, Batch(metrics=rows))
    >>> [len(stores.runs.get_metric_history(run.run_id, k)) for k in ("m", "bad")]
    [1, 0]
    >>> outcome.refused[0].item
    "metric 'bad' of run ... (value 1.0, step 0, timestamp 1180591620717411303424)"
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from mloop.errors import Conflict, InvalidInput, MloopError, NotFound, StoreError
from mloop.store.protocols.tracking import Batch, NewRun, RunStore, Termination

_REFUSALS = (InvalidInput, NotFound)
_FIELDS = ("runs", "params", "tags", "metrics", "artifacts", "io", "terminations")
_SHOWN = 5

Unit = tuple[str, Any]
"""One write of a batch: the name of its :class:`Batch` field and the item."""


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Items the store refused, and why."""

    item: str
    reason: MloopError


@dataclasses.dataclass
class Outcome:
    """What :func:`salvage` could not write.

    ``refused`` items are dropped for good; ``remainder`` is what was left
    unwritten because the store failed for a transient reason (keep it and
    retry); ``conflicts`` are the Conflict errors of parts that were written.
    """

    refused: list[Refusal] = dataclasses.field(default_factory=list)
    remainder: Batch | None = None
    conflicts: list[Conflict] = dataclasses.field(default_factory=list)


def salvage(store: RunStore, batch: Batch, outcome: Outcome | None = None) -> Outcome:
    """Write every part of ``batch`` the store accepts; return what it refused.

    Raises nothing for refused items; a transient store failure stops the
    salvage and leaves the unwritten rest in :attr:`Outcome.remainder`. Pass
    ``outcome`` to see that rest even when the salvage is interrupted (a
    Ctrl-C, any exception): it is then set before the exception propagates.
    """
    outcome = outcome if outcome is not None else Outcome()
    work = collections.deque(_by_run(batch))
    try:
        while work:
            units = work[0]  # popped once written or refused: an interruption keeps it
            try:
                store.write_batch(_batch(units))
            except Conflict as err:  # the rest of this part was written
                outcome.conflicts.append(err)
            except _REFUSALS as err:
                if len(units) == 1:
                    outcome.refused.append(Refusal(describe(units[0]), err))
                elif isinstance(err, NotFound) and _run_is_gone(store, units):
                    outcome.refused.append(Refusal(_summarize(units), err))
                else:
                    half = len(units) // 2
                    work.appendleft(units[:half])  # for a moment both: never neither
                    work[1] = units[half:]
                    continue
            except StoreError:
                break
            work.popleft()
    finally:
        outcome.remainder = _batch(u for part in work for u in part) if work else None
    return outcome


def refusal_error(refused: Sequence[Refusal]) -> MloopError:
    """One error naming what was dropped and why (NotFound when every run was gone).

    Example:
        >>> print(refusal_error([Refusal("tag 't' of run r1", InvalidInput("NUL byte"))]))
        1 buffered write(s) were refused by the store and dropped; everything else was written: tag 't' of run r1: NUL byte
    """  # noqa: E501
    shown = "; ".join(f"{r.item}: {r.reason}" for r in refused[:_SHOWN])
    more = f"; and {len(refused) - _SHOWN} more" if len(refused) > _SHOWN else ""
    message = (
        f"{len(refused)} buffered write(s) were refused by the store and dropped; "
        f"everything else was written: {shown}{more}"
    )
    if all(isinstance(r.reason, NotFound) for r in refused):
        return NotFound(message)
    return InvalidInput(message)


def _units(batch: Batch) -> list[Unit]:
    return [(name, item) for name in _FIELDS for item in getattr(batch, name)]


def _batch(units: Iterable[Unit]) -> Batch:
    batch = Batch()
    for name, item in units:
        getattr(batch, name).append(item)
    return batch


def _run_id(unit: Unit) -> str:
    name, item = unit
    if name == "runs":
        return str(item.info.run_id)
    if name == "terminations":
        return str(item.run_id)
    return str(item[0])


def _by_run(batch: Batch) -> list[list[Unit]]:
    groups: dict[str, list[Unit]] = {}
    for unit in _units(batch):
        groups.setdefault(_run_id(unit), []).append(unit)
    return list(groups.values())


def _run_is_gone(store: RunStore, units: Sequence[Unit]) -> bool:
    if any(name == "runs" for name, _ in units):
        return False  # the run is being created here: its own row may be what was refused
    try:
        store.get_run(_run_id(units[0]))
    except NotFound:
        return True
    return False


def describe(unit: Unit) -> str:
    """A short, readable name for one buffered write.

    Example:
        >>> describe(("tags", ("r1", "team", "risk")))
        "tag 'team' of run r1 (value 'risk')"
    """
    name, item = unit
    if name == "runs":
        assert isinstance(item, NewRun)
        return f"new run {item.info.run_id} ({item.info.run_name!r})"
    if name == "terminations":
        assert isinstance(item, Termination)
        return f"end of run {item.run_id} ({item.status.value})"
    if name == "metrics":
        run_id, key, value, timestamp, step = item
        return f"metric {key!r} of run {run_id} (value {value}, step {step}, timestamp {timestamp})"
    if name == "artifacts":
        return f"artifact {item[1]!r} of run {item[0]}"
    if name == "io":
        return f"{item[1].direction} {item[1].name!r} of run {item[0]}"
    kind = name.rstrip("s")
    return f"{kind} {item[1]!r} of run {item[0]} (value {str(item[2])[:40]!r})"


def _summarize(units: Sequence[Unit]) -> str:
    counts = collections.Counter(name for name, _ in units)
    labels = {
        "metrics": "metric point(s)",
        "params": "param(s)",
        "tags": "tag(s)",
        "artifacts": "artifact path(s)",
        "io": "input/output record(s)",
        "terminations": "run end(s)",
    }
    parts = ", ".join(f"{n} {labels.get(k, k)}" for k, n in counts.items())
    return f"{parts} of run {_run_id(units[0])}"
