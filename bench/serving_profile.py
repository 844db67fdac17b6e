"""Where a server's time goes per request under load: ``py-spy`` samples, grouped by stage.

``bench/serving.py --profile`` calls :func:`profile_server` on ``mloop serve`` while
``wrk`` loads it: py-spy records the server's threads (``--nonblocking``, active samples
only, no idle) and ``/proc`` gives the CPU time the process used over the same seconds.
Each sample is put in the stage of its innermost frame that names one (decode, signature
check, queue, predict, encode, uvicorn, ...), and each stage's share of the samples times
the CPU per request gives its microseconds per request. Sampling makes these approximate
(a few µs); they say where to look, not what to promise.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

# (stage, a substring of a frame "function (file:line)"), looked for from the innermost
# frame outwards; the first stage found names the sample.
STAGES: tuple[tuple[str, str], ...] = (
    ("predict: the estimator (sklearn)", "sklearn/"),
    ("batch: join requests (pd.concat)", "combine ("),
    ("batch: split the answer", "split_rows ("),
    ("check: signature (check_input)", "check_input ("),
    ("predict: mloop's wrapper", "predict_checked ("),
    ("decode: JSON to frame (decode_invocation)", "decode_invocation ("),
    ("encode: answer to JSON (encode_predictions)", "encode_predictions ("),
    ("metrics (prometheus)", "mloop/serving/metrics.py"),
    ("request id (headers.get, uuid4)", "request_id_of ("),
    ("read body", "read_body ("),
    ("queue: batcher (submit, take, work)", "mloop/serving/batching.py"),
    ("thread hop: executor submit, wake-ups", "concurrent/futures/thread.py"),
    ("server.predict (timeout, answer)", "mloop/serving/server.py"),
    ("app: run, answer (mloop/serving/handling.py)", "mloop/serving/handling.py"),
    ("FastAPI: routing, dependencies", "fastapi/"),
    ("Starlette: middleware, response", "starlette/"),
    ("uvicorn: access log (logging)", "logging/"),
    ("event loop and socket I/O (uvloop, in C)", "asyncio/runners.py"),
    ("uvicorn: HTTP protocol (httptools)", "uvicorn/"),
)
LOOP_STAGE = "event loop and socket I/O (uvloop, in C)"
HOP_STAGE = "thread hop: executor submit, wake-ups"
# The predict thread inside ``work_queue.get``: woken, waiting for the GIL. Not CPU time,
# so left out of the shares.
WAIT_STAGE = "(not counted) predict thread waiting for work or the GIL"


def stage_of(frames: Sequence[str], predict_thread: bool) -> str:
    """The stage of one sample, from its frames (outermost first)."""
    if predict_thread and frames and "_worker (" in frames[-1]:
        return WAIT_STAGE
    for frame in reversed(frames):
        for name, needle in STAGES:
            if needle in frame:
                return name
    if predict_thread:  # the loop's call_soon_threadsafe, futures done from the thread
        return HOP_STAGE
    return LOOP_STAGE


def aggregate(stacks: str) -> dict[str, int]:
    """Samples per stage, from py-spy's ``--format raw`` output (one stack and count a line)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in stacks.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        counts[stage_of(frames[1:], "mloop-predict" in frames[0])] += int(count)
    return dict(counts)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_server(
    pid: int,
    load: Callable[[float], subprocess.Popen[str]],
    rate_of: Callable[[str], float],
    seconds: float,
    pin: bool,
) -> dict[str, Any]:
    """Sample the server ``pid`` for ``seconds`` while ``load(seconds + 4)`` (wrk) runs.

    ``rate_of(wrk's stdout)`` gives req/s. Returns the CPU per request and, per stage,
    samples and microseconds per request.

    Raises:
        RuntimeError: py-spy is not installed or failed.
    """
    spy = Path(sys.executable).with_name("py-spy")
    command = str(spy) if spy.exists() else shutil.which("py-spy")
    if command is None:
        raise RuntimeError("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="bench-serving-profile-") as tmp:
        out = Path(tmp) / "stacks.txt"
        wrk = load(seconds + 4)
        time.sleep(2)
        cpu_before, wall_before = process_cpu_seconds(pid), time.perf_counter()
        argv = ["taskset", "-c", "0"] if pin else []
        argv += [command, "record", "-p", str(pid), "-d", f"{seconds:g}", "-r", "500"]
        argv += ["--threads", "--nonblocking", "-f", "raw", "-o", str(out)]
        spied = subprocess.run(argv, capture_output=True, text=True)
        cpu = process_cpu_seconds(pid) - cpu_before
        wall = time.perf_counter() - wall_before
        stdout, _ = wrk.communicate(timeout=seconds + 60)
        if spied.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy failed: {spied.stderr[-500:]}")
        stages = aggregate(out.read_text())
    rate = rate_of(stdout)
    cpu_per_request = cpu / wall / rate if rate > 0 else 0.0
    total = sum(n for name, n in stages.items() if name != WAIT_STAGE) or 1
    return {
        "req_per_s": rate,
        "cpu_share": cpu / wall,
        "cpu_per_request_us": cpu_per_request * 1e6,
        "stages": {
            name: {"samples": n, "us_per_request": n / total * cpu_per_request * 1e6}
            for name, n in sorted(stages.items(), key=lambda item: -item[1])
            if name != WAIT_STAGE
        },
        "not_counted_samples": stages.get(WAIT_STAGE, 0),
        "counted_samples": total,
    }


def report_lines(profile: Mapping[str, Any], connections: int) -> list[str]:
    """The profile as lines of text for under the table."""
    lines = [
        f"Profile of mloop serve at c={connections} (py-spy, active samples of all threads): "
        f"{profile['req_per_s']:,.0f} req/s, the process at {profile['cpu_share']:.0%} of a "
        f"core, {profile['cpu_per_request_us']:.0f} us of CPU per request:"
    ]
    for name, stage in profile["stages"].items():
        lines.append(f"  {stage['us_per_request']:6.1f} us  {name}")
    lines.append(
        f"  ({profile['counted_samples']:,} samples; {profile['not_counted_samples']:,} more of "
        "the predict thread waking up in the executor's queue, waiting for the GIL, left out)"
    )
    return lines
