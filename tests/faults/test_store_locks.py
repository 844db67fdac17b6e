"""Opening the store again in a process must not drop the locks its open connections hold.

POSIX drops every lock a process holds on a file when any descriptor of that
file is closed. A check that read the database's header through a descriptor
of its own made the next process that closed the store believe it was the
last user: it checkpointed and removed the WAL under this process's feet
("disk I/O error" on the next read).
"""

from __future__ import annotations

import os
from pathlib import Path

import mloop
from mloop.store.opening import open_store
from tests.faults.processes import run_python


def test_reopening_the_store_keeps_the_locks_of_open_connections(home: Path) -> None:
    uri = os.environ["MLOOP_TRACKING_URI"]
    client = mloop.Client()
    experiment = client.create_experiment("locks")
    run_id = client.create_run(experiment).info.run_id
    client.log_metric(run_id, "m", 1.0)
    client.flush()
    engine, _ = open_store(uri)  # another handle on the same file, as the domain stores open
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM runs").fetchone()
    engine.dispose()
    # Another process opens the store and closes it: it must see this process still using it.
    done = run_python(
        "import mloop; c = mloop.Client(); print(len(c.search_runs(['1'])))", cwd=home.parent
    )
    assert done.returncode == 0, done.stderr
    for step in range(1, 50):
        client.log_metric(run_id, "m", float(step), step=step)
    client.flush()
    assert len(client.get_metric_history(run_id, "m")) == 50
    assert Path(
        f"{uri.removeprefix('sqlite:///')}-wal"
    ).exists()  # still in use: not checkpointed away
