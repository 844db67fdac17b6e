"""``mloop monitor drift``: files and dataset versions compared as a user runs it."""

from __future__ import annotations

import json
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
