from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mloop
from mloop.data.profile import profile_table
from tests.cli.conftest import invoke


def test_profile_statistics() -> None:
    table = pa.table(
        {
            "n": [1.0, 2.0, 3.0, 4.0, None],
            "i": [1, 1, 2, 3, 3],
            "s": ["a", "b", "a", None, "a"],
            "b": [True, False, True, True, None],
            "t": pa.array([0, 1, 2, 3, 4], type=pa.timestamp("s")),
            "inf": [1.0, math.inf, -math.inf, 2.0, 3.0],
        }
    )
    cols = {c["name"]: c for c in profile_table(table)["columns"]}
    n = cols["n"]
    assert (n["type"], n["nullable"], n["count"], n["nulls"], n["distinct"]) == (
        "float",
        True,
        4,
        1,
        4,
    )
    assert (n["min"], n["max"], n["mean"]) == (1.0, 4.0, 2.5)
    assert n["std"] == pytest.approx(1.2909944)
    assert n["quantiles"]["p50"] == 2.5
    assert sum(n["histogram"]["counts"]) == 4
    assert (cols["i"]["type"], cols["i"]["distinct"], cols["i"]["nullable"]) == (
        "integer",
        3,
        False,
    )
    assert cols["s"]["top"][0] == {"value": "a", "count": 3}
    assert cols["b"]["type"] == "boolean"
    assert cols["t"]["type"] == "datetime" and cols["t"]["min"].startswith("1970-01-01")
    assert (cols["inf"]["min"], cols["inf"]["max"]) == (1.0, 3.0)  # infinities leave the statistics
    json.dumps(profile_table(table), allow_nan=False)  # plain JSON, storable anywhere


def test_empty_and_all_null_columns() -> None:
    cols = profile_table(pa.table({"x": pa.array([None, None], type=pa.float64())}))["columns"]
    assert (cols[0]["count"], cols[0]["nulls"], cols[0]["distinct"]) == (0, 2, 0)
    assert "mean" not in cols[0]


def test_versions_carry_their_profile(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    pq.write_table(pa.table({"id": [1, 2, 3], "city": ["a", "b", None]}), folder / "p.parquet")
    version = mloop.data.add(folder, name="tab")
    assert version.profile is not None and version.profile["rows"] == 3
    assert mloop.data.get("tab").schema == [("id", "integer", False), ("city", "string", True)]
    (tmp_path / "notes.txt").write_text("not a table")
    assert mloop.data.add(tmp_path / "notes.txt", name="text").profile is None


def test_corrupt_table_is_versioned_without_profile(home: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 broken")
    version = mloop.data.add(tmp_path / "bad.parquet", name="bad")
    assert version.profile is None
    code, _, err = invoke("data", "profile", "bad")
    assert code == 2 and "has no profile" in err


def test_cli_profile(home: Path, tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("x,label\n1,a\n2,b\n3,a\n")
    mloop.data.add(tmp_path / "d.csv", name="d")
    code, out, err = invoke("data", "profile", "d@1")
    assert code == 0, err
    assert "3 rows" in out and "a (2)" in out
    code, out, _ = invoke("data", "profile", "d", "--json")
    assert json.loads(out)["columns"][0]["max"] == 3.0


def test_cli_profile_html_report(home: Path, tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("x,label\n1,a\n2,<b>\n3,a\n")
    mloop.data.add(tmp_path / "d.csv", name="d")
    code, _, err = invoke("data", "profile", "d", "--html", str(tmp_path / "r.html"))
    assert code == 0, err
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2
    assert "&lt;b&gt;" in page and "<b>" not in page  # values are escaped
    assert "<script" not in page and "http" not in page  # self-contained


def test_a_column_without_any_value_is_profiled(tmp_path: Path) -> None:
    from mloop.data.tabular import read_table

    (tmp_path / "t.csv").write_text("id,label\n1,\n2,\n")
    (tmp_path / "h.csv").write_text("id,label\n")
    for name in ("t.csv", "h.csv"):
        profile = profile_table(read_table([tmp_path / name]))
        label = next(c for c in profile["columns"] if c["name"] == "label")
        assert label["distinct"] == 0
