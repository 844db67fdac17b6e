from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import mloop
from mloop.errors import InvalidInput, MissingExtra, NotFound
from mloop.tracking.tables import image_bytes, table_json


def test_a_table_round_trips_in_mlflows_split_layout(home: Path) -> None:
    frame = pd.DataFrame({"prompt": ["a", "b"], "score": [0.5, 1.0], "n": [1, 2]})
    with mloop.start_run() as run:
        mloop.log_table(frame, "eval/results.json")
    stored = json.loads(mloop.Client().load_text(run.info.run_id, "eval/results.json"))
    assert stored == {"columns": ["prompt", "score", "n"], "data": [["a", 0.5, 1], ["b", 1.0, 2]]}
    loaded = mloop.load_table("eval/results.json", run_ids=[run.info.run_id])
    pd.testing.assert_frame_equal(loaded, frame)


def test_load_table_stacks_runs_with_extra_columns(home: Path) -> None:
    mloop.set_experiment("tables")
    ids = []
    for i in range(2):
        with mloop.start_run(run_name=f"r{i}") as run:
            mloop.log_table({"x": [i, i + 10]}, "t.json")
            ids.append(run.info.run_id)
    with mloop.start_run():  # a run without the table is skipped
        pass
    other = mloop.start_run().info.run_id
    mloop.end_run()
    mloop.log_table({"x": [99]}, "t.json", run_id=other)  # by id, to an ended run
    table = mloop.load_table("t.json", run_ids=[*ids, other], extra_columns=["run_id", "run_name"])
    assert table["x"].tolist() == [0, 10, 1, 11, 99]
    assert table["run_id"].tolist() == [ids[0], ids[0], ids[1], ids[1], other]
    assert table["run_name"].tolist()[:4] == ["r0", "r0", "r1", "r1"]
    everything = mloop.load_table("t.json")  # the current experiment's runs
    assert sorted(everything["x"].tolist()) == [0, 1, 10, 11, 99]


def test_load_table_errors(home: Path) -> None:
    with mloop.start_run() as run:
        mloop.log_text("not json", "bad.json")
        mloop.log_table({"x": [1]}, "t.json")
    with pytest.raises(NotFound, match=r"missing\.json"):
        mloop.load_table("missing.json", run_ids=[run.info.run_id])
    with pytest.raises(InvalidInput, match="not a table"):
        mloop.load_table("bad.json", run_ids=[run.info.run_id])
    with pytest.raises(InvalidInput, match="'colour'"):
        mloop.load_table("t.json", run_ids=[run.info.run_id], extra_columns=["colour"])


def test_log_table_refuses_what_it_cannot_store(home: Path) -> None:
    with mloop.start_run():
        with pytest.raises(InvalidInput, match=r"\.json"):
            mloop.log_table({"x": [1]}, "t.csv")
        with pytest.raises(InvalidInput, match="equally long"):
            mloop.log_table({"x": [1, 2], "y": [1]}, "t.json")
        with pytest.raises(InvalidInput, match="list"):
            mloop.log_table([1, 2], "t.json")  # type: ignore[arg-type]


def test_table_json_keeps_missing_values_and_numpy_scalars() -> None:
    text = table_json(pd.DataFrame({"a": [np.int64(1), None], "b": [np.nan, 2.5]}))
    assert json.loads(text) == {"columns": ["a", "b"], "data": [[1.0, None], [None, 2.5]]}


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_log_image_numpy_and_pil(home: Path) -> None:
    gray = np.array([[0, 255], [128, 64]], dtype=np.uint8)
    rgb = np.zeros((2, 3, 3), dtype=np.float64)
    rgb[0, 0] = [1.0, 0.0, 0.0]
    with mloop.start_run() as run:
        mloop.log_image(gray, "images/gray.png")
        mloop.log_image(rgb, "images/rgb.png")
        mloop.log_image(Image.fromarray(gray), "images/pil.png")
        mloop.log_image(gray, key="sample", step=3)
        mloop.log_image(gray, key="sample", step=4)
    client = mloop.Client()
    run_id = run.info.run_id
    folder = Path(client.download_artifacts(run_id, "images"))
    gray_back = _pixels((folder / "gray.png").read_bytes())
    assert gray_back[..., 0].tolist() == gray.tolist()
    assert _pixels((folder / "rgb.png").read_bytes())[0, 0, :3].tolist() == [255, 0, 0]
    assert _pixels((folder / "pil.png").read_bytes()).tolist() == gray.tolist()
    series = sorted(p.name for p in (folder / "sample").iterdir())
    assert [name.split("_")[1] for name in series] == ["3", "4"]


def test_log_image_refuses_bad_input(home: Path) -> None:
    with mloop.start_run():
        with pytest.raises(InvalidInput, match="exactly one"):
            mloop.log_image(np.zeros((2, 2)))
        with pytest.raises(InvalidInput, match="exactly one"):
            mloop.log_image(np.zeros((2, 2)), "a.png", key="k")
        with pytest.raises(InvalidInput, match="shape"):
            mloop.log_image(np.zeros((2, 2, 2)), "a.png")
        with pytest.raises(InvalidInput, match=r"0\.0-1\.0"):
            mloop.log_image(np.full((2, 2), 3.0), "a.png")
        with pytest.raises(InvalidInput, match="0-255"):
            mloop.log_image(np.full((2, 2), 300), "a.png")
        with pytest.raises(InvalidInput, match="numpy array or a PIL image"):
            mloop.log_image([[0, 1]], "a.png")
        with pytest.raises(InvalidInput, match=r"\.png"):
            mloop.log_image(np.zeros((2, 2)), "a.txt")


def test_a_numpy_image_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.image", None)
    with pytest.raises(MissingExtra, match=r"mloop\[plot\]"):
        image_bytes(np.zeros((2, 2), dtype=np.uint8))
