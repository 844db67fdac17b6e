"""Batch scoring: chunked round trips, signature checks, all-or-nothing output, lineage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LinearRegression

import mloop
from mloop.errors import InvalidInput, MloopError, NotFound
from mloop.serving import batch_io, predict_batch
from mloop.serving.batch_chunks import prediction_columns
from mloop.serving.batch_ray import _raise_if_failed, _Scorer


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {"id": np.arange(rows), "x": rng.normal(size=rows), "y": rng.normal(size=rows)}
    )


@pytest.fixture
def model_path(home: Path, tmp_path: Path) -> str:
    train = frame(50)
    features = train[["x", "y"]]
    model = LinearRegression().fit(features, 2 * train["x"] - train["y"] + 1)
    path = tmp_path / "model"
    mloop.models.save(model, path, input_example=features.head(3))
    return str(path)


def expected(model_path: str, data: pd.DataFrame) -> np.ndarray:
    return np.asarray(mloop.models.load(model_path).predict(data[["x", "y"]]))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_file_round_trips_equal_to_predict_on_the_whole_frame(
    model_path: str, tmp_path: Path, suffix: str
) -> None:
    data = frame(1000)
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    data.to_parquet(source) if suffix == ".parquet" else data.to_csv(source, index=False)
    result = predict_batch(model_path, source, target, chunk_rows=128)
    scored = pd.read_parquet(target) if suffix == ".parquet" else pd.read_csv(target)
    assert result.rows == 1000 and result.output == target
    assert list(scored.columns) == ["id", "x", "y", "prediction"]
    assert scored["id"].tolist() == list(range(1000))
    np.testing.assert_allclose(scored["prediction"], expected(model_path, data))


def test_many_small_chunks_give_the_same_answer_as_one(model_path: str, tmp_path: Path) -> None:
    data = frame(300)
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(data), source, row_group_size=70)
    predict_batch(model_path, source, tmp_path / "one.parquet", chunk_rows=10_000)
    calls: list[tuple[int, int | None]] = []
    predict_batch(
        model_path,
        source,
        tmp_path / "many.parquet",
        chunk_rows=7,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert len(calls) == 43 and calls[-1] == (300, 300)  # ceil(300 / 7) chunks
    assert calls[0] == (7, 300)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "one.parquet"), pd.read_parquet(tmp_path / "many.parquet")
    )


def test_chunks_of_a_csv_are_exactly_chunk_rows_long(tmp_path: Path) -> None:
    frame(25).to_csv(tmp_path / "a.csv", index=False)
    frame(10).to_parquet(tmp_path / "b.parquet")
    lengths = [
        len(c) for c in batch_io.read_chunks([tmp_path / "a.csv", tmp_path / "b.parquet"], 8)
    ]
    assert lengths == [8, 8, 8, 8, 3]


def test_a_csv_streams_and_a_bad_value_far_down_fails_after_the_first_chunks(
    model_path: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.csv"
    lines = [f"{i},{i / 7:.6f},1.0" for i in range(120_000)]  # ~2 MB: several reader blocks
    lines[110_000] = "110000,not-a-number,1.0"
    source.write_text("id,x,y\n" + "\n".join(lines) + "\n")
    chunks = batch_io.read_chunks([source], chunk_rows=1000)
    assert len(next(chunks)) == 1000  # read before the rest of the file is
    with pytest.raises(InvalidInput, match=r"cannot read .*big.csv' after its first [0-9,]+ rows"):
        list(chunks)
    with pytest.raises(InvalidInput, match=r"cannot read"):
        predict_batch(model_path, source, tmp_path / "out.parquet", chunk_rows=1000)
    assert not (tmp_path / "out.parquet").exists()


def test_a_float_column_of_whole_numbers_first_is_read_as_floats(
    model_path: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    rows = [f"{i},{i},2" for i in range(100_000)] + ["100000,0.5,2.5"]  # floats after a block
    source.write_text("id,x,y\n" + "\n".join(rows) + "\n")
    result = predict_batch(model_path, source, tmp_path / "out.parquet", chunk_rows=50_000)
    assert result.rows == 100_001
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert scored["x"].dtype == np.float64 and scored["id"].dtype == np.int64


def test_a_dataset_version_is_scored_and_the_lineage_recorded(
    model_path: str, tmp_path: Path
) -> None:
    data = frame(200)
    folder = tmp_path / "applicants"
    folder.mkdir()
    data.iloc[:120].to_parquet(folder / "part-0.parquet")
    data.iloc[120:].to_parquet(folder / "part-1.parquet")
    version = mloop.data.add(folder, name="applicants")
    target = tmp_path / "scores.parquet"
    result = predict_batch(
        model_path, "applicants@latest", target, chunk_rows=50, register="scores", keep=["id"]
    )
    scored = pd.read_parquet(target)
    assert list(scored.columns) == ["id", "prediction"]
    np.testing.assert_allclose(scored["prediction"], expected(model_path, data))
    run = mloop.get_run(result.run_id)
    assert mloop.get_experiment(run.info.experiment_id).name == "batch-scoring"
    inputs = {(io.kind, io.direction): io for io in run.inputs}
    assert inputs["dataset", "input"].digest == version.digest
    assert inputs["model", "input"].digest == mloop.models.load(model_path).digest
    assert run.data.metrics["rows"] == 200
    assert result.dataset == "scores@1"
    assert mloop.data.get("scores@1").run_id == result.run_id
    assert mloop.data.lineage("scores@1")["produced_by"] == result.run_id
    assert [o.name for o in run.outputs] == ["scores"]


def test_a_bad_column_fails_before_any_output_exists(model_path: str, tmp_path: Path) -> None:
    data = frame(100)
    folder, target = tmp_path / "in", tmp_path / "out.parquet"
    folder.mkdir()
    data.iloc[:60].to_parquet(folder / "part-0.parquet")
    data.iloc[60:].astype({"x": str}).to_parquet(folder / "part-1.parquet")
    with pytest.raises(InvalidInput, match=r"rows 60-84 of the input.*'x'"):
        predict_batch(model_path, folder, target, chunk_rows=25)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "in", "model"]


def test_a_missing_column_fails_naming_it(model_path: str, tmp_path: Path) -> None:
    frame(10).drop(columns="y").to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InvalidInput, match=r"rows 0-9 of the input.*'y'"):
        predict_batch(model_path, tmp_path / "in.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_a_stop_mid_way_leaves_no_output_and_keeps_an_older_one(
    model_path: str, tmp_path: Path, stop: type[BaseException]
) -> None:
    frame(100).to_parquet(tmp_path / "in.parquet")
    target = tmp_path / "out.parquet"
    target.write_bytes(b"the previous answer")

    def interrupt(done: int, total: int | None) -> None:
        if done >= 40:
            raise stop("stopped")

    with pytest.raises(stop):
        predict_batch(
            model_path, tmp_path / "in.parquet", target, chunk_rows=20, progress=interrupt
        )
    assert target.read_bytes() == b"the previous answer"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "home",
        "in.parquet",
        "model",
        "out.parquet",
    ]
    failed = mloop.search_runs(experiment_names=["batch-scoring"], output_format="list")
    assert [r.info.status.value for r in failed] in (["FAILED"], ["KILLED"])


def test_clear_errors_for_bad_paths_and_uris(model_path: str, tmp_path: Path) -> None:
    frame(5).to_parquet(tmp_path / "in.parquet")
    (tmp_path / "in.json").write_text("{}")
    good = tmp_path / "in.parquet"
    with pytest.raises(InvalidInput, match=r"'.*out.txt' is neither Parquet"):
        predict_batch(model_path, good, tmp_path / "out.txt")
    with pytest.raises(InvalidInput, match=r"in.json' is neither Parquet"):
        predict_batch(model_path, tmp_path / "in.json", tmp_path / "out.csv")
    with pytest.raises(NotFound, match=r"no file or folder .*missing.parquet"):
        predict_batch(model_path, tmp_path / "missing.parquet", tmp_path / "out.csv")
    with pytest.raises(NotFound, match="no folder"):
        predict_batch(model_path, good, tmp_path / "nowhere" / "out.csv")
    with pytest.raises(NotFound):
        predict_batch("models:/nothing/1", good, tmp_path / "out.csv")
    with pytest.raises(NotFound):
        predict_batch(model_path, "nothing@latest", tmp_path / "out.csv")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no table here")
    mloop.data.add(tmp_path / "notes", name="notes")
    with pytest.raises(InvalidInput, match="dataset notes@1 holds no Parquet or CSV files"):
        predict_batch(model_path, "notes@1", tmp_path / "out.csv")
    with pytest.raises(InvalidInput, match="chunk_rows"):
        predict_batch(model_path, good, tmp_path / "out.csv", chunk_rows=0)
    with pytest.raises(InvalidInput, match="executor"):
        predict_batch(model_path, good, tmp_path / "out.csv", executor="spark")
    with pytest.raises(InvalidInput, match="no column 'name'"):
        predict_batch(model_path, good, tmp_path / "out.csv", keep=["name"])
    assert not (tmp_path / "out.csv").exists()
    assert mloop.search_runs(experiment_names=["batch-scoring"], output_format="list")[0]


def test_answers_become_columns() -> None:
    assert list(prediction_columns(pd.DataFrame({"label": [1], "score": [0.5]}), 1)) == [
        "label",
        "score",
    ]
    assert list(prediction_columns([[1.0], [2.0]], 2)) == ["prediction"]
    with pytest.raises(MloopError, match="answered 1 value"):
        prediction_columns(np.zeros(1), 2)
    with pytest.raises(MloopError, match="shape"):
        prediction_columns(np.zeros((2, 2, 2)), 2)


@pytest.fixture
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_the_ray_executor_gives_the_same_answer(
    model_path: str, tmp_path: Path, local_ray: None
) -> None:
    data = frame(400)
    folder = tmp_path / "in"
    folder.mkdir()
    data.iloc[:250].to_parquet(folder / "part-0.parquet")
    data.iloc[250:].to_csv(folder / "part-1.csv", index=False)
    target = tmp_path / "ray.parquet"
    result = predict_batch(model_path, folder, target, chunk_rows=64, executor="ray")
    assert result.rows == 400
    scored = pd.read_parquet(target)
    assert scored["id"].tolist() == list(range(400))  # in the input's order
    np.testing.assert_allclose(scored["prediction"], expected(model_path, data))


def test_a_ray_worker_hands_back_a_refused_chunk_as_the_error_it_was(model_path: str) -> None:
    scorer = object.__new__(_Scorer)  # as on a worker, without starting Ray
    scorer.model, scorer.keep = mloop.models.load(model_path), None
    answer = scorer(pa.table({"x": ["a"], "y": [1.0]}))
    with pytest.raises(InvalidInput, match=r"a chunk of rows of the input: .*'x'"):
        _raise_if_failed(answer)
    _raise_if_failed(scorer(pa.table({"x": [1.0], "y": [1.0]})))
