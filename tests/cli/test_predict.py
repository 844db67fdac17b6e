"""``mloop predict`` as a user runs it: output, summary, exit codes, lineage."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from sklearn.linear_model import LinearRegression

import mloop
from mloop.cli.predict import rows_progress
from mloop.errors import EXIT_INTERRUPTED
from mloop.serving import batch_io
from tests.cli.conftest import ANSI, invoke, run_mloop


@pytest.fixture
def model_path(home: Path, tmp_path: Path) -> str:
    features = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    path = tmp_path / "model"
    mloop.models.save(
        LinearRegression().fit(features, [1.0, 3.0, 5.0, 7.0]), path, input_example=features
    )
    return str(path)


@pytest.fixture
def applicants(tmp_path: Path) -> Path:
    path = tmp_path / "applicants.csv"
    pd.DataFrame({"id": range(50), "x": np.linspace(0, 1, 50)}).to_csv(path, index=False)
    return path


def test_predict_writes_the_answers_and_a_summary(
    model_path: str, applicants: Path, tmp_path: Path
) -> None:
    code, out, err = invoke(
        "predict", model_path, "--input", str(applicants), "--output", "scores.parquet",
        "--chunk-rows", "8", "--keep", "id",
    )  # fmt: skip
    assert code == 0, err
    scored = pd.read_parquet(tmp_path / "scores.parquet")
    assert list(scored.columns) == ["id", "prediction"]
    np.testing.assert_allclose(scored["prediction"], 2 * np.linspace(0, 1, 50) + 1)
    assert out.startswith("50 rows in ") and "-> scores.parquet" in out
    assert err == ""  # piped: no progress bar


def test_predict_registers_the_output_produced_by_its_run(
    model_path: str, applicants: Path
) -> None:
    code, out, err = invoke(
        "predict", model_path, "-i", str(applicants), "-o", "scores.csv", "--predictions-only",
        "--register", "scores", "--experiment", "nightly", "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rows"] == 50 and summary["dataset"] == "scores@1"
    assert list(pd.read_csv("scores.csv").columns) == ["prediction"]
    code, out, _ = invoke("data", "lineage", "scores@1", "--json")
    assert json.loads(out)["produced_by"] == summary["run_id"]
    run = mloop.get_run(summary["run_id"])
    assert mloop.get_experiment(run.info.experiment_id).name == "nightly"
    assert run.data.params["model_uri"] == model_path


def test_a_bad_chunk_exits_2_and_writes_nothing(model_path: str, tmp_path: Path) -> None:
    pd.DataFrame({"x": ["a", "b"]}).to_parquet(tmp_path / "bad.parquet")
    code, _, err = invoke("predict", model_path, "-i", "bad.parquet", "-o", "out.csv")
    assert code == 2
    assert "rows 0-1 of the input" in err and "'x'" in err
    pd.DataFrame({"x": ["a", "b"]}).to_csv(tmp_path / "bad.csv", index=False)
    code, _, err = invoke("predict", model_path, "-i", "bad.csv", "-o", "out.csv")
    assert code == 2
    assert "cannot read 'bad.csv': " in err and "invalid value 'a'" in err
    assert "0 rows" not in err
    assert not (tmp_path / "out.csv").exists()


def test_ctrl_c_exits_130_and_leaves_no_output(
    model_path: str, applicants: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = batch_io.TableWriter.write

    def write_then_stop(self: batch_io.TableWriter, table: object) -> None:
        written(self, table)  # type: ignore[arg-type]
        if self.rows >= 16:
            raise KeyboardInterrupt

    monkeypatch.setattr(batch_io.TableWriter, "write", write_then_stop)
    code, _, err = invoke(
        "predict", model_path, "-i", str(applicants), "-o", "out.parquet", "--chunk-rows", "8"
    )
    assert code == EXIT_INTERRUPTED and "interrupted" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["applicants.csv", "home", "model"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-i", "applicants.csv", "-o", "out.txt"], 2, "is neither Parquet"),
        (["-i", "missing.csv", "-o", "out.csv"], 3, "no file or folder 'missing.csv'"),
        (["-i", "applicants@latest", "-o", "out.csv"], 3, "applicants"),
        (["-i", "applicants.csv", "-o", "out.csv", "--executor", "spark"], 2, "executor"),
        (
            ["-i", "applicants.csv", "-o", "out.csv", "--keep", "id", "--predictions-only"],
            2,
            "not both",
        ),
    ],
)
def test_bad_arguments_exit_with_clear_errors(
    model_path: str, applicants: Path, args: list[str], code: int, message: str
) -> None:
    got, _, err = invoke("predict", model_path, *args)
    assert (got, message in err) == (code, True), err
    assert not Path("out.csv").exists()


def test_a_bad_model_uri_exits_3(home: Path, applicants: Path) -> None:
    code, _, err = invoke("predict", "models:/nothing/1", "-i", str(applicants), "-o", "o.csv")
    assert code == 3 and "nothing" in err


def test_on_a_terminal_a_progress_bar_shows_rows_per_second() -> None:
    screen = Console(file=io.StringIO(), force_terminal=True, width=120)
    with rows_progress("scoring applicants.csv", screen) as progress:
        assert progress is not None
        for done in range(10, 60, 10):
            progress(done, 50)
    drawn = ANSI.sub("", screen.file.getvalue())  # type: ignore[attr-defined]
    assert "scoring applicants.csv" in drawn and "50/50 rows" in drawn and "rows/s" in drawn


def test_piped_there_is_no_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    with rows_progress("scoring") as progress:
        assert progress is None


def test_the_console_script_scores_quietly_into_a_pipe(
    model_path: str, applicants: Path, tmp_path: Path
) -> None:
    done = run_mloop("predict", model_path, "-i", str(applicants), "-o", str(tmp_path / "s.csv"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("50 rows in ") and done.stderr == ""
    assert len(pd.read_csv(tmp_path / "s.csv")) == 50
