from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import mloop
from mloop.errors import InvalidInput, NotFound
from mloop.pipelines import materializers
from mloop.pipelines.materializers import Materializer, by_name, for_type, for_value


@dataclasses.dataclass
class Point:
    x: float
    y: float


POINT = Materializer(
    name="point",
    version="1",
    suffix=".json",
    handles_type=lambda tp: tp is Point,
    handles_value=lambda v: isinstance(v, Point),
    dumps=lambda p: json.dumps([p.x, p.y]).encode(),
    loads=lambda b: Point(*json.loads(b)),
)


@pytest.fixture
def point_plugin() -> Iterator[None]:
    materializers.registry.register("point", "tests.pipelines.test_materializers:POINT")
    yield
    materializers.registry._targets.pop("point", None)
    materializers.registry._loaded.pop("point", None)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ({"a": [1, 2.5, None, True]}, "json"),
        (b"\x00raw", "bytes"),
        (np.arange(6).reshape(2, 3), "numpy"),
        (pd.DataFrame({"a": [1, 2]}, index=[5, 6]), "pandas"),
        (pa.table({"a": [1, 2]}), "arrow"),
    ],
)
def test_round_trips(value: object, name: str) -> None:
    materializer = for_value(value)
    assert materializer.name == name
    back = materializer.loads(materializer.dumps(value))
    if isinstance(value, pd.DataFrame):
        pd.testing.assert_frame_equal(back, value)  # the index survives
    elif isinstance(value, np.ndarray):
        np.testing.assert_array_equal(back, value)
    elif isinstance(value, pa.Table):
        assert back.equals(value)
    else:
        assert back == value


@pytest.mark.parametrize(
    "value", [{"a": float("nan")}, {1: "int key"}, np.array([object()]), object(), {1, 2}]
)
def test_values_nothing_stores(value: object) -> None:
    with pytest.raises(InvalidInput, match="no materializer stores"):
        for_value(value)


def test_types() -> None:
    assert for_type(int).name == "json"  # type: ignore[union-attr]
    assert for_type(dict[str, list[float]]).name == "json"  # type: ignore[union-attr]
    assert for_type(int | None).name == "json"  # type: ignore[union-attr]
    assert for_type(np.ndarray).name == "numpy"  # type: ignore[union-attr]
    assert for_type(pd.DataFrame).name == "pandas"  # type: ignore[union-attr]
    assert for_type(dict[int, str]) is None
    assert for_type(Point) is None
    with pytest.raises(InvalidInput, match="no materializer named 'nope'; known: "):
        by_name("nope")


def test_a_plugin_materializer(home: Path, point_plugin: None) -> None:
    @mloop.step
    def make() -> Point:
        return Point(1.0, 2.0)

    @mloop.step
    def norm(p: Point) -> float:
        return float((p.x**2 + p.y**2) ** 0.5)

    @mloop.pipeline
    def geometry() -> None:
        norm(make())

    result = geometry.run()
    assert result.output("make") == Point(1.0, 2.0)
    assert result.output("norm") == pytest.approx(5**0.5)
    assert result.steps["make"].outputs["output"].materializer == "point"


def test_a_plugin_that_is_not_a_materializer(point_plugin: None) -> None:
    materializers.registry.register("broken", "json:dumps")
    try:
        with pytest.raises(InvalidInput, match=r"not an mloop\.pipelines\.Materializer"):
            for_value(object())
    finally:
        materializers.registry._targets.pop("broken", None)
        materializers.registry._loaded.pop("broken", None)


def test_dataset_versions_travel_by_reference(home: Path, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a\n1\n2\n")
    version = mloop.data.add(tmp_path / "rows.csv", name="rows")

    @mloop.step
    def pick() -> mloop.data.Dataset:
        return mloop.data.get("rows@latest")

    @mloop.step
    def count(dataset: mloop.data.Dataset) -> int:
        return len(dataset.to_pandas())

    @mloop.pipeline
    def by_reference() -> None:
        count(pick())

    result = by_reference.run()
    assert result.output("count") == 2
    assert result.output("pick").digest == version.digest
    mloop.data.remove("rows@1")
    with pytest.raises(NotFound, match="rows@1 that this output names was removed"):
        result.output("pick")
