from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mloop
from mloop.data.tabular import read_table
from mloop.errors import InvalidInput


def test_formats_stack_in_path_order(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), tmp_path / "1.parquet")
    (tmp_path / "2.csv").write_text("a,b\n3,z\n")
    (tmp_path / "3.jsonl").write_text('{"a": 4, "b": "w"}\n')
    (tmp_path / "4.tsv").write_text("a\tb\n5\tv\n")
    (tmp_path / "notes.txt").write_text("ignored")
    table = read_table(sorted(tmp_path.iterdir()))
    assert table.column("a").to_pylist() == [1, 2, 3, 4, 5]
    assert table.column("b").to_pylist() == ["x", "y", "z", "w", "v"]


def test_mixed_types_in_a_csv_column_read_as_strings(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("v\n1\nabc\n2.5\n")
    assert read_table([tmp_path / "m.csv"]).column("v").to_pylist() == ["1", "abc", "2.5"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("broken.parquet", b"PAR1 not really parquet", "not a readable parquet file"),
        ("bad.jsonl", b"{not json}\n", "not a readable jsonl file"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        read_table([tmp_path / name])


def test_no_tabular_file_and_mismatched_schemas(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(InvalidInput, match="no tabular file"):
        read_table([tmp_path / "a.txt"])
    pq.write_table(pa.table({"a": [1]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": [pa.scalar({"k": 1})]}), tmp_path / "2.parquet")
    with pytest.raises(InvalidInput, match="do not share one schema"):
        read_table([tmp_path / "1.parquet", tmp_path / "2.parquet"])


def test_dataset_to_pandas_and_arrow(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "part-1.csv").write_text("id,score\n1,0.5\n")
    (folder / "part-2.csv").write_text("id,score\n2,0.7\n")
    version = mloop.data.add(folder, name="scores")
    frame = mloop.data.get(version.ref).to_pandas()
    assert frame["id"].tolist() == [1, 2]
    assert mloop.data.get("scores").to_arrow().num_rows == 2
