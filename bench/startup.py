"""Side-by-side benchmark of start-up: import and command line, mloop against MLflow and DVC.

Usage (from the repository root, in the benchmark environment)::

    python bench/startup.py                      # full run: 15 rounds
    python bench/startup.py --quick              # 5 rounds, a store of 100 runs
    python bench/startup.py --only mloop         # skip the peers
    python bench/startup.py --json results.json  # also write every figure as JSON

Everything is timed as a whole process, as a user meets it: the interpreter starts,
imports, does the work and exits. The commands of every side run interleaved, one
round after another (mloop, MLflow, DVC, mloop, ...), so a machine that slows down for
a while slows every side alike; each figure is the median over the rounds. Before the
rounds each command runs once untimed, so that Python's bytecode caches exist.

Cases:

1. ``import``: ``python -c "import mloop"`` against ``python -c "import mlflow"``.
   Goal: mloop <= 100 ms.
2. ``help``: ``mloop --help`` against ``mlflow --help`` and ``dvc --help``.
   Goal: mloop <= 250 ms.
3. ``list``: ``mloop runs ls --max-results 1000`` on a store of 1,000 runs (SQLite, each
   run with 3 params and 3 metrics) against ``mlflow runs list`` of the same runs in an
   MLflow SQLite store; and ``mloop runs ls`` on a small store (10 runs).
   Goal: the small listing <= 500 ms.

``python -c pass`` is timed in the same rounds: the interpreter's own start, which
every figure includes. Ratios are "how many times faster mloop is": time(peer) /
time(mloop).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import harness

REQUIREMENTS_HINT = "pip install -r bench/requirements.txt -e ."
PARAMS = 3
METRICS = 3


@dataclasses.dataclass(frozen=True)
class Command:
    """One timed command: which side runs it, and the process to start."""

    key: str
    lib: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path


def _executable(name: str) -> str | None:
    """``name`` next to this interpreter (the benchmark venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOOP_", "MLFLOW_"))}
    # Bytecode caches as a user has them: the warm-up run writes them (pip wrote the
    # peers' at install); without them every run would compile its sources anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # No network calls from any library while it is being timed.
    env.update(DO_NOT_TRACK="true", DVC_NO_ANALYTICS="1", MLFLOW_DISABLE_TELEMETRY="true")
    env.update(extra)
    return env


# --------------------------------------------------------------------------- stores

MLOOP_FILL = """
import sys
import mloop
from mloop.entities import Metric, Param
client = mloop.Client(tracking_uri=sys.argv[1], artifacts_uri=sys.argv[2])
experiment = client.create_experiment("startup")
for i in range(int(sys.argv[3])):
    run = client.create_run(experiment, run_name=f"run-{i}")
    client.log_batch(
        run.info.run_id,
        params=[Param(f"p{k}", str(i + k)) for k in range(PARAMS)],
        metrics=[Metric(f"m{k}", (i + k) / 7, 0, 0) for k in range(METRICS)],
    )
    client.set_terminated(run.info.run_id)
client.flush()
"""

MLFLOW_FILL = """
import sys
import mlflow
from mlflow.entities import Metric, Param
client = mlflow.MlflowClient(tracking_uri=sys.argv[1])
experiment = client.create_experiment("startup")
for i in range(int(sys.argv[2])):
    run = client.create_run(experiment, run_name=f"run-{i}")
    client.log_batch(
        run.info.run_id,
        params=[Param(f"p{k}", str(i + k)) for k in range(PARAMS)],
        metrics=[Metric(f"m{k}", (i + k) / 7, 0, 0) for k in range(METRICS)],
    )
    client.set_terminated(run.info.run_id)
print(experiment)
"""


def _fill(code: str, *args: str) -> str:
    source = code.replace("PARAMS", str(PARAMS)).replace("METRICS", str(METRICS))
    proc = subprocess.run(
        [sys.executable, "-c", source, *args], capture_output=True, text=True, env=_environment()
    )
    if proc.returncode != 0:
        raise RuntimeError(f"filling a store failed: {proc.stderr[-2000:]}")
    return proc.stdout.strip()


def mloop_store(root: Path, runs: int) -> dict[str, str]:
    """A mloop store of ``runs`` finished runs; the environment that points at it."""
    uri, artifacts = f"sqlite:///{root}/mloop.db", str(root / "artifacts")
    _fill(MLOOP_FILL, uri, artifacts, str(runs))
    return _environment(MLOOP_TRACKING_URI=uri, MLOOP_ARTIFACTS_URI=artifacts)


def mlflow_store(root: Path, runs: int) -> tuple[dict[str, str], str]:
    """An MLflow SQLite store of ``runs`` finished runs; its environment and experiment id."""
    uri = f"sqlite:///{root}/mlflow.db"
    experiment = _fill(MLFLOW_FILL, uri, str(runs)).splitlines()[-1]
    return _environment(MLFLOW_TRACKING_URI=uri), experiment


# --------------------------------------------------------------------------- commands


def build_commands(libs: Sequence[str], root: Path, runs: int) -> list[Command]:
    """Every command to time, after creating the stores they list (untimed)."""
    python = sys.executable
    plain = _environment()
    commands = [Command("python", "python", [python, "-c", "pass"], plain, root)]
    if "mloop" in libs:
        mloop = _executable("mloop")
        if mloop is None:
            raise RuntimeError(f"the mloop command is not installed; {REQUIREMENTS_HINT}")
        big = mloop_store(root / "mloop-big", runs)
        small = mloop_store(root / "mloop-small", 10)
        commands += [
            Command("import", "mloop", [python, "-c", "import mloop"], plain, root),
            Command("help", "mloop", [mloop, "--help"], plain, root),
            Command("version", "mloop", [mloop, "version"], plain, root),
            Command("list", "mloop", [mloop, "runs", "ls", "--max-results", "1000"], big, root),
            Command("list_small", "mloop", [mloop, "runs", "ls"], small, root),
        ]
    if "mlflow" in libs:
        mlflow = _executable("mlflow")
        if mlflow is None:
            raise RuntimeError(f"mlflow is not installed; {REQUIREMENTS_HINT}")
        env, experiment = mlflow_store(root / "mlflow", runs)
        commands += [
            Command("import", "mlflow", [python, "-c", "import mlflow"], plain, root),
            Command("help", "mlflow", [mlflow, "--help"], plain, root),
            Command(
                "list", "mlflow", [mlflow, "runs", "list", "--experiment-id", experiment], env, root
            ),
        ]
    if "dvc" in libs:
        dvc = _executable("dvc")
        if dvc is None:
            raise RuntimeError(f"dvc is not installed; {REQUIREMENTS_HINT}")
        commands.append(Command("help", "dvc", [dvc, "--help"], plain, root))
    return commands


def run_once(command: Command) -> float:
    """Seconds the command took as a whole process; raises if it failed."""
    start = time.perf_counter()
    proc = subprocess.run(
        command.argv, cwd=command.cwd, env=command.env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command.argv)} exited {proc.returncode}: {proc.stderr[-1000:]}"
        )
    return seconds


def measure(commands: Sequence[Command], rounds: int) -> dict[str, dict[str, Any]]:
    """Interleaved rounds of every command; per side and case, every timing and the median."""
    for command in commands:  # warm: bytecode caches written, stores opened once
        run_once(command)
    timings: dict[tuple[str, str], list[float]] = {(c.lib, c.key): [] for c in commands}
    for _ in range(rounds):
        for command in commands:
            timings[(command.lib, command.key)].append(run_once(command))
    results: dict[str, dict[str, Any]] = {}
    for (lib, key), values in timings.items():
        results.setdefault(lib, {})[key] = {
            "median_seconds": statistics.median(values),
            "min_seconds": min(values),
            "all_seconds": values,
        }
    return results


def versions(libs: Sequence[str]) -> dict[str, str | None]:
    """Each side's version, as its command reports it."""
    found: dict[str, str | None] = {}
    for lib, argv in (("mloop", ["version"]), ("mlflow", ["--version"]), ("dvc", ["--version"])):
        path = _executable(lib) if lib in libs else None
        if path is not None:
            proc = subprocess.run([path, *argv], capture_output=True, text=True)
            found[lib] = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 else None
    return found


# --------------------------------------------------------------------------- report


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the results table: mloop's time against a peer's (seconds)."""

    case: str
    label: str
    mloop: float | None
    peer_name: str
    peer: float | None
    goal_max: float | None = None

    def ratio(self) -> float | None:
        """time(peer) / time(mloop)."""
        if self.mloop is None or self.peer is None or self.mloop <= 0:
            return None
        return self.peer / self.mloop

    def goal_text(self) -> str:
        return f"mloop <= {self.goal_max * 1000:g} ms" if self.goal_max is not None else ""

    def status(self) -> str:
        if self.goal_max is None:
            return ""
        if self.mloop is None:
            return "n/a"
        return "PASS" if self.mloop <= self.goal_max else "FAIL"


def build_rows(results: Mapping[str, Mapping[str, Any]], runs: int) -> list[Row]:
    """The table: each case against each peer that has it."""

    def get(lib: str, key: str) -> float | None:
        found = results.get(lib, {}).get(key)
        return None if found is None else float(found["median_seconds"])

    return [
        Row(
            "import",
            "import mloop",
            get("mloop", "import"),
            "import mlflow",
            get("mlflow", "import"),
            0.1,
        ),
        Row(
            "help",
            "mloop --help",
            get("mloop", "help"),
            "mlflow --help",
            get("mlflow", "help"),
            0.25,
        ),
        Row("help", "  the same", get("mloop", "help"), "dvc --help", get("dvc", "help"), 0.25),
        Row("help", "mloop version", get("mloop", "version"), "", None),
        Row(
            "list",
            f"mloop runs ls, {runs:,} runs",
            get("mloop", "list"),
            "mlflow runs list",
            get("mlflow", "list"),
        ),
        Row("list", "mloop runs ls, 10 runs", get("mloop", "list_small"), "", None, 0.5),
        Row("python", "python -c pass (in every figure)", get("python", "python"), "", None),
    ]


def _ratio_text(row: Row) -> str:
    value = row.ratio()
    return "-" if value is None else f"{value:.3g}x"


def print_report(rows: Sequence[Row], rounds: int, runs: int, total_seconds: float) -> None:
    """Print the table (Rich if installed, plain text otherwise)."""
    footer = [
        f"Each figure: the median of {rounds} rounds, every command run as a whole process,"
        " the sides interleaved within each round, after one untimed warm-up run each.",
        f"Stores: SQLite; {runs:,} runs with {PARAMS} params and {METRICS} metrics each"
        " (mloop and MLflow alike); MLflow lists every run of the experiment, mloop up to 1,000.",
        "Ratios: time(peer) / time(mloop), so higher is better for mloop.",
        f"Total wall time: {total_seconds:.1f} s",
    ]
    lines = harness.result_lines(rows, _ratio_text)
    harness.print_table("mloop vs MLflow and DVC: start-up and commands", lines, footer)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds, a store of 100 runs")
    parser.add_argument("--only", choices=("mloop", "peer"), help="mloop only, or the peers only")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all results as JSON")
    parser.add_argument("--rounds", type=int, help="rounds of every command (default 15)")
    parser.add_argument("--runs", type=int, help="runs in the listed store (default 1,000)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 15)
    runs = args.runs or (100 if args.quick else 1000)
    libs = (
        ["mloop"]
        if args.only == "mloop"
        else ["mlflow", "dvc"]
        if args.only == "peer"
        else [
            "mloop",
            "mlflow",
            "dvc",
        ]
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        try:
            commands = build_commands(libs, Path(tmp), runs)
        except RuntimeError as err:
            print(err, file=sys.stderr)
            return 2
        print(f"timing {len(commands)} commands, {rounds} rounds ...", file=sys.stderr)
        results = measure(commands, rounds)
    total_seconds = time.perf_counter() - started
    rows = build_rows(results, runs)
    print_report(rows, rounds, runs, total_seconds)
    if args.json:
        found = versions(libs)
        for lib, version in found.items():
            for case in results.get(lib, {}).values():
                case["version"] = version
        meta = {"rounds": rounds, "runs": runs, "total_seconds": total_seconds}
        harness.write_results(args.json, results, rows, [], meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
