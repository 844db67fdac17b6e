"""Runs as a pandas DataFrame, with MLflow's column layout.

Columns: ``run_id, experiment_id, run_name, status, artifact_uri, start_time,
end_time`` (times as UTC datetimes), then ``metrics.<key>`` (NaN when
missing), ``params.<key>`` and ``tags.<key>`` (missing values per pandas: None
or NaN, by column type).

The frame is built column by column from a :class:`~mloop.entities.RunTable`,
which a search reads straight from the store; a list of runs is first turned
into one, so both give the same frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mloop.entities import Run, RunTable

if TYPE_CHECKING:
    import pandas as pd


def runs_to_table(runs: Sequence[Run]) -> RunTable:
    """The columns of ``runs``, in the given order.

    Example:
        >>> runs_to_table([]).metrics
        {}
    """
    infos = [r.info for r in runs]
    data = [r.data for r in runs]

    def columns(maps: Sequence[Any]) -> dict[str, list[Any]]:
        keys: set[str] = set()
        for mapping in maps:
            keys.update(mapping)
        return {key: [m.get(key) for m in maps] for key in sorted(keys)}

    return RunTable(
        run_id=[i.run_id for i in infos],
        experiment_id=[i.experiment_id for i in infos],
        run_name=[i.run_name for i in infos],
        status=[i.status.value for i in infos],
        artifact_uri=[i.artifact_uri for i in infos],
        start_time=[i.start_time for i in infos],
        end_time=[i.end_time for i in infos],
        metrics=columns([d.metrics for d in data]),
        params=columns([d.params for d in data]),
        tags=columns([d.tags for d in data]),
    )


def concat_tables(tables: Sequence[RunTable]) -> RunTable:
    """One table holding the rows of ``tables`` in order; a key one lacks is ``None`` there.

    Example:
        >>> a = RunTable(["r1"], ["0"], ["a"], ["FINISHED"], ["u"], [0], [1], params={"x": ["1"]})
        >>> b = RunTable(["r2"], ["0"], ["b"], ["FINISHED"], ["u"], [1], [2], params={"y": ["2"]})
        >>> concat_tables([a, b]).params
        {'x': ['1', None], 'y': [None, '2']}
    """
    if len(tables) == 1:
        return tables[0]
    sizes = [len(t) for t in tables]

    def joined(parts: Sequence[dict[str, list[Any]]]) -> dict[str, list[Any]]:
        keys = sorted({key for part in parts for key in part})
        return {
            key: [
                v for part, n in zip(parts, sizes, strict=True) for v in part.get(key, [None] * n)
            ]
            for key in keys
        }

    def flat(field: str) -> list[Any]:
        return [value for t in tables for value in getattr(t, field)]

    return RunTable(
        run_id=flat("run_id"),
        experiment_id=flat("experiment_id"),
        run_name=flat("run_name"),
        status=flat("status"),
        artifact_uri=flat("artifact_uri"),
        start_time=flat("start_time"),
        end_time=flat("end_time"),
        metrics=joined([t.metrics for t in tables]),
        params=joined([t.params for t in tables]),
        tags=joined([t.tags for t in tables]),
        next_page_token=tables[-1].next_page_token if tables else None,
    )


def table_to_frame(table: RunTable) -> pd.DataFrame:
    """A DataFrame with one row per run of ``table``.

    Example:
        >>> table = RunTable(["r1"], ["0"], ["demo"], ["FINISHED"], ["a:/r1"], [0], [None],
        ...                  metrics={"loss": [None]}, params={"lr": ["0.1"]})
        >>> frame = table_to_frame(table)
        >>> (frame["params.lr"].tolist(), frame["metrics.loss"].isna().tolist())
        (['0.1'], [True])
    """
    import numpy as np
    import pandas as pd  # pandas costs ~0.4 s to import; only searches that return frames pay it.

    def times(values: Sequence[int | None]) -> pd.DatetimeIndex:
        # None becomes NaN, which becomes NaT.
        return pd.to_datetime(np.array(values, dtype=np.float64), unit="ms", utc=True)

    columns: dict[str, Any] = {
        "run_id": table.run_id,
        "experiment_id": table.experiment_id,
        "run_name": table.run_name,
        "status": table.status,
        "artifact_uri": table.artifact_uri,
        "start_time": times(table.start_time),
        "end_time": times(table.end_time),
    }
    for key, metric in table.metrics.items():
        columns[f"metrics.{key}"] = np.array(metric, dtype=np.float64)
    for prefix, mapping in (("params", table.params), ("tags", table.tags)):
        for key, values in mapping.items():
            columns[f"{prefix}.{key}"] = values
    return pd.DataFrame(columns)


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """A DataFrame with one row per run, in the given order.

    Example:
        >>> runs_to_frame([]).columns.tolist()[:3]
        ['run_id', 'experiment_id', 'run_name']
    """
    return table_to_frame(runs_to_table(runs))
