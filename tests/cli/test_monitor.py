"""``mloop monitor drift``: files and dataset versions compared as a user runs it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.errors import EXIT_CHECK_FAILED
from tests.cli.conftest import invoke


@pytest.fixture
def tables(home: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    folder = home.parent
    reference = pd.DataFrame({"age": rng.normal(40, 10, 400), "plan": ["a", "b"] * 200})
    same = pd.DataFrame({"age": rng.normal(40, 10, 400), "plan": ["a", "b"] * 200})
    moved = pd.DataFrame({"age": rng.normal(55, 10, 400), "plan": ["a"] * 300 + ["b"] * 100})
    paths = (folder / "train.csv", folder / "same.parquet", folder / "moved.csv")
    reference.to_csv(paths[0], index=False)
    same.to_parquet(paths[1], index=False)
    moved.to_csv(paths[2], index=False)
    return paths


def test_files_and_dataset_versions_are_compared(tables: tuple[Path, Path, Path]) -> None:
    train, same, moved = tables
    code, out, err = invoke("monitor", "drift", str(train), str(same))
    assert code == 0, err
    assert "0 of 2 column(s) drifted (0%): the table has not drifted" in out
    mloop.data.add(moved, name="scores")
    code, out, err = invoke("monitor", "drift", str(train), "scores@latest", "--fail-on-drift")
    assert code == EXIT_CHECK_FAILED, err
    assert "2 of 2 column(s) drifted (100%): the table drifted" in out
    code, out, _ = invoke("monitor", "drift", str(train), str(moved), "--json", "--columns", "age")
    report = json.loads(out)
    assert [c["column"] for c in report["columns"]] == ["age"]
    assert report["columns"][0]["method"] == "ks" and report["dataset_drifted"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{train}", "missing.csv"], "no file at 'missing.csv'"),
        (["{train}", "nosuch@latest"], "no mloop store here"),
        (["{train}", "{same}", "--method", "magic"], "magic"),
        (["{train}", "{same}", "--columns", "salary"], "salary"),
    ],
)
def test_mistakes_are_clear_errors(
    tables: tuple[Path, Path, Path], args: list[str], message: str
) -> None:
    train, same, _ = tables
    given = [a.replace("{train}", str(train)).replace("{same}", str(same)) for a in args]
    code, out, err = invoke("monitor", "drift", *given)
    assert code != 0 and message in out + err and "Traceback" not in out + err


def test_html_report_is_written_whole(tables: tuple[Path, Path, Path]) -> None:
    train, _, moved = tables
    target = train.parent / "reports" / "drift.html"
    target.parent.mkdir()
    target.write_text("the previous report")
    code, out, err = invoke(
        "monitor", "drift", str(train), str(moved), "--html", str(target), "--fail-on-drift"
    )
    assert code == EXIT_CHECK_FAILED, err  # the report is written before the check says no
    assert f"wrote the HTML report to {target}" in out
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and f"Drift of {moved} against {train}" in page
    assert page.count('<details id="col-') == 2 and "The table drifted" in page
    assert "http://" not in page and "https://" not in page
    assert [p.name for p in target.parent.iterdir()] == ["drift.html"]  # no temporary file left


def test_html_beside_json_keeps_stdout_json(tables: tuple[Path, Path, Path]) -> None:
    train, same, _ = tables
    target = train.parent / "same.html"
    code, out, err = invoke(
        "monitor", "drift", str(train), str(same), "--json", "--html", str(target)
    )
    assert code == 0, err
    assert json.loads(out)["dataset_drifted"] is False
    assert f"wrote the HTML report to {target}" in err and "has not drifted" in target.read_text()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/drift.html", "no folder"),
        (".", "--html needs a file name"),
    ],
)
def test_html_to_a_place_it_cannot_go_fails_before_comparing(
    tables: tuple[Path, Path, Path], where: str, message: str
) -> None:
    train, _, _ = tables
    target = train.parent / where
    # nosuch@latest would fail later, when read: the target is checked first
    code, out, err = invoke("monitor", "drift", str(train), "nosuch@latest", "--html", str(target))
    assert code == 2 and message in err and "no mloop store" not in out + err
    assert "Traceback" not in out + err and not (train.parent / "missing").exists()


def test_a_failed_write_leaves_the_previous_report(
    tables: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mloop.cli import html_files

    train, same, _ = tables
    folder = train.parent / "reports"
    folder.mkdir()
    target = folder / "drift.html"
    target.write_text("the previous report")

    def disk_full(handle: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(html_files, "sync_file", disk_full)
    code, _, err = invoke("monitor", "drift", str(train), str(same), "--html", str(target))
    assert code == 2 and "cannot write the HTML report" in err and "No space left" in err
    assert target.read_text() == "the previous report"
    assert [p.name for p in folder.iterdir()] == ["drift.html"]


def test_html_to_a_folder_not_writable_fails_before_comparing(
    tables: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    train, _, _ = tables
    folder = train.parent / "locked"
    folder.mkdir()
    # Root may write anywhere, so the permission check is told the folder is locked.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path) != folder and real_access(path, mode)
    )
    code, _, err = invoke(
        "monitor", "drift", str(train), "nosuch@latest", "--html", str(folder / "r.html")
    )
    assert code == 2 and f"the folder {str(folder)!r} of the HTML report is not writable" in err
    assert list(folder.iterdir()) == []
