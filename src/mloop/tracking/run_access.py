"""What every part of the tracking client reaches runs through: the writer and the run checks.

:class:`RunAccess` holds the state a :class:`~mloop.tracking.client.Client`
sets up (its context, stores and background writer, the runs and experiments
this process knows), the properties showing it, and the few steps the
logging, artifact and search parts share: reading a run, checking it can be
written to, flushing the writer.

Example:
    >>> from mloop.tracking.client import Client
    >>> issubclass(Client, RunAccess)
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mloop.config import Settings
from mloop.context.context import Context
from mloop.entities import LifecycleStage, Run
from mloop.errors import Conflict, InvalidInput
from mloop.store.set import StoreSet
from mloop.tracking.connection import Backend
from mloop.tracking.redaction import redact
from mloop.tracking.validation import tag_value, validate_key


class RunAccess:
    """The state and run checks the parts of :class:`~mloop.tracking.client.Client` share.

    The client's constructor sets every attribute declared here.
    """

    context: Context
    settings: Settings
    _stores: StoreSet
    _backend: Backend
    _live_runs: set[str]
    _live_experiments: set[str]

    @property
    def tracking_uri(self) -> str:
        """The metadata store URL this client writes to."""
        return self._stores.uri

    @property
    def project(self) -> str:
        """The project whose experiments this client finds by name."""
        return self.context.project

    @property
    def stores(self) -> StoreSet:
        """The store set of this client's tracking URI: every domain's store, one connection pool.

        Example:
            >>> import mloop
            >>> mloop.Client().stores.datasets.list_datasets()
            []
        """
        return self._stores

    def get_run(self, run_id: str) -> Run:
        """The run with its params, tags, latest metrics, inputs and outputs."""
        self.flush()
        return self._backend.stores.runs.get_run(run_id)

    def flush(self) -> None:
        """Write everything buffered; returns when it is durable."""
        self._backend.writer.flush()

    def _settle(self, wait: bool) -> None:
        if wait:
            self.flush()

    def _write_queued(self) -> None:
        # Writes that go straight to the store need the run row written first.
        if self._backend.writer.pending:
            self.flush()

    def _check_run(self, run_id: str) -> None:
        if run_id in self._live_runs:
            return
        if not isinstance(run_id, str) or not run_id:
            raise InvalidInput(f"run id must be a non-empty string, got {run_id!r}")
        info = self.get_run(run_id).info  # flushes: another client may have just created it
        if info.lifecycle_stage == LifecycleStage.DELETED:
            raise Conflict(f"run {run_id} is deleted; restore it before logging to it")
        self._live_runs.add(run_id)

    @staticmethod
    def _clean_tags(tags: Mapping[str, Any]) -> dict[str, str]:
        if not isinstance(tags, Mapping):
            raise InvalidInput(f"tags must be a mapping, got {type(tags).__name__}")
        return {validate_key(k, "tag"): redact(k, tag_value(k, v)) for k, v in tags.items()}
