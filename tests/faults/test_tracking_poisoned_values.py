"""Item 1 and 18: one bad value never costs other points; bad values are refused at the call.

Values that cannot be stored are refused with InvalidInput before anything is
queued. A batch that the store still refuses (values queued without the
checks, a run purged by another process) is split so that only the offending
items are dropped, and the next flush names them; every other point of every
run is written.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mloop.entities import RunStatus
from mloop.errors import InvalidInput, MloopError, NotFound
from mloop.store.protocols.tracking import Termination
from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set
from mloop.tracking.client import Client
from mloop.tracking.writer import BatchWriter
from tests.faults.processes import python_env

POINTS = 1_100


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/poison.db"
    return str(request.getfixturevalue("postgres_store"))


@pytest.fixture
def stores(store_uri: str) -> Iterator[StoreSet]:
    stores = open_sql_store_set(store_uri)
    yield stores
    stores.close()


def _two_runs(stores: StoreSet) -> tuple[str, str]:
    exp = stores.experiments.create_experiment(f"poison-{uuid.uuid4().hex}")
    a = stores.runs.create_run(exp, "a", 0, {}).run_id
    b = stores.runs.create_run(exp, "b", 0, {}).run_id
    return a, b


def _points(run_id: str) -> list[tuple[str, str, float, int, int]]:
    return [(run_id, "loss", float(i), 1_000 + i, i) for i in range(POINTS)]


# -- refused at the call ------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": 10**400}, "does not fit in a 64-bit float"),
        ({"value": np.longdouble("1e4000")}, "does not fit in a 64-bit float"),
        ({"value": -np.longdouble("1e4000")}, "does not fit in a 64-bit float"),
        ({"value": 1.0, "timestamp": 2**70}, "after the year 9999"),
        ({"value": 1.0, "timestamp": 2**63}, "after the year 9999"),
        ({"value": 1.0, "timestamp": -5}, "before 1970"),
        ({"value": 1.0, "step": 2**64}, "step must be between"),
    ],
)
def test_metric_values_that_cannot_be_stored_are_refused_at_the_call(
    home: Path, kwargs: dict[str, int | float], message: str
) -> None:
    client = Client()
    run = client.create_run(client.create_experiment("e"))
    pending = client._backend.writer.pending
    with pytest.raises(InvalidInput, match=message):
        client.log_metric(run.info.run_id, "m", **kwargs)  # type: ignore[arg-type]
    assert client._backend.writer.pending == pending


def test_infinities_that_were_already_infinite_are_kept(home: Path) -> None:
    client = Client()
    run = client.create_run(client.create_experiment("e"))
    with np.errstate(over="ignore"):
        client.log_metric(run.info.run_id, "m", np.float32(1e39))  # inf in float32 already
    client.log_metric(run.info.run_id, "n", -math.inf)
    assert client.get_run(run.info.run_id).data.metrics == {"m": math.inf, "n": -math.inf}


@pytest.mark.parametrize("text", ["nul\x00byte", "lone \udc80 surrogate"])
def test_strings_that_cannot_be_stored_are_refused_at_the_call(home: Path, text: str) -> None:
    client = Client()
    exp = client.create_experiment("e")
    run_id = client.create_run(exp).info.run_id
    with pytest.raises(InvalidInput, match="tag 't' value"):
        client.set_tag(run_id, "t", text)
    with pytest.raises(InvalidInput, match="param 'p' value"):
        client.log_param(run_id, "p", text)
    with pytest.raises(InvalidInput, match="run name"):
        client.create_run(exp, run_name=text)
    client.set_terminated(run_id)
    assert client.get_run(run_id).data.tags.get("t") is None


# -- refused by the store: only the offending items are dropped ---------------------
def test_a_value_the_store_refuses_drops_only_itself(stores: StoreSet, store_uri: str) -> None:
    a, b = _two_runs(stores)
    writer = BatchWriter(stores.runs, flush_interval=60)
    writer.add_metrics(_points(a))
    if store_uri.startswith("sqlite"):
        writer.add_metric((a, "bad", 1.0, 2**70, 0))  # SQLite: OverflowError
    else:
        writer.add_tag(a, "bad", "nul\x00byte")  # PostgreSQL: DataError
    writer.add_metrics(_points(b))
    writer.add_tag(b, "team", "risk")
    with pytest.raises(InvalidInput, match="'bad' of run") as caught:
        writer.flush()
    assert "dropped" in str(caught.value)
    writer.flush()  # reported once; nothing else is missing
    for run_id in (a, b):
        writer.end_run(Termination(run_id, RunStatus.FINISHED, 5_000))
        run = stores.runs.get_run(run_id)
        assert len(stores.runs.get_metric_history(run_id, "loss")) == POINTS
        assert run.info.status == RunStatus.FINISHED
        assert "bad" not in run.data.metrics and "bad" not in run.data.tags
    assert stores.runs.get_run(b).data.tags["team"] == "risk"
    writer.close()


def test_a_background_write_refused_by_the_store_is_salvaged(stores: StoreSet) -> None:
    a, b = _two_runs(stores)
    writer = BatchWriter(stores.runs, flush_interval=0.01)
    writer.add_metrics(_points(a))
    writer.add_metric((b, "bad", 1e300, 1, 2**64))  # a step past 64 bits
    writer.add_metrics(_points(b))
    deadline = time.monotonic() + 10
    while writer.pending and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(InvalidInput, match="metric 'bad' of run"):
        writer.flush()
    for run_id in (a, b):
        assert len(stores.runs.get_metric_history(run_id, "loss")) == POINTS
    writer.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_run_purged_by_another_process_loses_only_its_own_points(
    home: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, backend: str
) -> None:
    monkeypatch.setenv("MLOOP_FLUSH_INTERVAL", "60")
    if backend == "postgres":
        monkeypatch.setenv("MLOOP_TRACKING_URI", request.getfixturevalue("postgres_store"))
    client = Client()
    exp = client.create_experiment(f"e-{uuid.uuid4().hex}")  # the database is shared
    a, b = (client.create_run(exp, run_name=n).info.run_id for n in ("a", "b"))
    for i in range(200):
        client.log_metrics(a, {"m": i}, step=i)
        client.log_metrics(b, {"m": i}, step=i)
    client.flush()
    for args in (["runs", "delete", a], ["gc", "--grace-period", "0"]):
        done = subprocess.run(
            [sys.executable, "-m", "mloop", *args],
            env=python_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    for i in range(200, 400):
        client.log_metrics(a, {"m": i}, step=i)
        client.log_metrics(b, {"m": i}, step=i)
    with pytest.raises(NotFound, match=f"run {a}") as caught:
        client.flush()
    assert "200 metric point(s)" in str(caught.value)
    client.set_terminated(b)
    assert len(client.get_metric_history(b, "m")) == 400
    assert client.get_run(b).info.status == RunStatus.FINISHED
    with pytest.raises(MloopError):
        client.get_run(a)


def test_an_error_text_with_a_nul_byte_is_kept_escaped(home: Path) -> None:
    client = Client()
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.set_terminated(run_id, RunStatus.FAILED, error="boom\x00 \udc80")
    assert client.get_run(run_id).info.error == "boom\\x00 \\udc80"


def test_a_command_line_with_undecodable_bytes_does_not_cost_the_run(home: Path) -> None:
    code = (
        "import sys, mloop\n"
        "with mloop.start_run() as run:\n"
        "    mloop.log_metric('m', 1.0)\n"
        "print(run.info.run_id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, b"bad-\xff-arg".decode("utf-8", "surrogateescape")],
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    run = Client().get_run(done.stdout.split()[0])
    assert run.data.metrics == {"m": 1.0}
