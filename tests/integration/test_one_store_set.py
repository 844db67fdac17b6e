"""Every domain reaches its store through one store set: opening a URI opens one engine."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LinearRegression

import mloop
from mloop.tracking.connection import disconnect_all


@mloop.step
def double(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"x": values}) * 2


@mloop.pipeline
def doubling() -> None:
    double([1.0, 2.0])


@pytest.fixture
def engines() -> Iterator[list[sa.Engine]]:
    """Every SQLAlchemy engine a connection is made from while the test runs, once each."""
    seen: list[sa.Engine] = []

    def record(conn: sa.Connection, *_: Any) -> None:
        if not any(e is conn.engine for e in seen):
            seen.append(conn.engine)

    sa.event.listen(sa.Engine, "engine_connect", record)
    yield seen
    sa.event.remove(sa.Engine, "engine_connect", record)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tracking_uri(
    request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    if request.param == "postgres":
        monkeypatch.setenv("MLOOP_TRACKING_URI", str(request.getfixturevalue("postgres_store")))
    disconnect_all()  # nothing open before the test begins
    return mloop.get_tracking_uri()


def test_every_domain_uses_one_engine(
    tracking_uri: str, engines: list[sa.Engine], tmp_path: Path
) -> None:
    # tracking
    with mloop.start_run(run_name="one-engine"):
        mloop.log_metric("loss", 0.5)
    # data
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    version = mloop.data.add(tmp_path / "d.csv", name=f"d{tmp_path.name[-6:]}")
    assert mloop.data.get(version.ref).digest == version.digest
    # models: register, move an alias (governance checked), read it back
    path = tempfile.mkdtemp(dir=tmp_path) + "/m"
    mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    registered = mloop.models.register(path, f"line{tmp_path.name[-6:]}")
    mloop.models.set_alias(registered.name, "champion", registered.version)
    assert mloop.models.get_version(f"{registered.name}@champion").version == registered.version
    # the step cache: the second run reuses the first's step
    first, second = doubling.run(), doubling.run()
    assert first.ok and second.ok
    assert second.steps["double"].cached

    assert len(engines) == 1, [e.url.render_as_string() for e in engines]
    assert engines[0].url.database == sa.make_url(tracking_uri).database
