"""Side-by-side benchmark of per-step pipeline overhead: mloop against Metaflow and ZenML.

Usage (from the repository root, in an environment that has every library)::

    python bench/pipelines.py                       # full run, about 8 minutes for the peers
    python bench/pipelines.py --quick               # small sizes: a smoke test
    python bench/pipelines.py --only peer           # Metaflow and ZenML alone
    python bench/pipelines.py --json results.json   # also write every figure as JSON
    python bench/pipelines.py --case chain          # run only some cases (repeatable)
    python bench/pipelines.py --fanout 200          # a smaller fan-out

Setting up the environment::

    python3 -m venv .bench-venv-pipelines
    .bench-venv-pipelines/bin/pip install -r bench/requirements-pipelines.txt -e .
    .bench-venv-pipelines/bin/python bench/pipelines.py

Every (library, case) pair runs in its own child process (this same script, started
with ``--worker``), in a fresh temporary directory. The child writes the pipeline's
source file there and runs it as a user would, timing the whole command:
``python flow.py run`` for Metaflow (local runtime, local datastore and metadata under
the temporary directory) and ``python pipeline.py`` for ZenML (the default stack: local
orchestrator, local artifact store, a new SQLite store under the temporary directory,
after an untimed ``zenml init``). ``HOME`` points into the temporary directory too, so
nothing is written to the user's home. Afterwards the child reads the run back through
the library's own client (untimed) and checks that every step ran and the final value
is right.

Cases (the same for every library; every step is a no-op that passes a small int on):

1. ``chain``: 100 steps in a chain, each adding one to its parent's value.
2. ``fanout``: a start step, 1,000 parallel steps (Metaflow: ``foreach``; ZenML: one
   invocation per branch in the pipeline function), then a join step that sums them.
   Metaflow needs an ``end`` step after the join, so it runs one step more.

Each case reports the wall time of one pipeline run and the time per step, that is the
wall time divided by the steps run (start-up and import included: the fixed cost is
part of what a user pays per step). Goals: per-step overhead >= 50x less than each
peer; a tracked no-op step under 5 ms and a cached step re-run under 2 ms (mloop only).
Ratios are always time(peer) / time(mloop), so higher is better for mloop.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import harness
from harness import peak_rss_mb, seconds_text, settle, worker_notes

LIBRARIES: Final = ("mloop", "metaflow", "zenml")
PEERS: Final = LIBRARIES[1:]
PEER_NAMES: Final = {"metaflow": "Metaflow", "zenml": "ZenML"}
CASE_NAMES: Final = ("chain", "fanout")
REQUIREMENTS_HINT: Final = "pip install -r bench/requirements-pipelines.txt"
GOAL_RATIO: Final = 50
GOAL_TRACKED_STEP_SECONDS: Final = 0.005
GOAL_CACHED_STEP_SECONDS: Final = 0.002
# ZenML keeps the step runs of the current run in a cache of 100 entries, and a step
# whose inputs come from more steps than that fails ("No step `work_0` found in current
# run"). The cache size is an environment setting; it is raised to fit the fan-out.
ZENML_STEP_RUN_CACHE_DEFAULT: Final = 100


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much work each case does."""

    chain: int = 100
    fanout: int = 1_000


FULL_SIZES: Final = Sizes()
QUICK_SIZES: Final = Sizes(chain=10, fanout=20)


def expected_value(case: str, sizes: Sizes) -> int:
    """The value the last step ends with, the same for every library.

    The chain starts at 0 and adds 1 in every step after the first. In the fan-out,
    branch ``i`` returns ``i + 1`` and the join sums them.
    """
    if case == "chain":
        return sizes.chain - 1
    return sizes.fanout * (sizes.fanout + 1) // 2


# --------------------------------------------------------------------------- helpers


def _executable(name: str) -> str | None:
    """``name`` next to this interpreter (the benchmark venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def run_command(command: Sequence[str], cwd: Path, log: Path) -> float:
    """Run ``command`` with its output in ``log``; its wall time in seconds.

    Raises:
        RuntimeError: if the command fails, with the end of its output.
    """
    settle()  # earlier workers' writes are not flushed inside this timing
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.run(list(command), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}:\n{tail}")
    return seconds


def _check(result: dict[str, Any], case: str, sizes: Sizes) -> dict[str, Any]:
    """Add the problems found in ``result`` (steps run, final value) to it."""
    problems = list(result.get("problems", []))
    if result.get("steps_run") != result.get("steps"):
        problems.append(f"{result.get('steps_run')} of {result.get('steps')} steps ran")
    expected = expected_value(case, sizes)
    if result.get("value") != expected:
        problems.append(f"final value {result.get('value')}, expected {expected}")
    return {**result, "problems": problems}


# --------------------------------------------------------------------------- mloop


def run_mloop(case: str, sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """mloop's side of one case, in a worker process inside the fresh folder ``workdir``.

    The contract, the same as :func:`run_metaflow` and :func:`run_zenml`:

    * ``case`` is ``"chain"`` (``sizes.chain`` steps, each adding 1, starting from 0)
      or ``"fanout"`` (a start step returning 0, ``sizes.fanout`` branches where
      branch ``i`` returns the start value + ``i + 1``, and a join step that sums them).
    * Returns a JSON-able dict with ``seconds`` (wall time of one whole run, as a user
      starts it), ``steps`` (steps the pipeline has), ``steps_run`` (steps that ran,
      read back), ``value`` (the last step's output, checked against
      :func:`expected_value`), ``version``, and optionally ``run_seconds`` (the run
      alone, without start-up), ``problems`` (a list of strings) and, for the chain,
      ``tracked_step_seconds`` (one tracked no-op step) and ``cached_step_seconds``
      (one step of a second run of the same chain, every step a cache hit).
    * ``MLOOP_HOME`` is already set to a folder inside ``workdir``.

    The pipeline file is written to ``workdir`` and run as a command (``python
    flow.py CASE N``), as the peers are. It reports the run alone, timed inside;
    the chain is then run again in the same process (every step a cache hit), and
    the fan-out is run once more on a local Ray when Ray is installed.
    """
    source = workdir / "flow.py"
    source.write_text(MLOOP_FLOW)
    size = sizes.chain if case == "chain" else sizes.fanout
    report = workdir / "report.json"
    seconds = run_command(
        [sys.executable, str(source), case, str(size), str(report)], workdir, workdir / "run.log"
    )
    result: dict[str, Any] = json.loads(report.read_text())
    result["seconds"] = seconds
    result["version"] = importlib.metadata.version("mloop")
    problems = result.setdefault("problems", [])
    if result["step_runs_recorded"] != result["steps"]:
        problems.append(f"{result['step_runs_recorded']} step runs recorded")
    if case == "chain" and result["cached_steps"] != result["steps"]:
        problems.append(f"the second run reused {result['cached_steps']} steps")
    if "ray_value" in result and result["ray_value"] != expected_value(case, sizes):
        problems.append(f"on Ray the join gave {result['ray_value']}")
    if case == "chain":
        result["tracked_step_seconds"] = result["run_seconds"] / result["steps"]
        result["cached_step_seconds"] = result["cached_seconds"] / result["steps"]
    return result


MLOOP_FLOW: Final = """\
import json, sys, time

import mloop
from mloop.pipelines.runner import step_runs


@mloop.step
def start() -> int:
    return 0


@mloop.step
def add_one(value: int) -> int:
    return value + 1


@mloop.step
def work(value: int, index: int) -> int:
    return value + index + 1


@mloop.step
def join(values: list[int]) -> int:
    return sum(values)


@mloop.pipeline
def chain(length: int) -> None:
    value = start()
    for _ in range(length - 1):
        value = add_one(value)


@mloop.pipeline
def fanout(width: int) -> None:
    first = start()
    join([work(first, i) for i in range(width)])


def timed(pipeline, **options):
    began = time.perf_counter()
    result = pipeline.run(**options)
    return time.perf_counter() - began, result


def main() -> None:
    case, size, report = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    pipeline, param = (chain, "length") if case == "chain" else (fanout, "width")
    seconds, result = timed(pipeline, **{param: size})
    client = mloop.Client()
    steps = step_runs(client, client.get_run(result.run_id))
    last = list(result.steps)[-1]
    out = {
        "run_seconds": seconds,
        "steps": len(result.steps),
        "steps_run": sum(1 for s in result.steps.values() if not s.cached),
        "step_runs_recorded": len(steps),
        "value": result.output(last),
    }
    if case == "chain":
        out["cached_seconds"], again = timed(pipeline, **{param: size})
        out["cached_steps"] = sum(1 for s in again.steps.values() if s.cached)
    else:
        try:
            import ray
        except ImportError:
            ray = None
        if ray is not None:
            ray.init(include_dashboard=False, log_to_driver=False)
            out["ray_seconds"], on_ray = timed(
                pipeline, executor="ray", cache=False, **{param: size}
            )
            out["ray_value"] = on_ray.output(last)
            ray.shutdown()
    with open(report, "w") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main()
"""


# --------------------------------------------------------------------------- Metaflow


def _metaflow_step(name: str, body: Sequence[str], next_step: str = "", join: bool = False) -> str:
    lines = ["    @step", f"    def {name}(self{', inputs' if join else ''}):"]
    lines += [f"        {statement}" for statement in body]
    if next_step:
        lines.append(f"        self.next({next_step})")
    return "\n".join(lines)


def metaflow_source(case: str, sizes: Sizes) -> tuple[str, str, int]:
    """The flow file for ``case``: (source, flow class name, steps it runs)."""
    if case == "chain":
        flow = "BenchChainFlow"
        middle = [f"step_{i}" for i in range(1, sizes.chain - 1)]
        order = ["start", *middle, "end"]
        steps = [_metaflow_step("start", ["self.value = 0"], f"self.{order[1]}")]
        steps += [
            _metaflow_step(name, ["self.value += 1"], f"self.{following}")
            for name, following in zip(middle, order[2:], strict=True)
        ]
        steps.append(_metaflow_step("end", ["self.value += 1"]))
        count = sizes.chain
    else:
        flow = "BenchFanoutFlow"
        steps = [
            _metaflow_step(
                "start",
                ["self.value = 0", f"self.items = list(range({sizes.fanout}))"],
                'self.work, foreach="items"',
            ),
            _metaflow_step("work", ["self.value = self.value + self.input + 1"], "self.join"),
            _metaflow_step(
                "join", ["self.value = sum(branch.value for branch in inputs)"], "self.end", True
            ),
            _metaflow_step("end", ["pass"]),
        ]
        count = sizes.fanout + 3
    source = "\n\n".join(
        [
            f'"""Generated by bench/pipelines.py: the Metaflow side of the {case} case."""\n',
            f"from metaflow import FlowSpec, step\n\n\nclass {flow}(FlowSpec):",
            *steps,
            f'\nif __name__ == "__main__":\n    {flow}()\n',
        ]
    )
    return source, flow, count


def run_metaflow(case: str, sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """Metaflow's side: ``python flow.py run`` on the local runtime, one process per step."""
    source, flow, steps = metaflow_source(case, sizes)
    (workdir / "flow.py").write_text(source)
    # Metaflow refuses a foreach of more than --max-num-splits (100 by default) branches.
    splits = max(100, sizes.fanout)
    command = [sys.executable, "flow.py", "run", "--max-num-splits", str(splits)]
    seconds = run_command(command, workdir, workdir / "run.log")

    from metaflow import Flow, namespace

    namespace(None)
    run = Flow(flow).latest_run
    finished = run.finished_at
    return {
        "seconds": seconds,
        "steps": steps,
        "steps_run": sum(1 for step in run for task in step if task.successful),
        "value": run.data.value,
        "run_seconds": None if finished is None else (finished - run.created_at).total_seconds(),
        "version": importlib.metadata.version("metaflow"),
        "settings": {"max_num_splits": splits, "max_workers": "16 (default)"},
        "problems": [] if run.successful else [f"run {run.id} did not succeed"],
    }


# --------------------------------------------------------------------------- ZenML

ZENML_SOURCE: Final = '''\
"""Generated by bench/pipelines.py: the ZenML side of the benchmark."""

import sys

from zenml import pipeline, step


@step
def start() -> int:
    return 0


@step
def add_one(value: int) -> int:
    return value + 1


@step
def work(value: int, index: int) -> int:
    return value + index + 1


@step
def join(values: list[int]) -> int:
    return sum(values)


@pipeline
def bench_chain(length: int) -> None:
    value = start()
    for i in range(1, length):
        value = add_one(value, id=f"step_{i}")


@pipeline
def bench_fanout(width: int) -> None:
    value = start()
    join([work(value, i, id=f"work_{i}") for i in range(width)])


if __name__ == "__main__":
    case, size = sys.argv[1], int(sys.argv[2])
    if case == "chain":
        bench_chain(length=size)
    else:
        bench_fanout(width=size)
'''


def run_zenml(case: str, sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """ZenML's side: ``python pipeline.py`` on the default local stack, steps in one process."""
    zenml = _executable("zenml")
    if zenml is None:
        raise RuntimeError(f"the zenml command is not installed; {REQUIREMENTS_HINT}")
    (workdir / "pipeline.py").write_text(ZENML_SOURCE)
    setup_seconds = run_command([zenml, "init"], workdir, workdir / "init.log")
    size = sizes.chain if case == "chain" else sizes.fanout
    command = [sys.executable, "pipeline.py", case, str(size)]
    seconds = run_command(command, workdir, workdir / "run.log")

    from zenml.client import Client

    run = Client().get_pipeline(f"bench_{case}").last_run
    step_runs = run.steps
    last = ("start" if size == 1 else f"step_{size - 1}") if case == "chain" else "join"
    statuses = [str(getattr(s.status, "value", s.status)) for s in step_runs.values()]
    problems = [] if str(run.status.value) == "completed" else [f"run status {run.status}"]
    if "cached" in statuses:
        problems.append(f"{statuses.count('cached')} steps were cache hits")
    ended = run.end_time
    return {
        "seconds": seconds,
        "steps": size if case == "chain" else size + 2,
        "steps_run": statuses.count("completed"),
        "value": step_runs[last].output.load(),
        "run_seconds": None if ended is None else (ended - run.start_time).total_seconds(),
        "setup_seconds": setup_seconds,
        "version": importlib.metadata.version("zenml"),
        "settings": {
            "orchestrator": "local (default stack)",
            "cache": "on (default)",
            "step_run_cache_size": os.environ.get("ZENML_EXECUTION_CONTEXT_STEP_RUN_CACHE_SIZE"),
        },
        "problems": problems,
    }


RUNNERS: Final[Mapping[str, Callable[[str, Sizes, Path], dict[str, Any]]]] = {
    "mloop": run_mloop,
    "metaflow": run_metaflow,
    "zenml": run_zenml,
}


# --------------------------------------------------------------------------- worker


def run_worker(lib: str, case: str, workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Run one case of one library; called in a child process."""
    result = _check(RUNNERS[lib](case, sizes, workdir), case, sizes)
    result["peak_rss_mb"] = peak_rss_mb()
    # The peers run in child processes; their largest is the one to compare.
    result["children_peak_rss_mb"] = peak_rss_mb(resource.RUSAGE_CHILDREN)
    return result


def _environment(sizes: Sizes) -> Callable[[Path], dict[str, str]]:
    """The workers' environment: every store, config and home inside the worker's folder."""
    prefixes = ("MLOOP_", "METAFLOW_", "ZENML_")

    def environment(workdir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)
        env["MLOOP_HOME"] = str(workdir / "mloop-home")
        env["METAFLOW_HOME"] = str(workdir / "metaflow-config")
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = str(workdir / "metaflow-store")
        env["METAFLOW_DEFAULT_DATASTORE"] = "local"
        env["METAFLOW_DEFAULT_METADATA"] = "local"
        env["METAFLOW_USER"] = "bench"
        env["ZENML_CONFIG_PATH"] = str(workdir / "zenml-config")
        env["ZENML_LOCAL_STORES_PATH"] = str(workdir / "zenml-stores")
        cache_size = max(ZENML_STEP_RUN_CACHE_DEFAULT, sizes.fanout + 2, sizes.chain)
        env["ZENML_EXECUTION_CONTEXT_STEP_RUN_CACHE_SIZE"] = str(cache_size)
        # No network calls from any library while it is being timed.
        env["ZENML_ANALYTICS_OPT_IN"] = "false"
        env["DO_NOT_TRACK"] = "true"
        return env

    return environment


def spawn_worker(lib: str, case: str, sizes: Sizes, timeout: float) -> dict[str, Any]:
    """Run one case of one library in a child process and return its JSON result."""
    return harness.spawn_worker(
        __file__,
        lib,
        case,
        dataclasses.asdict(sizes),
        timeout,
        _environment(sizes),
        "bench-pipelines",
    )


# --------------------------------------------------------------------------- report


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the results table: mloop's time against a peer's (seconds)."""

    case: str
    label: str
    mloop: float | None
    peer_name: str
    peer: float | None
    goal_ratio: float | None = None
    goal_max: float | None = None

    def ratio(self) -> float | None:
        """time(peer) / time(mloop)."""
        if self.mloop is None or self.peer is None or self.mloop <= 0 or self.peer <= 0:
            return None
        return self.peer / self.mloop

    def goal_text(self) -> str:
        if self.goal_ratio is not None:
            return f">= {self.goal_ratio:g}x"
        if self.goal_max is not None:
            return f"mloop < {seconds_text(self.goal_max)}"
        return ""

    def status(self) -> str:
        if self.goal_ratio is None and self.goal_max is None:
            return ""
        if self.mloop is None:
            return "pending"
        if self.goal_max is not None:
            return "PASS" if self.mloop < self.goal_max else "FAIL"
        value = self.ratio()
        return "n/a" if value is None else ("PASS" if value >= (self.goal_ratio or 0) else "FAIL")


def _get(results: Mapping[str, Mapping[str, Any]], lib: str, case: str, key: str) -> Any:
    node = results.get(lib, {}).get(case)
    if not isinstance(node, Mapping) or "error" in node or "skipped" in node:
        return None
    return node.get(key)


def _per_step(results: Mapping[str, Mapping[str, Any]], lib: str, case: str, key: str) -> Any:
    seconds, steps = _get(results, lib, case, key), _get(results, lib, case, "steps")
    return None if seconds is None or not steps else seconds / steps


def case_label(case: str, sizes: Sizes) -> str:
    if case == "chain":
        return f"chain of {sizes.chain:,} steps"
    return f"fan-out to {sizes.fanout:,} steps + join"


def build_rows(
    results: Mapping[str, Mapping[str, Any]], sizes: Sizes, cases: Sequence[str]
) -> list[Row]:
    """Turn the workers' results into table rows."""
    rows: list[Row] = []
    for case in cases:
        figures = (
            (f"{case_label(case, sizes)}: overhead per step", "run_seconds", True, GOAL_RATIO),
            ("  per step, with start-up and import", "seconds", True, None),
            ("  the whole run, as a command", "seconds", False, None),
        )
        for label, key, per_step, goal in figures:
            for peer in PEERS:
                if per_step:
                    mine, theirs = (_per_step(results, lib, case, key) for lib in ("mloop", peer))
                else:
                    mine, theirs = (_get(results, lib, case, key) for lib in ("mloop", peer))
                rows.append(Row(case, label, mine, PEER_NAMES[peer], theirs, goal_ratio=goal))
    if "chain" in cases:
        rows += [
            Row(
                "chain",
                "a tracked no-op step",
                _get(results, "mloop", "chain", "tracked_step_seconds"),
                "",
                None,
                goal_max=GOAL_TRACKED_STEP_SECONDS,
            ),
            Row(
                "chain",
                "a cached step, re-run",
                _get(results, "mloop", "chain", "cached_step_seconds"),
                "",
                None,
                goal_max=GOAL_CACHED_STEP_SECONDS,
            ),
        ]
    if "fanout" in cases:
        rows.append(
            Row(
                "fanout",
                f"{case_label('fanout', sizes)} on Ray (local, 2 CPUs)",
                _get(results, "mloop", "fanout", "ray_seconds"),
                "",
                None,
            )
        )
    return rows


def check_notes(results: Mapping[str, Mapping[str, Any]], load: tuple[float, float]) -> list[str]:
    """Failed workers, failed checks and a busy machine; empty when all is well."""
    notes = []
    # Only the load before counts: Metaflow's 16 step processes load the machine themselves.
    cpus = os.cpu_count() or 1
    if load[0] > cpus / 2:
        notes.append(
            f"the machine was busy before the run (1-minute load average {load[0]:.1f} on"
            f" {cpus} CPUs): the figures may be slower than on an idle machine"
        )
    return notes + worker_notes(results)


def _ratio_text(row: Row) -> str:
    value = row.ratio()
    if value is None:
        return "-"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"


def _footer(
    results: Mapping[str, Mapping[str, Any]], sizes: Sizes, notes: Sequence[str]
) -> list[str]:
    steps = [
        f"{PEER_NAMES.get(lib, lib)} {case} {result['steps']:,}"
        for lib, cases in results.items()
        for case, result in cases.items()
        if "steps" in result
    ]
    footer = [
        f"Sizes: a chain of {sizes.chain:,} steps; a fan-out to {sizes.fanout:,} steps between"
        f" a start and a join step. Steps per run: {'; '.join(steps) or '-'}.",
        "One run per library and case, each in a fresh folder and store, timed as a user"
        " starts it (Python start-up and import included). Metaflow: `python flow.py run`,"
        " local runtime, one process per step, default --max-workers 16. ZenML:"
        " `python pipeline.py`, default stack (local orchestrator: steps one after another in"
        " one process), after an untimed `zenml init`.",
        "Per step = the time / the steps run. The run alone: from the library's own run record.",
        "Ratios: time(peer) / time(mloop), so higher is better for mloop.",
    ]
    footer += [f"NOTE: {note}" for note in notes]
    return footer


def print_report(
    rows: Sequence[Row],
    sizes: Sizes,
    results: Mapping[str, Mapping[str, Any]],
    notes: Sequence[str],
    total_seconds: float,
) -> None:
    """Print the table (Rich if installed, plain text otherwise) and the notes."""
    lines = harness.result_lines(rows, _ratio_text)
    footer = [*_footer(results, sizes, notes), f"Total wall time: {total_seconds:.1f} s"]
    harness.print_table("mloop vs Metaflow and ZenML: per-step pipeline overhead", lines, footer)


# --------------------------------------------------------------------------- main


def _positive(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark mloop's per-step pipeline overhead against Metaflow and ZenML.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument(
        "--only",
        choices=("mloop", "peer", *PEERS),
        help="run mloop only, the peers only, or one peer",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all results as JSON")
    parser.add_argument(
        "--case",
        action="append",
        choices=CASE_NAMES,
        help="run only this case (repeatable; default: all)",
    )
    parser.add_argument("--chain", type=_positive(2), help="steps in the chain (default 100)")
    parser.add_argument(
        "--fanout", type=_positive(1), help="parallel steps in the fan-out (default 1000)"
    )
    harness.add_worker_arguments(parser, LIBRARIES)
    return parser.parse_args(argv)


def sizes_from_args(args: argparse.Namespace) -> Sizes:
    if args.sizes:
        return Sizes(**json.loads(args.sizes))
    overrides = {"chain": args.chain, "fanout": args.fanout}
    base = QUICK_SIZES if args.quick else FULL_SIZES
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def select_libraries(only: str | None) -> list[str] | None:
    """The libraries to run, or None (after explaining why) if one is missing."""
    if only == "peer":
        libs = list(PEERS)
    elif only:
        libs = [only]
    else:
        libs = list(LIBRARIES)
    missing = [
        lib if lib != "mloop" else "mloop (pip install -e . from the repository root)"
        for lib in libs
        if importlib.util.find_spec(lib) is None
    ]
    if missing:
        print(
            f"Not installed for {sys.executable}: {', '.join(missing)}.\n"
            f"Install the benchmark's dependencies with `{REQUIREMENTS_HINT}`,\n"
            "or pass --only to leave a side out.",
            file=sys.stderr,
        )
        return None
    return libs


def run_all(
    libs: Sequence[str], cases: Sequence[str], sizes: Sizes, timeout: float
) -> dict[str, dict[str, Any]]:
    """One worker per (library, case); mloop is dropped after its first skip."""
    results: dict[str, dict[str, Any]] = {lib: {} for lib in libs}
    active = list(libs)
    for case in cases:
        for lib in [lib for lib in LIBRARIES if lib in active]:
            print(f"[{lib:>8}] {case:<7} ...", end="", flush=True, file=sys.stderr)
            result = spawn_worker(lib, case, sizes, timeout)
            results[lib][case] = result
            if "skipped" in result:
                print(f" skipped: {result['skipped']}", file=sys.stderr)
                active.remove(lib)
                continue
            outcome = "FAILED" if "error" in result else f"{result['worker_wall_seconds']:.1f} s"
            print(f" {outcome}", file=sys.stderr)
    return results


def write_json(
    path: Path,
    args: argparse.Namespace,
    sizes: Sizes,
    rows: Sequence[Row],
    results: Mapping[str, Mapping[str, Any]],
    notes: Sequence[str],
    total_seconds: float,
    load: tuple[float, float],
) -> None:
    meta = {
        "quick": args.quick,
        "sizes": dataclasses.asdict(sizes),
        "total_seconds": total_seconds,
        "load_average_before_after": list(load),
    }
    harness.write_results(path, results, rows, notes, meta)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sizes_from_args(args)
    if args.worker:
        return harness.run_as_worker(args, run_worker, sizes)

    libs = select_libraries(args.only)
    if libs is None:
        return 2
    cases = args.case or list(CASE_NAMES)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    results = run_all(libs, cases, sizes, args.timeout)
    total_seconds = time.perf_counter() - started
    load = (load_before, os.getloadavg()[0])

    rows = build_rows(results, sizes, cases)
    notes = check_notes(results, load)
    print_report(rows, sizes, results, notes, total_seconds)
    if args.json:
        write_json(args.json, args, sizes, rows, results, notes, total_seconds, load)
    failed = any("error" in r for cases_ in results.values() for r in cases_.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
