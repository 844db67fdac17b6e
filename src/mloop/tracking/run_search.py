"""Searching runs: one page of runs, or its columns, matching a filter.

Example:
    >>> import tempfile
    >>> from mloop.tracking.client import Client
    >>> client = Client(tracking_uri="sqlite://", artifacts_uri=tempfile.mkdtemp())
    >>> exp = client.create_experiment("search-doc")
    >>> run = client.create_run(exp, run_name="found")
    >>> [r.info.run_name for r in client.search_runs(exp, "attributes.run_name = 'found'")]
    ['found']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mloop.entities import PagedList, Run, RunTable, ViewType
from mloop.errors import MloopWarning
from mloop.tracking.run_access import RunAccess


class RunSearch(RunAccess):
    """The run search methods of :class:`~mloop.tracking.client.Client`."""

    if TYPE_CHECKING:

        def experiment_id_of(self, experiment_id: str) -> str:
            """The stored id an id names (the client's experiments define it)."""

    def search_runs(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching a filter (see :mod:`mloop.store.filter`).

        A first page that comes back empty because the filter names a metric,
        param or tag that no run of the experiments has warns (:class:`MloopWarning`)
        with the close matches: ``metrics.val_aucc`` is likely a typo.
        """
        ids = [self.experiment_id_of(e) for e in _experiment_ids(experiment_ids)]
        self.flush()
        page = self._backend.stores.runs.search_runs(
            ids, filter_string, ViewType(run_view_type), max_results, order_by, page_token
        )
        if not page.items and page_token is None:
            self._warn_unknown_keys(ids, filter_string)
        return page

    def search_run_table(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunTable:
        """The page :meth:`search_runs` returns, as columns: cheaper when a table is wanted.

        Example:
            >>> import tempfile
            >>> from mloop.tracking.client import Client
            >>> client = Client(tracking_uri="sqlite://", artifacts_uri=tempfile.mkdtemp())
            >>> exp = client.create_experiment("table-doc")
            >>> run = client.create_run(exp)
            >>> client.log_param(run.info.run_id, "lr", "0.1")
            >>> client.search_run_table([exp], "params.lr = '0.1'").params
            {'lr': ['0.1']}
        """
        ids = [self.experiment_id_of(e) for e in _experiment_ids(experiment_ids)]
        self.flush()
        table = self._backend.stores.runs.search_run_table(
            ids, filter_string, ViewType(run_view_type), max_results, order_by, page_token
        )
        if not len(table) and page_token is None:
            self._warn_unknown_keys(ids, filter_string)
        return table

    def _warn_unknown_keys(self, ids: Sequence[str], filter_string: str | None) -> None:
        if not filter_string:
            return
        unknown = self._backend.stores.runs.unknown_filter_keys(ids, filter_string)
        for field, matches in unknown.items():
            hint = f"; did you mean {' or '.join(matches)}?" if matches else ""
            warnings.warn(
                f"no run in the searched experiments has {field}, so the filter "
                f"matches nothing{hint}",
                MloopWarning,
                stacklevel=3,
            )


def _experiment_ids(experiment_ids: Sequence[str] | str) -> list[str]:
    if isinstance(experiment_ids, str):
        return [experiment_ids]
    return [str(e) for e in experiment_ids]
