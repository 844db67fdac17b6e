"""Side-by-side benchmark of mloop's experiment tracking against MLflow, both on SQLite.

Usage (from the repository root, in an environment that has both libraries)::

    python bench/tracking.py                     # full run, both libraries
    python bench/tracking.py --quick             # small sizes: a smoke test, well under a minute
    python bench/tracking.py --only mloop        # skip MLflow (e.g. when it is not installed)
    python bench/tracking.py --json results.json # also write every figure as JSON
    python bench/tracking.py --case search       # run only some cases (repeatable)

Setting up the environment::

    python3 -m venv .bench-venv
    .bench-venv/bin/pip install -r bench/requirements.txt
    .bench-venv/bin/pip install -e .
    .bench-venv/bin/python bench/tracking.py

Every (library, case) pair runs in its own child process (this same script, started
with ``--worker``), in a fresh temporary directory with its own SQLite database, so the
two libraries never share import state or caches, and the peak resident memory
(``ru_maxrss``) of each child is that library's alone. The parent collects the
children's JSON and prints one table: per-library figures, the mloop-vs-MLflow factor
and a pass/fail mark against the goals.

Cases:

1. ``log_metric``: one point per call in one run, then ``mloop.flush()`` (inside the
   timing). MLflow writes each point synchronously at ~140 points/s, so it logs fewer
   points (``--mlflow-points``); the two are compared by rate. Goal: >= 500x.
2. ``log_metrics``: 10 keys per call, then ``mloop.flush()``. MLflow gets its fastest
   path, ``MlflowClient.log_batch`` with 1,000 metrics per call. Goal: >= 10x.
3. ``create_runs``: start_run + log_params(5) + log_metrics(5) + end. Goal: >= 40x.
4. ``search``: the fluent ``search_runs`` (a DataFrame on both sides) with a metric AND
   a param filter and an order_by, over 500 and 10,000 runs of 10 params, 10 metrics
   and 3 tags each (populated untimed), timed in interleaved rounds (see
   ``bench/search.py``). Goals: >= 15x at 500 runs, mloop under 50 ms at 10,000.
5. ``open_store``: from an already imported library to the first successful query on
   a brand-new SQLite file (median of 3 fresh files). Goal: mloop under 100 ms.
6. Peak memory of the mloop worker processes (worst case). Goal: under 300 MB.

Ratios are always "how many times better mloop is": rate(mloop) / rate(MLflow) for
throughput, time(MLflow) / time(mloop) for latency. With ``--only mloop`` the ratios
are taken against MLflow 3.17's reference figures on this machine type instead, and
marked "(ref)".
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import harness
import search
from harness import peak_rss_mb

LIBRARIES: Final = ("mloop", "mlflow")
EXPERIMENT: Final = "bench"
REQUIREMENTS_HINT: Final = "pip install -r bench/requirements.txt"


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much work each case does."""

    mloop_points: int = 100_000
    mlflow_points: int = 2_000
    batch_points: int = 100_000
    keys_per_call: int = 10
    mlflow_batch: int = 1_000
    mloop_runs: int = 2_000
    mlflow_runs: int = 200
    search_runs: tuple[int, ...] = (500, 10_000)
    search_repeats: int = 3
    search_rounds: int = 5
    open_repeats: int = 3


FULL_SIZES: Final = Sizes()
QUICK_SIZES: Final = Sizes(
    mloop_points=10_000,
    mlflow_points=200,
    batch_points=10_000,
    mloop_runs=200,
    mlflow_runs=20,
    search_runs=(100, 300),
    search_repeats=3,
    search_rounds=2,
    open_repeats=3,
)


@dataclasses.dataclass(frozen=True)
class Context:
    """What a case needs inside a worker process."""

    lib: str
    module: ModuleType
    workdir: Path
    sizes: Sizes

    @property
    def is_mloop(self) -> bool:
        return self.lib == "mloop"

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.workdir / (self.lib + '.db')}"

    def client(self, uri: str | None = None) -> Any:
        """A low-level client (``mloop.Client`` or ``MlflowClient``) on ``uri``."""
        cls = self.module.Client if self.is_mloop else self.module.MlflowClient
        return cls(tracking_uri=uri or self.uri)

    def open(self) -> Any:
        """Point the fluent API at this worker's database and select the experiment."""
        self.module.set_tracking_uri(self.uri)
        return self.module.set_experiment(EXPERIMENT)

    def flush(self) -> None:
        """mloop's durability point; MLflow's fluent calls are already synchronous."""
        if self.is_mloop:
            self.module.flush()


# --------------------------------------------------------------------------- cases


def _metric_history_len(ctx: Context, run_id: str, keys: Sequence[str]) -> int | None:
    """Points stored for ``keys`` in ``run_id``, read back untimed; None if unsupported."""
    client = ctx.client()
    if not hasattr(client, "get_metric_history"):
        return None
    return sum(len(client.get_metric_history(run_id, key)) for key in keys)


def case_log_metric(ctx: Context) -> dict[str, Any]:
    """Case 1: one ``log_metric`` call per point, in one run."""
    lib = ctx.module
    n = ctx.sizes.mloop_points if ctx.is_mloop else ctx.sizes.mlflow_points
    ctx.open()
    with lib.start_run(run_name="log-metric") as run:
        start = time.perf_counter()
        for step in range(n):
            lib.log_metric("loss", 1.0 / (step + 1), step=step)
        ctx.flush()
        seconds = time.perf_counter() - start
    stored = _metric_history_len(ctx, run.info.run_id, ["loss"])
    return {"points": n, "seconds": seconds, "rate": n / seconds, "stored": stored}


def case_log_metrics(ctx: Context) -> dict[str, Any]:
    """Case 2: many keys per call (mloop ``log_metrics``, MLflow ``log_batch``)."""
    lib = ctx.module
    sizes = ctx.sizes
    keys = [f"k{j}" for j in range(sizes.keys_per_call)]
    n_steps = sizes.batch_points // len(keys)
    ctx.open()
    with lib.start_run(run_name="log-metrics") as run:
        if ctx.is_mloop:
            start = time.perf_counter()
            for step in range(n_steps):
                lib.log_metrics({key: step + j / 10 for j, key in enumerate(keys)}, step=step)
            ctx.flush()
            seconds = time.perf_counter() - start
        else:
            from mlflow.entities import Metric

            client = ctx.client()
            run_id = run.info.run_id
            steps_per_call = max(1, sizes.mlflow_batch // len(keys))
            start = time.perf_counter()
            for first in range(0, n_steps, steps_per_call):
                timestamp = int(time.time() * 1000)
                batch = [
                    Metric(key, step + j / 10, timestamp, step)
                    for step in range(first, min(first + steps_per_call, n_steps))
                    for j, key in enumerate(keys)
                ]
                client.log_batch(run_id, metrics=batch)
            seconds = time.perf_counter() - start
    points = n_steps * len(keys)
    stored = _metric_history_len(ctx, run.info.run_id, keys)
    return {"points": points, "seconds": seconds, "rate": points / seconds, "stored": stored}


def _run_data(index: int) -> tuple[dict[str, str], dict[str, float]]:
    """Deterministic params and metrics for run ``index``, the same for both libraries."""
    rng = random.Random(index)
    params = {"p0": "a" if index % 3 else "b"}
    params.update({f"p{j}": f"v{rng.randrange(10)}" for j in range(1, 5)})
    metrics = {"m0": math.sqrt(rng.random())}
    metrics.update({f"m{j}": rng.random() for j in range(1, 5)})
    return params, metrics


def case_create_runs(ctx: Context) -> dict[str, Any]:
    """Case 3: create runs, each with 5 params and 5 metrics, through the fluent API."""
    lib = ctx.module
    n = ctx.sizes.mloop_runs if ctx.is_mloop else ctx.sizes.mlflow_runs
    data = [_run_data(i) for i in range(n)]
    ctx.open()
    start = time.perf_counter()
    for i, (params, metrics) in enumerate(data):
        with lib.start_run(run_name=f"run-{i}"):
            lib.log_params(params)
            lib.log_metrics(metrics)
    ctx.flush()
    seconds = time.perf_counter() - start
    stored = len(lib.search_runs(experiment_names=[EXPERIMENT]))
    return {"runs": n, "seconds": seconds, "rate": n / seconds, "stored": stored}


def case_open_store(ctx: Context) -> dict[str, Any]:
    """Case 5: time from an imported library to the first query on a new SQLite file."""
    timings = []
    for i in range(ctx.sizes.open_repeats):
        uri = f"sqlite:///{ctx.workdir / f'open-{i}.db'}"
        start = time.perf_counter()
        if ctx.is_mloop:  # each store with its own artifact store, as a new project gets
            client = ctx.module.Client(
                tracking_uri=uri, artifacts_uri=str(ctx.workdir / f"open-{i}-artifacts")
            )
        else:
            client = ctx.client(uri)
        query = getattr(client, "search_experiments", None) or client.list_experiments
        query()
        timings.append(time.perf_counter() - start)
    return {
        "median_ms": statistics.median(timings) * 1000,
        "first_ms": timings[0] * 1000,
        "all_ms": [t * 1000 for t in timings],
    }


CASES: Final[Mapping[str, Callable[[Context], dict[str, Any]]]] = {
    "log_metric": case_log_metric,
    "log_metrics": case_log_metrics,
    "create_runs": case_create_runs,
    "search": search.populate,  # run by run_search(), not as one worker
    "open_store": case_open_store,
}
# What a worker process runs: the search case is split into populate and timing rounds.
WORKER_CASES: Final[Mapping[str, Callable[[Context], dict[str, Any]]]] = {
    **{name: case for name, case in CASES.items() if name != "search"},
    "search_populate": search.populate,
    "search_time": search.time_search,
}


# --------------------------------------------------------------------------- worker


def run_worker(lib: str, case: str, workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Import ``lib`` and run one case; called in a child process."""
    if lib == "mloop":
        os.environ.setdefault("MLOOP_ARTIFACTS_URI", str(workdir / "artifacts"))
    start = time.perf_counter()
    module = importlib.import_module(lib)
    if lib == "mlflow":
        importlib.import_module("mlflow.entities")
    import_seconds = time.perf_counter() - start
    result = WORKER_CASES[case](Context(lib=lib, module=module, workdir=workdir, sizes=sizes))
    result["import_seconds"] = import_seconds
    result["version"] = getattr(module, "__version__", "unknown")
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def _environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MLOOP_ARTIFACTS_URI"] = str(workdir / "artifacts")
    # No network calls from either library while it is being timed.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    return env


def spawn_worker(
    lib: str, case: str, sizes: Sizes, timeout: float, workdir: Path | None = None
) -> dict[str, Any]:
    """Run one case of one library in a child process and return its JSON result."""
    return harness.spawn_worker(
        __file__, lib, case, dataclasses.asdict(sizes), timeout, _environment, "bench", workdir
    )


def run_search(libs: Sequence[str], sizes: Sizes, timeout: float) -> dict[str, dict[str, Any]]:
    """The search case: populate once per library, then interleaved timing rounds."""
    return search.run_interleaved(
        libs,
        sizes,
        lambda lib, case, workdir: spawn_worker(lib, case, sizes, timeout, workdir),
        lambda text: print(text, file=sys.stderr, flush=True),
    )


# --------------------------------------------------------------------------- report


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the results table; ``case`` is empty for rows about every case."""

    case: str
    label: str
    unit: str
    mloop: float | None
    mlflow: float | None
    higher_is_better: bool
    goal_ratio: float | None = None
    goal_max: float | None = None
    reference: float | None = None

    def ratio(self) -> tuple[float | None, bool]:
        """mloop's advantage over MLflow, and whether it came from the reference figure."""
        other, from_reference = self.mlflow, False
        if other is None and self.reference is not None:
            other, from_reference = self.reference, True
        if self.mloop is None or other is None or self.mloop <= 0 or other <= 0:
            return None, from_reference
        value = self.mloop / other if self.higher_is_better else other / self.mloop
        return value, from_reference

    def goal_text(self) -> str:
        if self.goal_ratio is not None:
            return f">= {self.goal_ratio:g}x"
        if self.goal_max is not None:
            return f"mloop < {self.goal_max:g} {self.unit}"
        return ""

    def status(self) -> str:
        if self.goal_ratio is not None:
            value, _ = self.ratio()
            return "n/a" if value is None else ("PASS" if value >= self.goal_ratio else "FAIL")
        if self.goal_max is not None:
            if self.mloop is None:
                return "n/a"
            return "PASS" if self.mloop < self.goal_max else "FAIL"
        return ""


def _get(results: Mapping[str, Mapping[str, Any]], lib: str, case: str, *path: str) -> Any:
    node: Any = results.get(lib, {}).get(case)
    for key in path:
        if not isinstance(node, Mapping) or "error" in node or key not in node:
            return None
        node = node[key]
    return node


def build_rows(results: Mapping[str, Mapping[str, Any]], sizes: Sizes) -> list[Row]:
    """Turn the workers' results into table rows (reference figures: MLflow 3.17)."""

    def both(case: str, *path: str) -> tuple[Any, Any]:
        return _get(results, "mloop", case, *path), _get(results, "mlflow", case, *path)

    def peak(lib: str) -> float | None:
        values = [_get(results, lib, case, "peak_rss_mb") for case in CASES]
        present = [v for v in values if v is not None]
        return max(present) if present else None

    def median_import(lib: str) -> float | None:
        values = [_get(results, lib, case, "import_seconds") for case in CASES]
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    rows = [
        Row(
            "log_metric",
            "log_metric, 1 point per call",
            "points/s",
            *both("log_metric", "rate"),
            higher_is_better=True,
            goal_ratio=500,
            reference=140,
        ),
        Row(
            "log_metrics",
            f"log_metrics, {sizes.keys_per_call} keys/call (MLflow: log_batch)",
            "points/s",
            *both("log_metrics", "rate"),
            higher_is_better=True,
            goal_ratio=10,
            reference=8_400,
        ),
        Row(
            "create_runs",
            "create runs, 5 params + 5 metrics",
            "runs/s",
            *both("create_runs", "rate"),
            higher_is_better=True,
            goal_ratio=40,
            reference=23,
        ),
    ]
    for n in sorted(sizes.search_runs):
        mloop_s, mlflow_s = both("search", "sizes", str(n), "median_seconds")
        rows.append(
            Row(
                "search",
                f"search_runs over {n:,} runs",
                "ms",
                None if mloop_s is None else mloop_s * 1000,
                None if mlflow_s is None else mlflow_s * 1000,
                higher_is_better=False,
                goal_ratio=None if n >= 10_000 else 15,
                goal_max=50 if n >= 10_000 else None,
            )
        )
    rows += [
        Row(
            "open_store",
            "open a new store",
            "ms",
            *both("open_store", "median_ms"),
            higher_is_better=False,
            goal_max=100,
        ),
        Row(
            "open_store",
            "open a new store, first in a process",
            "ms",
            *both("open_store", "first_ms"),
            higher_is_better=False,
        ),
        Row(
            "",
            "peak RSS, worst worker",
            "MB",
            peak("mloop"),
            peak("mlflow"),
            higher_is_better=False,
            goal_max=300,
        ),
        Row(
            "",
            "import time",
            "s",
            median_import("mloop"),
            median_import("mlflow"),
            higher_is_better=False,
        ),
    ]
    return rows


def check_notes(results: Mapping[str, Mapping[str, Any]], sizes: Sizes) -> list[str]:
    """Sanity checks on what was written and read back; empty when all is well."""
    notes = []
    for lib, cases in results.items():
        for case, result in cases.items():
            if "error" in result:
                notes.append(f"{lib} {case} failed: {result['error']}")
                continue
            expected = result.get("points", result.get("runs"))
            stored = result.get("stored")
            if stored is not None and expected is not None and stored != expected:
                notes.append(f"{lib} {case}: {stored:,} of {expected:,} written were read back")
            for n, entry in result.get("sizes", {}).items():
                if entry.get("ordered") is False:
                    notes.append(
                        f"{lib} search over {int(n):,} runs: result not sorted by"
                        f" {search.ORDER_COLUMN}"
                    )
    for n in sizes.search_runs:
        rows = [_get(results, lib, "search", "sizes", str(n), "rows") for lib in LIBRARIES]
        if None not in rows and rows[0] != rows[1]:
            notes.append(
                f"search over {n:,} runs: mloop found {rows[0]:,} rows, MLflow {rows[1]:,}"
            )
    return notes + search.noise_notes(results)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("points/s", "runs/s"):
        return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def _ratio_text(row: Row) -> str:
    value, from_reference = row.ratio()
    if value is None:
        return "-"
    text = f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"
    return text + " (ref)" if from_reference else text


def print_report(
    rows: Sequence[Row],
    sizes: Sizes,
    notes: Sequence[str],
    libs: Sequence[str],
    total_seconds: float,
) -> None:
    """Print the table (Rich if installed, plain text otherwise) and the notes."""
    header = ("Case", "mloop", "MLflow", "mloop vs MLflow", "Goal", "Result")
    lines = [
        (
            row.label,
            _fmt(row.mloop, row.unit),
            _fmt(row.mlflow, row.unit),
            _ratio_text(row),
            row.goal_text(),
            row.status(),
        )
        for row in rows
    ]
    footer = [
        f"Sizes: log_metric mloop {sizes.mloop_points:,} / MLflow {sizes.mlflow_points:,} points;"
        f" log_metrics {sizes.batch_points:,} points each;"
        f" create runs mloop {sizes.mloop_runs:,} / MLflow {sizes.mlflow_runs:,}.",
        f"log_batch: {sizes.mlflow_batch:,} metrics per call. search_runs (DataFrame on both"
        f" sides): median of {sizes.search_rounds} interleaved rounds x {sizes.search_repeats}"
        f" calls, filter {search.SEARCH_FILTER!r}, order_by {list(search.SEARCH_ORDER_BY)}.",
        f"open a new store: median of {sizes.open_repeats} fresh SQLite files."
        " Peak RSS: largest ru_maxrss over one library's worker processes.",
        "Ratios: rate(mloop)/rate(MLflow) for throughput, time(MLflow)/time(mloop) for latency.",
    ]
    if "mlflow" not in libs:
        footer.append("(ref): against MLflow 3.17's reference figures for this machine type.")
    footer += [f"NOTE: {note}" for note in notes]
    footer.append(f"Total wall time: {total_seconds:.1f} s")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
        for line in [header, tuple("-" * w for w in widths), *lines]:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        print("\n".join(footer))
        return
    style = {"PASS": "[green]PASS[/]", "FAIL": "[bold red]FAIL[/]"}
    table = Table(title="mloop vs MLflow: experiment tracking on SQLite")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for line in lines:
        table.add_row(*line[:-1], style.get(line[-1], line[-1]))
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 120))
    console.print(table)
    for text in footer:
        console.print(text, markup=False, highlight=False)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark mloop's experiment tracking against MLflow (both on SQLite).",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--only", choices=LIBRARIES, help="run one library only")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all results as JSON")
    parser.add_argument(
        "--case",
        action="append",
        choices=sorted({*CASES, *WORKER_CASES}),
        help="run only this case (repeatable; default: all)",
    )
    parser.add_argument("--mlflow-points", type=int, help="points for MLflow's log_metric case")
    parser.add_argument("--mloop-points", type=int, help="points for mloop's log_metric case")
    parser.add_argument("--mlflow-runs", type=int, help="runs for MLflow's create_runs case")
    parser.add_argument("--mloop-runs", type=int, help="runs for mloop's create_runs case")
    parser.add_argument(
        "--search-sizes",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        help="comma-separated run counts for the search case (e.g. 500,10000)",
    )
    harness.add_worker_arguments(parser, LIBRARIES)
    return parser.parse_args(argv)


def sizes_from_args(args: argparse.Namespace) -> Sizes:
    if args.sizes:
        raw = json.loads(args.sizes)
        raw["search_runs"] = tuple(raw["search_runs"])
        return Sizes(**raw)
    overrides = {
        "mlflow_points": args.mlflow_points,
        "mloop_points": args.mloop_points,
        "mlflow_runs": args.mlflow_runs,
        "mloop_runs": args.mloop_runs,
        "search_runs": args.search_sizes,
    }
    base = QUICK_SIZES if args.quick else FULL_SIZES
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def select_libraries(only: str | None) -> list[str] | None:
    """The libraries to run, or None (after explaining why) if one is missing."""
    libs = [only] if only else list(LIBRARIES)
    if "mlflow" in libs and importlib.util.find_spec("mlflow") is None:
        print(
            f"mlflow is not importable from {sys.executable}.\n"
            f"Install the benchmark's dependencies with `{REQUIREMENTS_HINT}`,\n"
            "or run `python bench/tracking.py --only mloop` to skip the MLflow side.",
            file=sys.stderr,
        )
        return None
    if "mloop" in libs and importlib.util.find_spec("mloop") is None:
        print(
            f"mloop is not importable from {sys.executable}.\n"
            "Install it with `pip install -e .` from the repository root,\n"
            "or run `python bench/tracking.py --only mlflow` for the MLflow side alone.",
            file=sys.stderr,
        )
        return None
    return libs


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sizes_from_args(args)
    if args.worker:
        return harness.run_as_worker(args, run_worker, sizes)

    libs = select_libraries(args.only)
    if libs is None:
        return 2
    cases = args.case or list(CASES)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {lib: {} for lib in libs}
    for case in cases:
        if case == "search":
            for lib, result in run_search(libs, sizes, args.timeout).items():
                results[lib][case] = result
            continue
        for lib in libs:
            print(f"[{lib:>6}] {case:<12} ...", end="", flush=True, file=sys.stderr)
            result = spawn_worker(lib, case, sizes, args.timeout)
            results[lib][case] = result
            outcome = "FAILED" if "error" in result else f"{result['worker_wall_seconds']:.1f} s"
            print(f" {outcome}", file=sys.stderr)
    total_seconds = time.perf_counter() - started

    rows = [row for row in build_rows(results, sizes) if row.case in ("", *cases)]
    notes = check_notes(results, sizes)
    print_report(rows, sizes, notes, libs, total_seconds)

    if args.json:
        meta = {
            "quick": args.quick,
            "sizes": dataclasses.asdict(sizes),
            "total_seconds": total_seconds,
        }
        harness.write_results(args.json, results, rows, notes, meta)
    return 1 if any("error" in r for cases_ in results.values() for r in cases_.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
