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

EXCERPT_CHARS = 160
_SNIFF_BYTES = 8192


def printable(text: str, limit: int = EXCERPT_CHARS) -> str:
    r"""``text`` safe to show in a terminal or log: control characters escaped, cut at ``limit``.

    Readers quote the rows they fail on; a row of a binary file would
    otherwise print raw bytes (escape sequences among them).

    Example:
        >>> printable("row: \x1b[2J\x00ok\n")
        'row: \\x1b[2J\\x00ok\\n'
        >>> printable("x" * 10, limit=4)
        'xxxx…'
    """
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _binary_start(path: Path) -> bytes | None:
    # A text table holds no NUL byte; a binary file (an archive, an image) almost always does.
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    return head if b"\x00" in head else None


def _read_one(path: Path) -> pa.Table:
    kind = READERS[path.suffix.lower()]
    name = printable(path.name)
    if path.stat().st_size == 0:
        raise InvalidInput(f"{name} is empty: there is no table to read")
    if kind != "parquet" and (head := _binary_start(path)) is not None:
        raise InvalidInput(
            f"{name} is not a {kind} file: it holds binary data (it starts with "
            f"{printable(repr(head[:24]))}); save the table as {kind} text, or give the "
            "file the suffix of its real format"
        )
    try:
        if kind == "parquet":
            return pq.read_table(path)
        if kind == "jsonl":
            return pa_json.read_json(path)
        delimiter = "\t" if kind == "tsv" else ","
        return pa_csv.read_csv(path, parse_options=pa_csv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError) as err:
        raise InvalidInput(f"{name} is not a readable {kind} file: {printable(str(err))}") from None


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
        raise InvalidInput(
            f"the tabular files do not share one schema: {printable(str(err), 600)}"
        ) from None
