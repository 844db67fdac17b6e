"""Item 24: processes logging the same keys of one run in different orders never deadlock.

Rows are written in key order within every statement, so two transactions
never lock the same rows in opposite orders; what still fails for a
transient reason (a deadlock, a serialization failure, a busy SQLite file)
is retried a bounded number of times, and nothing is reported as failed when
nothing was lost.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mloop.tracking.client import Client
from tests.faults.processes import start_python, wait_for_file

WRITERS = 4
STEPS = 100
KEYS = 16

WRITER = """
import logging, os, sys, time
logging.basicConfig(level=logging.INFO)  # retries are logged at INFO: the test counts them
from mloop.tracking.client import Client
client = Client(tracking_uri={uri!r})
keys = [f"k{{j:02d}}" for j in range({keys})]
if {index} % 2:
    keys.reverse()
open({ready!r}, "w").close()
while not os.path.exists({go!r}):
    time.sleep(0.005)
for step in range({steps}):
    client.log_metrics({run_id!r}, {{k: step for k in keys}}, step=step)
    client.set_tags({run_id!r}, {{k: str(step) for k in keys}})
    if step % 3 == 0:
        client.flush()
client.flush()
print("done", flush=True)
"""


@pytest.mark.postgres
def test_writers_in_opposite_key_orders_do_not_deadlock(
    postgres_store: str, home: Path, tmp_path: Path
) -> None:
    client = Client(tracking_uri=postgres_store)
    run_id = client.create_run(client.create_experiment(f"dead-{time.time_ns()}")).info.run_id
    client.flush()
    go = tmp_path / "go"
    processes = []
    for index in range(WRITERS):
        ready = tmp_path / f"ready{index}"
        code = WRITER.format(
            uri=postgres_store,
            keys=KEYS,
            index=index,
            ready=str(ready),
            go=str(go),
            steps=STEPS,
            run_id=run_id,
        )
        process = start_python(code, cwd=tmp_path, env={"MLOOP_FLUSH_INTERVAL": "0.005"})
        processes.append(process)
    for index, process in enumerate(processes):
        wait_for_file(tmp_path / f"ready{index}", process)
    started = time.monotonic()
    go.touch()
    outputs = [p.communicate(timeout=120) for p in processes]
    elapsed = time.monotonic() - started
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert out.strip() == "done"
        assert "deadlock" not in err.lower(), err
        assert "could not write" not in err and "failed" not in err, err
    for j in range(KEYS):
        assert len(client.get_metric_history(run_id, f"k{j:02d}")) == WRITERS * STEPS
    assert elapsed < 30
