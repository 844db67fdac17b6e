"""Import an MLflow store into mloop: experiments, runs, artifacts, registered models, aliases.

mloop does not depend on MLflow: the sources read MLflow's formats directly
(:mod:`~mloop.importing.mlflow.file_store` an ``mlruns`` folder,
:mod:`~mloop.importing.mlflow.database` an MLflow database,
:mod:`~mloop.importing.mlflow.rest` a running MLflow server) into one stream
of records (:mod:`~mloop.importing.mlflow.records`); the writers
(:mod:`~mloop.importing.mlflow.runs`, :mod:`~mloop.importing.mlflow.registry`)
put them into mloop's stores. Importing again brings only what is new.

Example:
    >>> import tempfile
    >>> from mloop.config import Settings
    >>> from mloop.context.opening import open_context
    >>> home = tempfile.mkdtemp()
    >>> ctx = open_context(Settings(tracking_uri=f"sqlite:///{home}/m.db", artifacts_uri=home))
    >>> import_mlflow(home + "/no-such-mlruns", context=ctx)
    Traceback (most recent call last):
    ...
    mloop.errors.NotFound: no MLflow store at '.../no-such-mlruns': no such folder
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from mloop.context.context import Context
from mloop.errors import InvalidInput
from mloop.importing.mlflow.records import ExperimentRecord, ModelRecord
from mloop.importing.mlflow.registry import ModelWriter
from mloop.importing.mlflow.runs import RunWriter
from mloop.importing.mlflow.source import Source, open_source
from mloop.importing.mlflow.summary import ImportStopped, ImportSummary
from mloop.tracking import fluent
from mloop.tracking.client import Client

__all__ = ["ImportStopped", "ImportSummary", "import_mlflow"]


def import_mlflow(
    source: str,
    *,
    experiments: Sequence[str] | None = None,
    dry_run: bool = False,
    server: str | None = None,
    context: Context | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Bring an MLflow store into mloop; return what was brought and what was there already.

    Args:
        source: an ``mlruns`` folder, an MLflow database URI (``sqlite:///mlflow.db``,
            ``postgresql://...``) or a running MLflow server (``http://host:5000``).
        experiments: only these experiments (by name), and only the model versions
            whose run is in them; default every active experiment and model.
        dry_run: count what would be brought, write nothing.
        server: the MLflow server whose artifact proxy holds ``mlflow-artifacts:``
            URIs, for a database source.
        context: where to import (default: the fluent API's store and project).
        progress: called with ``(done, total)`` as each experiment and model is done.

    Raises:
        InvalidInput: an unknown kind of source, one that is not an MLflow store,
            or an experiment name it does not have.
        NotFound: no such folder or database file.
        PermissionDenied: the server wants a login (``MLFLOW_TRACKING_USERNAME``
            and ``MLFLOW_TRACKING_PASSWORD``, or ``MLFLOW_TRACKING_TOKEN``).
        StoreError: the database or server cannot be reached.
        ImportStopped: Ctrl-C; it holds the summary of what was brought by then.
    """
    client = Client(context=context) if context is not None else fluent.current_client()
    opened = open_source(source, server=server)
    summary = ImportSummary(source=opened.description, dry_run=dry_run)
    try:
        chosen = _chosen(opened.experiments(), experiments, summary)
        models = opened.models()
        step = _Steps(len(chosen) + len(models), progress)
        with tempfile.TemporaryDirectory(prefix="mloop-import-") as scratch:
            runs = RunWriter(client, opened, summary, Path(scratch))
            for record in chosen:
                experiment_id = runs.experiment(record)
                if experiment_id is not None:
                    runs.runs(record, experiment_id)
                step()
            writer = ModelWriter(
                client.context, opened, summary, Path(scratch), runs.imported, runs.artifact_uris
            )
            for model in models:
                _model(writer, opened, model, runs, experiments)
                step()
    except ImportStopped:
        raise
    except KeyboardInterrupt:
        raise ImportStopped(summary) from None
    finally:
        opened.close()
    return summary


def _chosen(
    found: list[ExperimentRecord], names: Sequence[str] | None, summary: ImportSummary
) -> list[ExperimentRecord]:
    """The experiments to bring: the named ones (all must exist), else the active ones."""
    if names:
        known = {e.name for e in found}
        missing = sorted(set(names) - known)
        if missing:
            raise InvalidInput(
                f"the MLflow store has no experiment named {', '.join(map(repr, missing))}; "
                f"it has: {', '.join(sorted(known)) or 'none'}"
            )
        found = [e for e in found if e.name in set(names)]
    chosen = []
    for record in found:
        if record.deleted:
            summary.skip("deleted experiment", record.name)
        else:
            chosen.append(record)
    return chosen


def _model(
    writer: ModelWriter,
    source: Source,
    model: ModelRecord,
    runs: RunWriter,
    experiments: Sequence[str] | None,
) -> None:
    versions = source.versions(model)
    if experiments:  # only versions made by runs of the chosen experiments
        versions = [v for v in versions if v.run_id in runs.artifact_uris]
        if not versions:
            return
    writer.model(model, versions)


class _Steps:
    """Counts finished steps out of ``total`` and tells ``progress``."""

    def __init__(self, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)
