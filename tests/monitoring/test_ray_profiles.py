"""Profiles on Ray: block profiles merged on the driver equal the profile of all rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mloop.cli.app import app
from mloop.errors import InvalidInput
from mloop.monitoring.profiles import TableProfile, profile
from mloop.monitoring.ray_profiles import profile_on_ray

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def table(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": np.round(rng.gamma(2.0, 30.0, rows), 2),
            "visits": rng.poisson(3, rows),
            "plan": rng.choice(["basic", "plus", None], rows),
        }
    )


def same(a: TableProfile, b: TableProfile) -> None:
    assert a.rows == b.rows and list(a.columns) == list(b.columns)
    for name in a.columns:
        mine, theirs = a.column(name), b.column(name)
        assert type(mine) is type(theirs)
        assert mine.counts.tolist() == theirs.counts.tolist() and mine.missing == theirs.missing


def test_files_profiled_on_ray_equal_the_local_profile(local_ray: None, tmp_path: Path) -> None:
    parts = [table(3000, seed) for seed in range(4)]
    files = []
    for index, part in enumerate(parts):
        files.append(tmp_path / f"part-{index}.parquet")
        part.to_parquet(files[-1])
    same(profile_on_ray(files), profile(pd.concat(parts, ignore_index=True)))
    same(profile_on_ray(parts[0], ["amount"]), profile(parts[0], ["amount"]))


def test_bad_sources_are_refused_before_ray_reads(local_ray: None, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no files to profile"):
        profile_on_ray([])
    with pytest.raises(InvalidInput, match="no file at"):
        profile_on_ray([tmp_path / "missing.parquet"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InvalidInput, match="files of one kind"):
        profile_on_ray([tmp_path / "notes.txt"])
    with pytest.raises(InvalidInput, match="a list of files, not one path"):
        profile_on_ray(str(tmp_path / "notes.txt"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="no rows"):
        profile_on_ray(pd.DataFrame({"x": []}))


def test_the_command_profiles_on_ray(local_ray: None, home: Path, tmp_path: Path) -> None:
    reference, current = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    table(2000, 1).to_parquet(reference)
    shifted = table(2000, 2)
    shifted["amount"] += 40
    shifted.to_parquet(current)
    runner = CliRunner()
    result = runner.invoke(
        app, ["monitor", "drift", str(reference), str(current), "--executor", "ray", "--json"]
    )
    assert result.exit_code == 0, result.output
    local = runner.invoke(app, ["monitor", "drift", str(reference), str(current), "--json"])
    assert result.stdout == local.stdout
    refused = runner.invoke(
        app, ["monitor", "drift", str(reference), str(current), "--executor", "dask"]
    )
    assert refused.exit_code == 2 and "--executor must be local or ray" in refused.output
