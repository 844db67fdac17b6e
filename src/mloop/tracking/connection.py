"""One open tracking backend per (tracking URI, artifact root) in a process.

Every :class:`~mloop.tracking.client.Client` of the same URIs shares the same
stores, content store and background writer, so buffered points from any of
them are flushed together and in order. The stores are the process's one
:class:`~mloop.store.set.StoreSet` of the tracking URI, through which every
domain (data, models, pipelines) reaches its own store.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from mloop.artifacts.cas import ContentStore
from mloop.config import Settings
from mloop.context.defaults import forget_default
from mloop.context.opening import forget_pairs, shared_pair
from mloop.entities import RunStatus
from mloop.errors import MloopError, NotFound
from mloop.store.protocols.tracking import Termination
from mloop.store.registry import close_all
from mloop.store.set import StoreSet
from mloop.tracking.liveness import now_millis, process_owner
from mloop.tracking.writer import BatchWriter


@dataclasses.dataclass(frozen=True)
class Backend:
    """Stores, artifact objects and the writer behind one tracking URI."""

    stores: StoreSet
    content: ContentStore
    writer: BatchWriter
    settings: Settings
    # Params of runs created through this backend and not yet ended: their
    # params can be checked here and buffered instead of written one by one.
    owned_params: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)


_backends: dict[tuple[str, str], Backend] = {}
_lock = threading.Lock()


def connect(settings: Settings) -> Backend:
    """The (cached) backend for the settings' tracking URI and artifact root."""
    key = (settings.resolved_tracking_uri(), settings.resolved_artifacts_uri())
    backend = _backends.get(key)
    if backend is not None:
        return backend
    with _lock:
        backend = _backends.get(key)
        if backend is None:
            stores, content = shared_pair(*key)  # refuses an artifact root of another store
            writer = BatchWriter(
                stores.runs,
                flush_interval=settings.flush_interval,
                batch_size=settings.batch_size,
                max_pending=settings.max_pending,
            )
            backend = Backend(stores, content, writer, settings)
            _backends[key] = backend
    return backend


def wake_writers() -> None:
    """Make every open backend's writer start writing what is buffered, without waiting."""
    for backend in list(_backends.values()):
        backend.writer.wake()


def end_owned_runs(status: RunStatus, error: str | None) -> None:
    """End every run this process created or resumed and has not ended, then write everything.

    What runs when the process is being killed: each backend is handled even
    if another fails, and the first failure is raised at the end.
    """
    failure: MloopError | None = None
    for backend in list(_backends.values()):
        writer = backend.writer
        now = now_millis()
        ends = [Termination(r, status, now, error) for r in _still_ours(backend, writer.owned)]
        for end in ends:
            backend.owned_params.pop(end.run_id, None)
        try:
            writer.end_runs(ends)
            writer.close()
        except MloopError as err:
            failure = failure or err
    if failure is not None:
        raise failure


def _still_ours(backend: Backend, run_ids: list[str]) -> list[str]:
    # Another process may have ended or resumed one of them since (a pipeline
    # step run by a worker): never overwrite what it recorded.
    me = process_owner()
    ours = []
    for run_id in run_ids:
        try:
            info = backend.stores.runs.get_run(run_id).info
        except NotFound:
            ours.append(run_id)  # still queued in this process's writer
            continue
        if info.status == RunStatus.RUNNING and info.owner in (None, me):
            ours.append(run_id)
    return ours


def disconnect_all() -> None:
    """Flush and forget every open backend, and close every open store set.

    Tests and long-lived hosts use this; the next use opens what it needs again.

    Example:
        >>> disconnect_all()
    """
    failure: MloopError | None = None
    with _lock:
        for backend in _backends.values():
            try:
                backend.writer.close()
            except MloopError as err:  # the others are still flushed and closed
                failure = failure or err
        _backends.clear()
        forget_default()
        forget_pairs()
        close_all()
    if failure is not None:
        raise failure


def open_stores() -> list[tuple[str, str, Path, Path]]:
    """``(tracking URI, artifact root, home, local root)`` of every backend open in this process."""
    return [
        (*key, b.settings.home.expanduser().absolute(), b.settings.local_root())
        for key, b in list(_backends.items())
    ]
