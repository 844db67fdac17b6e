r"""Reading a dataset version's tabular files (Parquet, CSV/TSV, JSON lines) as one table.

Example:
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"; _ = p.write_text("a,b\n1,x\n2,y\n")
    >>> read_table([p]).num_rows
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from mloop.data.formats import READERS, is_tabular
from mloop.errors import InvalidInput


def _read_one(path: Path) -> pa.Table:
    kind = READERS[path.suffix.lower()]
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path.name} is empty: there is no table to read")
    try:
        if kind == "parquet":
            return pq.read_table(path)
        if kind == "jsonl":
            return pa_json.read_json(path)
        delimiter = "\t" if kind == "tsv" else ","
        return pa_csv.read_csv(path, parse_options=pa_csv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError) as err:
        raise InvalidInput(f"{path.name} is not a readable {kind} file: {err}") from None


def read_table(paths: Sequence[Path]) -> pa.Table:
    """The tabular files, read and stacked in path order.

    Raises:
        InvalidInput: no tabular file, an unreadable or empty one, or files whose
            columns do not match.
    """
    tabular = [p for p in paths if is_tabular(str(p))]
    if not tabular:
        raise InvalidInput(f"no tabular file to read; supported: {', '.join(sorted(READERS))}")
    tables = [_read_one(p) for p in sorted(tabular)]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise InvalidInput(f"the tabular files do not share one schema: {err}") from None
