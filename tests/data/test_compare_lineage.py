from __future__ import annotations

import json
from pathlib import Path

import mloop
from tests.cli.conftest import invoke


def test_diff_files_and_table(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "t.csv").write_text("x,y\n1,a\n2,b\n")
    (folder / "keep.txt").write_text("same")
    (folder / "old.txt").write_text("gone soon")
    mloop.data.add(folder, name="d")
    (folder / "t.csv").write_text("x,y,z\n1,a,1\n2,b,2\n30,c,3\n")
    (folder / "old.txt").unlink()
    (folder / "new.txt").write_text("new")
    mloop.data.add(folder, name="d")
    changes = mloop.data.diff("d@1", "d@2")
    assert changes["files"] == {
        "added": ["new.txt"],
        "removed": ["old.txt"],
        "changed": ["t.csv"],
        "unchanged": 1,
    }
    tab = changes["table"]
    assert tab["rows"] == [2, 3]
    assert tab["columns_added"] == ["z"]
    assert tab["statistics"]["x"]["max"] == [2.0, 30.0]
    code, out, _ = invoke("data", "diff", "d@1", "d@2")
    first = out.splitlines()[0]  # the summary leads
    assert code == 0 and first.startswith("d@1 -> d@2: 1 file(s) added, 1 file(s) removed")
    assert "rows 2 -> 3 (+1)" in first and "columns added: z" in first
    assert "+ new.txt" not in out and "--all" in out
    code, out, _ = invoke("data", "diff", "d@1", "d@2", "--all")
    assert code == 0 and "+ new.txt" in out and "- old.txt" in out and "2 -> 3" in out
    assert "max of x" in out
    code, out, _ = invoke("data", "diff", "d@1", "d@1")
    assert out.strip() == "d@1 -> d@1: nothing changed"
    code, out, _ = invoke("data", "diff", "d@1", "d@2", "--json")
    assert json.loads(out)["files"]["changed"] == ["t.csv"]
    code, _, err = invoke("data", "diff", "d@1", "d@9")
    assert code == 3 and "no version 9" in err


def test_lineage(home: Path, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    with mloop.start_run() as producer:
        mloop.data.add(tmp_path / "a.csv", name="a")
    with mloop.start_run() as consumer:
        mloop.log_input(mloop.data.get("a"), context="training")
    found = mloop.data.lineage("a@1")
    assert found["produced_by"] == producer.info.run_id
    assert found["consumed_by"] == [{"run_id": consumer.info.run_id, "context": "training"}]
    code, out, _ = invoke("data", "lineage", "a", "--json")
    assert code == 0 and json.loads(out)["produced_by"] == producer.info.run_id
    code, out, _ = invoke("data", "lineage", "a")
    assert "consumed by" in out and "training" in out
