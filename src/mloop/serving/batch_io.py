"""Tables in and out of batch scoring: chunked readers and an all-or-nothing writer.

Reading never holds more than a chunk (plus one block of the file) in memory:
Parquet through :meth:`pyarrow.parquet.ParquetFile.iter_batches`, CSV through
pyarrow's streaming reader (:func:`pyarrow.csv.open_csv`), both cut into
chunks of exactly ``chunk_rows`` rows (the last may be shorter). Writing goes
to a hidden file beside the target, renamed over it only when every chunk is
written: a failure or Ctrl-C leaves no output at all.

Example:
    >>> import pyarrow as pa, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with TableWriter(f"{folder}/out.csv") as writer:
    ...     writer.write(pa.table({"x": [1, 2, 3]}))
    >>> [len(chunk) for chunk in read_chunks([f"{folder}/out.csv"], chunk_rows=2)]
    [2, 1]
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from mloop.errors import InvalidInput, NotFound
from mloop.models.signature import STRING, Signature

PARQUET: Final = "parquet"
CSV: Final = "csv"
_SUFFIXES: Final = {".parquet": PARQUET, ".pq": PARQUET, ".csv": CSV}
SUPPORTED: Final = "Parquet (.parquet, .pq) or CSV (.csv)"


def table_format(path: str | os.PathLike[str]) -> str:
    """``parquet`` or ``csv``, by the file's extension.

    Example:
        >>> table_format("scores.parquet"), table_format("scores.csv")
        ('parquet', 'csv')

    Raises:
        InvalidInput: any other extension.
    """
    found = _SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise InvalidInput(
            f"{os.fspath(path)!r} is neither {SUPPORTED}: name the file with one of those "
            "extensions"
        )
    return found


def table_files(path: str | os.PathLike[str]) -> list[Path]:
    """The tabular files at ``path``: the file itself, or a folder's files in name order.

    Example:
        >>> table_files("scores.txt")
        Traceback (most recent call last):
        ...
        mloop.errors.NotFound: no file or folder 'scores.txt'

    Raises:
        NotFound: nothing at ``path``.
        InvalidInput: a file of another format, or a folder without Parquet or CSV files.
    """
    root = Path(path)
    if root.is_file():
        table_format(root)
        return [root]
    if not root.is_dir():
        raise NotFound(f"no file or folder {os.fspath(path)!r}")
    found = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in _SUFFIXES and not p.name.startswith((".", "_"))
    )
    if not found:
        raise InvalidInput(f"folder {os.fspath(path)!r} holds no {SUPPORTED} files")
    return found


def count_rows(files: Sequence[Path]) -> int | None:
    """Rows in all ``files`` when their footers say so (Parquet only), else None."""
    if any(table_format(f) != PARQUET for f in files):
        return None
    return sum(int(pq.ParquetFile(f).metadata.num_rows) for f in files)


def csv_types(signature: Signature | None) -> dict[str, pa.DataType]:
    """Arrow types for a CSV's float and string columns, from the signature's inputs.

    The CSV reader guesses a column's type from its first block: a float column
    whose first rows are whole numbers would be read as integers, and a later
    ``1.5`` would fail. Declared floats are read as floats and strings as
    strings from the first row on; other columns are inferred.

    Example:
        >>> from mloop.models.signature import ColumnSpec, Signature
        >>> csv_types(Signature((ColumnSpec("x", "float32"), ColumnSpec("n", "int64"))))
        {'x': DataType(double)}
    """
    if signature is None or not isinstance(signature.inputs, tuple):
        return {}
    found: dict[str, pa.DataType] = {}
    for column in signature.inputs:
        if column.type.startswith("float"):
            found[column.name] = pa.float64()
        elif column.type == STRING:
            found[column.name] = pa.string()
    return found


def _batches(
    path: Path, chunk_rows: int, types: Mapping[str, pa.DataType]
) -> Iterator[pa.RecordBatch]:
    if table_format(path) == PARQUET:
        yield from pq.ParquetFile(path).iter_batches(batch_size=chunk_rows)
        return
    convert = pa_csv.ConvertOptions(column_types=dict(types))
    with pa_csv.open_csv(path, convert_options=convert) as reader:
        yield from reader


def read_chunks(
    paths: Sequence[str | os.PathLike[str]],
    chunk_rows: int,
    csv_types: Mapping[str, pa.DataType] | None = None,
) -> Iterator[pa.Table]:
    """The rows of ``paths``, in order, as tables of ``chunk_rows`` rows (the last may be fewer).

    A file whose columns differ from the file before it (in name or type) starts
    a new chunk, so each chunk is one table with one type per column. A CSV's
    columns named in ``csv_types`` are read as those types (see :func:`csv_types`).

    Raises:
        InvalidInput: a file that does not parse (a CSV value of another type than the
            column's first rows, say), naming the file.
    """
    pending: list[pa.RecordBatch] = []
    held = 0
    for path in map(Path, paths):
        read = 0
        try:
            for batch in _batches(path, chunk_rows, csv_types or {}):
                read += batch.num_rows
                if pending and batch.schema != pending[0].schema:
                    # Another file, other types: its rows start a chunk of their own.
                    yield pa.Table.from_batches(pending)
                    pending, held = [], 0
                pending.append(batch)
                held += batch.num_rows
                while held >= chunk_rows:
                    table = pa.Table.from_batches(pending)
                    yield table.slice(0, chunk_rows)
                    rest = table.slice(chunk_rows)
                    pending, held = rest.to_batches(), rest.num_rows
        except pa.ArrowInvalid as err:
            # A CSV is parsed a block of rows at a time: the bad value is in the block after
            # the rows read so far (pyarrow's message names its column and the value).
            where = f" after its first {read:,} rows" if read else ""
            raise InvalidInput(f"cannot read {os.fspath(path)!r}{where}: {err}") from None
    if held:
        yield pa.Table.from_batches(pending)


class TableWriter:
    """Writes chunks to a hidden file beside ``target`` and renames it over ``target`` at the end.

    A context manager: leaving the block normally renames the file into place;
    leaving it by an exception (Ctrl-C included) removes the hidden file, so
    ``target`` is either the whole answer or left as it was. The first chunk
    fixes the columns; later ones are cast to them.

    Example:
        >>> import pyarrow as pa, tempfile
        >>> target = tempfile.mkdtemp() + "/out.parquet"
        >>> with TableWriter(target) as writer:
        ...     writer.write(pa.table({"x": [1.5]}))
        >>> pa.parquet.read_table(target).num_rows
        1

    Raises:
        InvalidInput: ``target`` has another extension than Parquet's or CSV's.
        NotFound: ``target``'s folder does not exist.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = Path(target)
        self.format = table_format(self.target)
        if not self.target.parent.is_dir():
            raise NotFound(
                f"no folder {os.fspath(self.target.parent)!r} to write {self.target.name!r} "
                "into: create it first"
            )
        self.rows = 0
        self._temporary = self.target.with_name(
            f".{self.target.name}.{secrets.token_hex(4)}.partial"
        )
        self._writer: pq.ParquetWriter | pa_csv.CSVWriter | None = None
        self._schema: pa.Schema | None = None

    def __enter__(self) -> TableWriter:
        return self

    def write(self, table: pa.Table) -> None:
        """Append a chunk (cast to the first chunk's columns)."""
        if self._writer is None:
            self._schema = table.schema
            if self.format == PARQUET:
                self._writer = pq.ParquetWriter(self._temporary, table.schema)
            else:
                self._writer = pa_csv.CSVWriter(self._temporary, table.schema)
        elif self._schema is not None and table.schema != self._schema:
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, ValueError) as err:
                raise InvalidInput(
                    f"rows {self.rows}-{self.rows + table.num_rows - 1} have other columns or "
                    f"types than the rows before them ({err})"
                ) from None
        self._writer.write_table(table)
        self.rows += table.num_rows

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            if kind is None:
                if self._writer is None:  # no rows at all: an empty file, still of the format
                    self._schema = pa.schema([])
                    self._empty()
                os.replace(self._temporary, self.target)
        finally:
            self._temporary.unlink(missing_ok=True)

    def _empty(self) -> None:
        if self.format == PARQUET:
            pq.write_table(pa.table({}), self._temporary)
        else:
            self._temporary.write_bytes(b"")
