"""Personal data: detecting it in tabular columns, and pseudonymizing it before storage.

Detection looks at a sample of each text column for e-mail addresses, phone
numbers, IP addresses, payment card numbers (Luhn-checked) and national-ID-like
numbers. Pseudonymization replaces a column's values with keyed hashes
(HMAC-SHA256 with the project secret, so equal values stay equal and joins
still work) or with a mask, in a copy of the files: raw values never reach the
store.

Example:
    >>> import pyarrow as pa
    >>> detect_pii(pa.table({"contact": ["a@b.io", "c@d.org"], "n": ["x", "y"]}))
    {'contact': 'email'}
    >>> luhn_valid("4111 1111 1111 1111")
    True
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from mloop.data.formats import READERS
from mloop.data.profile import logical_type
from mloop.data.tabular import read_table
from mloop.errors import InvalidInput

SAMPLE_SIZE = 1000
MIN_SHARE = 0.5
MASK = "***"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$"),
    "ip": re.compile(
        r"^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$|^[0-9a-fA-F:]{7,39}$"
    ),
    "national_id": re.compile(r"^\d{3}-\d{2}-\d{4}$"),
    "phone": re.compile(r"^\+?[\d\s().-]{7,20}$"),
}


def luhn_valid(text: str) -> bool:
    """True for a 13-19 digit number passing the Luhn check (spaces and dashes ignored)."""
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(digits) != len(re.sub(r"[\s-]", "", text)):
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _kind_of(values: Sequence[str]) -> str | None:
    checks: list[tuple[str, Callable[[str], bool]]] = [
        ("email", lambda v: bool(_PATTERNS["email"].match(v))),
        ("card", luhn_valid),
        ("national_id", lambda v: bool(_PATTERNS["national_id"].match(v))),
        ("ip", lambda v: bool(_PATTERNS["ip"].match(v)) and ("." in v or v.count(":") >= 2)),
        ("phone", lambda v: bool(_PATTERNS["phone"].match(v)) and sum(c.isdigit() for c in v) >= 7),
    ]
    for kind, check in checks:
        if sum(1 for v in values if check(v.strip())) >= MIN_SHARE * len(values):
            return kind
    return None


def detect_pii(table: pa.Table, sample_size: int = SAMPLE_SIZE) -> dict[str, str]:
    """Columns that likely hold personal data, with the kind found in most sampled values."""
    found: dict[str, str] = {}
    for name in table.column_names:
        column = table.column(name)
        if logical_type(column.type) != "string":
            continue
        values = [v for v in pc.drop_null(column).slice(0, sample_size).to_pylist() if v]
        if values and (kind := _kind_of(values)) is not None:
            found[name] = kind
    return found


def _sample(path: Path, rows: int) -> pa.Table:
    """The first ``rows`` or so of one tabular file, without reading all of it."""
    kind = READERS[path.suffix.lower()]
    if kind == "parquet":
        batches = pq.ParquetFile(path).iter_batches(batch_size=rows)
        first = next(batches, None)
        return pa.Table.from_batches([first]) if first is not None else pa.table({})
    if kind == "jsonl":
        return read_table([path]).slice(0, rows)
    options = pa_csv.ParseOptions(delimiter="\t" if kind == "tsv" else ",")
    with pa_csv.open_csv(path, parse_options=options) as reader:
        return pa.Table.from_batches([reader.read_next_batch()]).slice(0, rows)


def sample_pii(paths: Sequence[Path], sample_size: int = SAMPLE_SIZE) -> dict[str, str]:
    r""":func:`detect_pii` over the first rows of the first tabular file among ``paths``.

    Cheap enough to run on every add; a file that cannot be read finds nothing
    here (reading it as a table later says what is wrong).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "people.csv").write_text("email,n\na@b.io,1\nc@d.org,2\n")
        >>> sample_pii([folder / "people.csv"])
        {'email': 'email'}
    """
    tabular = sorted(p for p in paths if p.suffix.lower() in READERS)
    if not tabular:
        return {}
    try:
        return detect_pii(_sample(tabular[0], sample_size), sample_size)
    except (pa.ArrowException, InvalidInput, OSError, StopIteration):
        return {}


def pseudonym(value: object, secret: bytes) -> str:
    """The keyed hash that stands for ``value``: equal values, equal pseudonyms.

    Example:
        >>> pseudonym("a@b.io", b"key") == pseudonym("a@b.io", b"key") != pseudonym("a@b.io", b"k2")
        True
        >>> len(pseudonym(41, b"key"))
        32
    """
    return hmac.new(secret, str(value).encode(), hashlib.sha256).hexdigest()[:32]


def _replace(column: pa.ChunkedArray, secret: bytes | None) -> pa.Array:
    def hide(value: object) -> str | None:
        if value is None:
            return None
        if secret is None:
            return MASK
        return pseudonym(value, secret)

    return pa.array([hide(v) for v in column.to_pylist()], type=pa.string())


def _write(table: pa.Table, path: Path) -> None:
    kind = READERS[path.suffix.lower()]
    if kind == "parquet":
        pq.write_table(table, path)
    elif kind == "jsonl":
        table.to_pandas().to_json(path, orient="records", lines=True)
    else:
        options = pa_csv.WriteOptions(delimiter="\t" if kind == "tsv" else ",")
        pa_csv.write_csv(table, path, write_options=options)


def pseudonymize_file(
    source: Path, target: Path, columns: Sequence[str], secret: bytes | None
) -> None:
    """Write ``source`` to ``target`` with ``columns`` hashed (or masked when ``secret`` is None).

    Raises:
        InvalidInput: the file is not tabular, or lacks one of the columns.
    """
    if source.suffix.lower() not in READERS:
        raise InvalidInput(f"{source.name} is not a tabular file; only tables can be pseudonymized")
    table = read_table([source])
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInput(f"{source.name} has no column(s) {missing} to pseudonymize")
    for name in columns:
        index = table.column_names.index(name)
        table = table.set_column(index, name, _replace(table.column(name), secret))
    target.parent.mkdir(parents=True, exist_ok=True)
    _write(table, target)
