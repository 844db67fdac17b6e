from __future__ import annotations

import json
from pathlib import Path

import pytest

import mloop
from tests.cli.conftest import invoke, run_mloop


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    root.mkdir()
    (root / "a.csv").write_text("x\n1\n")
    (root / "b.csv").write_text("x\n2\n")
    return root


def test_add_ls_show_tag_get(home: Path, folder: Path, tmp_path: Path) -> None:
    code, out, err = invoke("data", "add", str(folder), "--name", "raw", "-t", "prod")
    assert code == 0, err
    assert out.startswith("raw@1  2 file(s)")
    (folder / "c.csv").write_text("x\n3\n")
    assert invoke("data", "add", str(folder), "-n", "raw")[1].startswith("raw@2  3 file(s)")
    code, out, _ = invoke("data", "ls", "--json")
    assert [(d["name"], d["version"]) for d in json.loads(out)] == [("raw", 2)]
    code, out, _ = invoke("data", "ls", "raw")
    assert "raw@1" in out and "raw@2" in out and "prod" in out
    code, out, _ = invoke("data", "show", "raw@prod", "--json")
    shown = json.loads(out)
    assert (shown["version"], [f["path"] for f in shown["files"]]) == (1, ["a.csv", "b.csv"])
    assert invoke("data", "tag", "raw@2", "prod")[1].strip() == "raw@prod -> raw@2"
    code, out, _ = invoke("data", "get", "raw@prod", "-o", str(tmp_path / "out"))
    assert code == 0
    assert (tmp_path / "out" / "c.csv").read_text() == "x\n3\n"
    code, out, _ = invoke("data", "show", "raw")
    assert "c.csv" in out


def test_errors(home: Path, tmp_path: Path) -> None:
    mloop.Client()  # an empty store: read-only commands never create one
    code, _, err = invoke("data", "add", str(tmp_path / "missing"), "--name", "x")
    assert code == 3 and "error:" in err
    code, _, err = invoke("data", "add", str(tmp_path), "--name", "bad name")
    assert code == 2 and "invalid dataset name" in err
    code, _, err = invoke("data", "show", "nope@1")
    assert code == 3 and "not found" in err
    code, _, err = invoke("data", "tag", "nope@0", "x")
    assert code == 2


def test_console_script(home: Path, folder: Path) -> None:
    result = run_mloop("data", "add", str(folder), "--name", "raw", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["file_count"] == 2
    listed = run_mloop("data", "ls", "--json")
    assert json.loads(listed.stdout)[0]["name"] == "raw"


def test_show_lists_validations(home: Path, folder: Path) -> None:
    import mloop
    from mloop.data import Expectation, ExpectationSuite

    mloop.data.add(folder, name="raw")
    mloop.data.validate("raw", ExpectationSuite("rows", [Expectation("row_count", min=1)]))
    code, out, _ = invoke("data", "show", "raw")
    assert code == 0 and "Validations" in out and "passed" in out


def test_rm(home: Path, folder: Path) -> None:
    import mloop

    mloop.data.add(folder, name="raw")
    code, _, err = invoke("data", "rm", "raw")
    assert code == 2 and "say which version" in err
    code, out, _ = invoke("data", "rm", "raw@1")
    assert code == 0 and "removed raw@1" in out
    code, _, _ = invoke("data", "rm", "raw@1")
    assert code == 3


def test_columns_that_look_personal_are_warned_about_on_stderr(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "people"
    folder.mkdir()
    rows = "\n".join(f"user{i}@example.com,{i}" for i in range(50))
    (folder / "p.csv").write_text(f"email,score\n{rows}\n")
    done = run_mloop("data", "add", str(folder), "--name", "people")
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "email" in done.stderr
    assert "Warning:" not in done.stderr  # not Python's default form


def test_validate_a_file_before_it_is_versioned(home: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    mloop.data.ExpectationSuite(
        "checks", [mloop.data.Expectation("between", column="x", min=0, max=10)]
    ).to_yaml(suite)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("x\n1\n2\n")
    bad.write_text("x\n1\n99\n")
    code, out, err = invoke("data", "validate", str(good), "-s", str(suite))
    assert code == 0, err
    assert "good.csv" in out and "passed" in out
    code, out, _ = invoke("data", "validate", str(bad), "-s", str(suite), "--json")
    assert code == 1 and json.loads(out)["success"] is False
    assert not (home / "mloop.db").exists() or mloop.data.datasets() == []  # nothing versioned
    code, _, err = invoke("data", "validate", str(tmp_path / "missing.csv"), "-s", str(suite))
    assert code == 3
