"""How long the prediction log's writer keeps the event loop waiting, and what record() costs.

Usage (from the repository root)::

    PYTHONPATH=src python bench/prediction_log.py --cpu 1     # 2,000 records, 7 rounds
    PYTHONPATH=src python bench/prediction_log.py --records 10000 --rounds 5
    PYTHONPATH=src python bench/prediction_log.py --rows 1000  # 1,000-row requests
    git worktree add /tmp/before HEAD~1                        # before and after a change:
    python bench/prediction_log.py --cpu 1 --against /tmp/before/src

``mloop serve`` answers requests on an asyncio event loop while the log's writer thread
turns the buffered records into a Parquet file, in the same interpreter. Whatever the
writer does while holding the GIL, the loop waits for: up to the switch interval (5 ms)
each time it wants the GIL back. Each round:

1. ``record()`` is called for ``--records`` predictions of a ``--rows``-row frame of 30
   float columns (the breast-cancer table's shape) and a one-value array answer, as the
   request path calls it: its cost per record is that of the request path.
2. An asyncio loop in the main thread ticks (50 us of Python, then a pass through the
   selector, which lets go of the GIL as the server's ``epoll`` does); on its first tick
   the last record fills ``flush_records`` and wakes the log's writer thread, which
   writes the buffer to a local folder. How late the loop comes back from each
   pass is what a request would wait: the maximum and 99th percentile are reported,
   with the flush's wall time, against the loop ticking alone for as long.
3. The same records are flushed again in the main thread, alone: the writer's CPU time
   per record, which with ``record()``'s is what the log costs in throughput.

Figures are medians over the rounds. ``--cpu`` runs it on one CPU, as ``bench/serving.py``
pins the server, where the writer and the loop also share the core. ``--against SRC``
runs each round in a fresh interpreter, alternately on this tree and on another
checkout's ``src`` (the script uses only ``PredictionLog``'s public API, so any version
of it will do), and prints the two side by side. The machine should be otherwise quiet;
the numbers are only as stable as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from mloop.artifacts.objects.schemes import open_object_store
from mloop.serving.log_records import Prediction
from mloop.serving.prediction_log import PredictionLog, PredictionLogSettings
from mloop.serving.server import settle_memory

COLUMNS = [f"mean feature {index}" for index in range(30)]
HERE = Path(__file__).resolve().parent.parent / "src"


def predictions(count: int, rows: int) -> Iterator[Prediction]:
    """``count`` answered requests, each a fresh ``rows``-row frame as the server decodes it."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(100, rows, len(COLUMNS)))
    for index in range(count):
        yield Prediction(
            f"req-{index}",
            time.time(),
            "cancer",
            "cancer",
            "1",
            "mlflow",
            pd.DataFrame(values[index % 100], columns=COLUMNS),
            np.zeros(rows, dtype=np.int64),
            0.001,
        )


async def tick_gaps(
    done: Callable[[], bool], least: float, first: Callable[[], None] | None = None
) -> list[float]:
    """How late the loop came back (seconds) each tick, until ``done()`` and ``least`` s passed.

    Each tick is a request's worth of Python (about 50 us) and a pass through the
    selector, which lets go of the GIL as the server does polling its sockets: the time
    before the loop runs again is what a request would have waited.
    """
    late = []
    if first is not None:
        first()
    started = time.perf_counter()
    while not done() or time.perf_counter() - started < least:
        busy(50e-6)
        before = time.perf_counter()
        await asyncio.sleep(0)
        late.append(time.perf_counter() - before)
    return late


def busy(seconds: float) -> None:
    """Run Python bytecode for ``seconds``, as a request's handling does."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def p99(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.99)]


def one_round(count: int, rows: int, niceness: int | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        objects = open_object_store(folder)
        written = threading.Event()
        extra = {} if niceness is None else {"writer_niceness": niceness}
        settings = PredictionLogSettings(flush_seconds=3600, flush_records=count, **extra)
        log = PredictionLog(objects, settings, on_written=lambda kind, n: written.set())
        log.start()  # the log's own writer thread, as the server runs it
        records = list(predictions(count, rows))
        recorded = 0.0
        for record in records[:-1]:  # one at a time, as requests come
            started = time.perf_counter()
            log.record(record, 1000)
            recorded += time.perf_counter() - started
        began: list[float] = []

        def last() -> None:  # the count-th record wakes the writer
            began.append(time.perf_counter())
            log.record(records[-1], 1000)

        gaps = asyncio.run(tick_gaps(written.is_set, 0.0, first=last))
        flushed = time.perf_counter() - began[0]
        quiet = asyncio.run(tick_gaps(lambda: True, flushed))
        files = sum(1 for _ in objects.list("predictions/"))
        log.close()
        alone = PredictionLog(objects, PredictionLogSettings())  # the writer's CPU, uncontended
        for record in records:
            alone.record(record, 1000)
        cpu = time.thread_time()
        alone.flush()
        writer_cpu = time.thread_time() - cpu
    assert files == 1, f"{files} files written"
    return {
        "record_us": recorded / (count - 1) * 1e6,
        "writer_us": writer_cpu / count * 1e6,
        "flush_ms": flushed * 1e3,
        "gap_max_ms": max(gaps) * 1e3,
        "gap_p99_ms": p99(gaps) * 1e3,
        "ticks": float(len(gaps)),
        "quiet_gap_max_ms": max(quiet) * 1e3,
        "quiet_gap_p99_ms": p99(quiet) * 1e3,
    }


LABELS = {
    "record_us": "record() per request, us",
    "writer_us": "writer CPU per request (flush alone), us",
    "flush_ms": "flush wall time, ms",
    "gap_max_ms": "loop woke late during the flush, max, ms",
    "gap_p99_ms": "loop woke late during the flush, p99, ms",
    "ticks": "loop ticks during the flush",
    "quiet_gap_max_ms": "loop woke late, no flush, max, ms",
    "quiet_gap_p99_ms": "loop woke late, no flush, p99, ms",
}


def measure(args: argparse.Namespace, rounds: int) -> list[dict[str, float]]:
    """``rounds`` rounds in this process, after an untimed one and a GC freeze."""
    one_round(min(args.records, 200), args.rows, args.niceness)  # warm-up: imports, a file
    settle_memory()  # as the server does once its models are loaded
    return [one_round(args.records, args.rows, args.niceness) for _ in range(rounds)]


def in_subprocess(src: Path, args: argparse.Namespace) -> dict[str, float]:
    """One round in a fresh interpreter importing mloop from ``src``."""
    argv = [sys.executable, __file__, "--worker", "--records", str(args.records)]
    argv += ["--rows", str(args.rows)]
    if args.cpu is not None:
        argv += ["--cpu", str(args.cpu)]
    if args.niceness is not None and src == HERE:
        argv += ["--niceness", str(args.niceness)]
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000, help="records per flush")
    parser.add_argument("--rows", type=int, default=1, help="rows per request")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cpu", type=int, help="run on this CPU only (a server of one core)")
    parser.add_argument(
        "--against", type=Path, metavar="SRC", help="the src folder of another checkout"
    )
    parser.add_argument(
        "--niceness", type=int, help="the writer's niceness (this tree only; default 0)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    if args.worker:
        print(json.dumps(measure(args, 1)[0]))
        return
    title = f"{args.records} records of {args.rows} row(s) x {len(COLUMNS)} float columns"
    if args.against is None:
        results = measure(args, args.rounds)
        print(f"{title} per flush; median of {args.rounds} rounds")
        for key, label in LABELS.items():
            values = [result[key] for result in results]
            print(f"  {label:44s} {statistics.median(values):9.2f}   (min {min(values):.2f})")
        return
    sides: dict[str, list[dict[str, float]]] = {"this": [], "against": []}
    for _ in range(args.rounds):  # interleaved: a burst of load elsewhere hits both alike
        sides["this"].append(in_subprocess(HERE, args))
        sides["against"].append(in_subprocess(args.against.resolve(), args))
    print(f"{title} per flush; medians of {args.rounds} interleaved rounds")
    print(f"  {'':44s} {'this tree':>10s} {'against':>10s}")
    for key, label in LABELS.items():
        this, other = (statistics.median(r[key] for r in sides[side]) for side in sides)
        print(f"  {label:44s} {this:10.2f} {other:10.2f}")


if __name__ == "__main__":
    main()
