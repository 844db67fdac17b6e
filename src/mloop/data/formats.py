"""Which files are tables, by suffix (no heavy imports, so any module may ask).

Example:
    >>> (is_tabular("part-0.parquet"), is_tabular("notes.txt"))
    (True, False)
"""

from __future__ import annotations

from pathlib import PurePath

READERS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def is_tabular(path: str) -> bool:
    """True for the file types :func:`mloop.data.tabular.read_table` reads."""
    return PurePath(path).suffix.lower() in READERS
