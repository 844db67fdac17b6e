"""Side-by-side benchmark of mloop's data versioning and validation against DVC and GX.

Usage (from the repository root, in an environment that has every library)::

    python bench/data.py                      # full run, mloop and its peers
    python bench/data.py --quick              # small sizes: a smoke test, about a minute
    python bench/data.py --only mloop         # skip the peers (e.g. when they are not installed)
    python bench/data.py --only peer          # the peers alone
    python bench/data.py --json results.json  # also write every figure as JSON
    python bench/data.py --case validate      # run only some cases (repeatable)

Setting up the environment::

    python3 -m venv .bench-venv
    .bench-venv/bin/pip install -r bench/requirements.txt
    .bench-venv/bin/pip install -e .
    .bench-venv/bin/python bench/data.py

Every (library, case) pair runs in its own child process (this same script, started
with ``--worker``), in a fresh temporary directory that holds its own data and its own
store (``MLOOP_HOME=<tmp>/home`` for mloop, a new ``git init`` + ``dvc init``
repository for DVC), so no library shares import state, caches or files with another.
The parent collects the children's JSON and prints one table: per-library figures, how
many times faster mloop is than the peer, and a pass/fail mark against the goals.

The add cases are bound by the disk, whose speed on a virtual machine swings from one
minute to the next. So each add case runs in 3 rounds (``--add-repeats``), each round a
worker per library in turn (mloop, DVC, mloop, DVC, ...), each with fresh data and a
fresh store, and the table shows the medians. Every worker syncs the disk before each
timed add, so earlier writes are not flushed inside it. Commands run with bytecode
caches, as after ``pip install``.

Cases:

1. ``add_file``: version one file of random bytes (1 GiB; ``--quick``: 64 MiB).
   ``mloop.data.add`` against ``dvc add FILE``. Goal: >= 4x.
2. ``add_folder``: version a folder of 10,000 files of 10 KiB (``--quick``: 1,000).
   ``mloop.data.add`` against ``dvc add DIR``. Goal: >= 3x.
3. Re-adding unchanged data, measured in the same workers as cases 1 and 2 (a second
   add of the same file or folder). Goals: >= 5x faster than DVC's second ``dvc add``,
   and >= 20x faster than mloop's own first add.

Cases 1 to 3 are also measured as whole commands, as users time them: ``mloop data
add`` in a new process (into a store of its own, created untimed as ``dvc init`` creates
DVC's, so its first add stores everything) against ``dvc add``, start-up included.
Goals: >= 4x (file), >= 3x (folder) and >= 5x (re-add).
4. ``validate``: a pandas DataFrame of 1,000,000 rows x 20 columns (ints, floats with
   and without nulls, low-cardinality strings, and strings of 1,000,000 distinct values;
   ``--quick``: 100,000 rows) against the same 20 checks on every side (row count,
   not-null, ranges, sets, uniqueness, a regex): ``mloop.data.validate``, Great
   Expectations 1.x (ephemeral context, pandas data source, whole-dataframe batch
   definition, a validation definition) and hand-written vectorised pandas (the
   floor). The three run in one process, on the same DataFrames (strings Arrow-backed,
   then numpy objects), in interleaved rounds; medians. Goals: >= 4x faster than GX,
   and no slower than the floor. GX's import time is reported too.
5. ``profile``: ``mloop.data.profile.profile_table`` over a table of 1,000,000 rows x
   20 columns (15 normal floats, 5 strings from a/b/c/d). Goal: < 2 s.

Ratios are always "how many times faster mloop is": time(peer) / time(mloop). With
``--only mloop`` the ratios are taken against the peers' reference figures on this
machine type instead (at the full sizes only), and marked "(ref)".
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import harness
from harness import peak_rss_mb, settle, worker_notes

LIBRARIES: Final = ("mloop", "dvc", "gx", "pandas")
PEER_NAMES: Final = {
    "dvc": "DVC",
    "gx": "Great Expectations",
    "pandas": "pandas/numpy by hand",
}
SEED: Final = 20_240_601
MIB: Final = 1024 * 1024
DATASET: Final = "big"
STRING_VALUES: Final = ("a", "b", "c", "d")
BROKEN_ROWS: Final = 1_000
REQUIREMENTS_HINT: Final = "pip install -r bench/requirements.txt"


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much work each case does."""

    file_mib: int = 1024
    folder_files: int = 10_000
    folder_file_kib: int = 10
    rows: int = 1_000_000
    float_columns: int = 15
    string_columns: int = 5
    repeats: int = 3
    add_repeats: int = 3
    rounds: int = 5


FULL_SIZES: Final = Sizes()
QUICK_SIZES: Final = Sizes(file_mib=64, folder_files=1_000, rows=100_000, add_repeats=1, rounds=3)
ADD_CASES: Final = ("add_file", "add_folder")
ADD_TIMINGS: Final = ("first_seconds", "second_seconds", "cli_first_seconds", "cli_second_seconds")


@dataclasses.dataclass(frozen=True)
class Context:
    """What a case needs inside a worker process."""

    lib: str
    workdir: Path
    sizes: Sizes


# --------------------------------------------------------------------------- data


def write_random_file(path: Path, size: int, seed: int = SEED) -> None:
    """``size`` random bytes, written in 64 MiB pieces (the same bytes for every library)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        while left:
            piece = min(left, 64 * MIB)
            out.write(rng.bytes(piece))
            left -= piece


def write_random_folder(root: Path, count: int, size: int, seed: int = SEED) -> None:
    """``count`` files of ``size`` random bytes each, in one folder."""
    import numpy as np

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"part-{i:05d}.bin").write_bytes(rng.bytes(size))


def table_columns(sizes: Sizes, rows: int | None = None) -> dict[str, Any]:
    """The benchmark table as numpy arrays: c0.. normal floats, s0.. strings from a/b/c/d."""
    import numpy as np

    n = sizes.rows if rows is None else rows
    rng = np.random.default_rng(SEED)
    floats = rng.standard_normal((sizes.float_columns, n))
    codes = rng.integers(0, len(STRING_VALUES), (sizes.string_columns, n))
    letters = np.array(STRING_VALUES)
    columns: dict[str, Any] = {f"c{i}": floats[i] for i in range(sizes.float_columns)}
    columns.update({f"s{j}": letters[codes[j]] for j in range(sizes.string_columns)})
    return columns


def as_arrow(columns: Mapping[str, Any]) -> Any:
    """An Arrow table; NaN becomes null, as it is in pandas."""
    import pyarrow as pa

    return pa.table({name: pa.array(values, from_pandas=True) for name, values in columns.items()})


# --------------------------------------------------------------------------- helpers


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def _run(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command; raise with its output if it fails."""
    proc = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {proc.returncode}: {(proc.stderr or proc.stdout)[-2000:]}"
        )
    return proc


def _executable(name: str) -> str | None:
    """``name`` next to this interpreter (the benchmark venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def _median_runs(repeats: int, function: Callable[[], Any]) -> tuple[list[float], Any]:
    timings, value = [], None
    for _ in range(repeats):
        seconds, value = _timed(function)
        timings.append(seconds)
    return timings, value


# --------------------------------------------------------------------------- versioning


def _add_mloop(ctx: Context, path: Path, files: int, size: int) -> dict[str, Any]:
    import mloop

    mloop.set_tracking_uri(ctx.workdir / "home")
    settle()
    first_seconds, first = _timed(lambda: mloop.data.add(path, name=DATASET))
    settle()
    second_seconds, second = _timed(lambda: mloop.data.add(path, name=DATASET))
    problems = []
    if len(first.files) != files:
        problems.append(f"stored {len(first.files)} files, expected {files}")
    stored_bytes = sum(item.size for item in first.files)
    if stored_bytes != size:
        problems.append(f"stored {stored_bytes:,} bytes, expected {size:,}")
    if (first.ref, first.digest) != (second.ref, second.digest):
        problems.append(f"re-add gave {second.ref}, first add {first.ref}")

    cli_first, cli_second = _add_mloop_command(ctx, path, problems)
    return {
        "first_seconds": first_seconds,
        "second_seconds": second_seconds,
        "cli_first_seconds": cli_first,
        "cli_second_seconds": cli_second,
        "ref": first.ref,
        "files": len(first.files),
        "bytes": stored_bytes,
        "problems": problems,
    }


def _add_mloop_command(
    ctx: Context, path: Path, problems: list[str]
) -> tuple[float | None, float | None]:
    """``mloop data add`` twice as a new process each (as `dvc add` runs), into a new store."""
    cli = _executable("mloop")
    if cli is None:
        problems.append("the mloop command is not installed; command-level adds not measured")
        return None, None
    command = [cli, "data", "add", str(path), "--name", DATASET, "--json"]
    env = {**os.environ, "MLOOP_HOME": str(ctx.workdir / "cli-home")}
    # The store is created first, untimed, as `dvc init` creates DVC's repository; and
    # the command's help is shown once, so its modules have their bytecode caches.
    create = [sys.executable, "-c", "import mloop; mloop.Client()"]
    subprocess.run(create, cwd=ctx.workdir, env=env, check=True, capture_output=True)
    subprocess.run([cli, "data", "add", "--help"], env=env, check=True, capture_output=True)
    timings, versions = [], []
    for _ in range(2):
        settle()
        seconds, proc = _timed(
            lambda: subprocess.run(
                command, cwd=ctx.workdir, env=env, capture_output=True, text=True
            )
        )
        if proc.returncode != 0:
            problems.append(f"mloop data add exited {proc.returncode}: {proc.stderr[-500:]}")
            return None, None
        timings.append(seconds)
        versions.append(json.loads(proc.stdout).get("version"))
    if versions != [1, 1]:
        problems.append(f"mloop data add gave versions {versions}, expected [1, 1]")
    return timings[0], timings[1]


def _add_dvc(ctx: Context, path: Path, files: int, size: int) -> dict[str, Any]:
    import yaml

    dvc = _executable("dvc")
    if dvc is None:
        raise RuntimeError(f"dvc is not installed; {REQUIREMENTS_HINT}")
    repo = path.parent
    _run(["git", "init", "-q"], repo)
    _run([dvc, "init", "-q"], repo)
    _run([dvc, "config", "core.analytics", "false"], repo)
    command = [dvc, "add", path.name]
    settle()
    first_seconds, _ = _timed(lambda: _run(command, repo))
    meta_file = repo / f"{path.name}.dvc"
    problems = []
    if not meta_file.exists():
        raise RuntimeError(f"dvc add wrote no {meta_file.name}")
    first_meta = meta_file.read_text()
    out = yaml.safe_load(first_meta)["outs"][0]
    settle()
    second_seconds, _ = _timed(lambda: _run(command, repo))
    if meta_file.read_text() != first_meta:
        problems.append(f"re-add changed {meta_file.name}")
    if out.get("size") != size:
        problems.append(f"{meta_file.name} says {out.get('size')} bytes, expected {size:,}")
    if path.is_dir() and out.get("nfiles") != files:
        problems.append(f"{meta_file.name} says {out.get('nfiles')} files, expected {files}")
    md5 = str(out.get("md5", ""))
    if not (repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).exists():
        problems.append(f"no cache object for md5 {md5}")
    version = _run([dvc, "--version"], repo).stdout.strip()
    return {
        "first_seconds": first_seconds,
        "second_seconds": second_seconds,
        "md5": md5,
        "files": out.get("nfiles", 1),
        "bytes": out.get("size"),
        "problems": problems,
        "version": version,
        "children_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
    }


def _target_dir(ctx: Context) -> Path:
    """DVC's data lives in its repository; mloop's anywhere."""
    return ctx.workdir / ("repo" if ctx.lib == "dvc" else "data")


def case_add_file(ctx: Context) -> dict[str, Any]:
    """Cases 1 and 3: version one file of random bytes, then add it again unchanged."""
    size = ctx.sizes.file_mib * MIB
    path = _target_dir(ctx) / "big.bin"
    generate_seconds, _ = _timed(lambda: write_random_file(path, size))
    add = _add_mloop if ctx.lib == "mloop" else _add_dvc
    return {**add(ctx, path, 1, size), "generate_seconds": generate_seconds}


def case_add_folder(ctx: Context) -> dict[str, Any]:
    """Cases 2 and 3: version a folder of many small files, then add it again unchanged."""
    sizes = ctx.sizes
    each = sizes.folder_file_kib * 1024
    path = _target_dir(ctx) / "folder"
    generate_seconds, _ = _timed(lambda: write_random_folder(path, sizes.folder_files, each))
    add = _add_mloop if ctx.lib == "mloop" else _add_dvc
    result = add(ctx, path, sizes.folder_files, sizes.folder_files * each)
    return {**result, "generate_seconds": generate_seconds}


# --------------------------------------------------------------------------- validation

VALIDATE_SIDES: Final = ("mloop", "gx", "pandas")
FRAME_KINDS: Final = ("arrow_str", "object_str")
COUNTRIES: Final = tuple(f"C{k:02d}" for k in range(30))
PLANS: Final = ("free", "pro", "team", "enterprise")
STATUSES: Final = ("active", "closed", "paused")
NAMES: Final = ("alice", "bob", "carol", "dave", "erin")
EMAIL_PATTERN: Final = r"^[a-z0-9.]+@[a-z0-9]+\.com$"
STRING_COLUMNS: Final = ("email", "session", "ref_code", "country", "plan", "status", "name")

# The 20 checks of the validate case, as (kind, column, arguments); every side gets exactly these.
CHECKS: Final[tuple[tuple[str, str | None, Mapping[str, Any]], ...]] = (
    ("row_count", None, {"min": 10_000, "max": 100_000_000}),
    *(("not_null", c, {}) for c in ("user_id", "email", "session", "x0", "country")),
    ("between", "age", {"min": 0, "max": 120}),
    ("between", "visits", {"min": 0, "max": 10_000}),
    ("between", "income", {"min": 0.0, "max": 1e7}),
    ("between", "x1", {"min": -10.0, "max": 10.0}),
    ("between", "score", {"min": 0.0, "max": 1.0}),
    ("between", "weight", {"min": 0.0, "max": 500.0}),
    ("in_set", "country", {"values": list(COUNTRIES)}),
    ("in_set", "plan", {"values": list(PLANS)}),
    ("in_set", "status", {"values": list(STATUSES)}),
    ("in_set", "name", {"values": list(NAMES)}),
    *(("unique", c, {}) for c in ("user_id", "email", "session")),
    ("regex", "email", {"pattern": EMAIL_PATTERN}),
)


def validation_columns(rows: int) -> dict[str, Any]:
    """The validate case's table: 20 columns of ints, floats (some null), categories and
    high-cardinality strings (``email`` and ``session`` hold ``rows`` distinct values each).
    """
    import numpy as np

    rng = np.random.default_rng(SEED)
    ids = rng.permutation(rows).astype("int64") + 1

    def with_nulls(values: Any, share: float) -> Any:
        values = values.astype("float64")
        values[rng.random(rows) < share] = np.nan
        return values

    def pick(choices: Sequence[str]) -> Any:
        return np.array(choices, dtype=object)[rng.integers(0, len(choices), rows)]

    plan = pick(PLANS)
    plan[rng.random(rows) < 0.02] = None
    return {
        "user_id": ids,
        "age": rng.integers(18, 91, rows),
        "visits": rng.integers(0, 1000, rows),
        "income": with_nulls(rng.lognormal(10, 1, rows).clip(0, 1e6), 0.05),
        **{f"x{k}": rng.standard_normal(rows) for k in range(6)},
        "score": with_nulls(rng.random(rows), 0.01),
        "email": np.array(
            [f"user{i:07d}.{i * 7919 % 100_003}@example{i % 97}.com" for i in ids.tolist()],
            dtype=object,
        ),
        "session": np.array(
            [f"{i * 2_654_435_761 % (1 << 40):010x}-{i:07d}" for i in ids.tolist()], dtype=object
        ),
        "country": pick(COUNTRIES),
        "plan": plan,
        "status": pick(STATUSES),
        "name": pick(NAMES),
        "ref_code": np.array(
            [f"R{i:08d}" for i in rng.integers(0, 10**8, rows).tolist()], dtype=object
        ),
        "weight": rng.normal(70, 10, rows),
        "height": rng.normal(170, 10, rows),
    }


def broken_validation_columns() -> dict[str, Any]:
    """A small table on which every one of the 20 checks must fail."""
    columns = {name: values.copy() for name, values in validation_columns(BROKEN_ROWS).items()}
    columns["user_id"] = columns["user_id"].astype("float64")  # room for a null
    for kind, column, args in CHECKS:
        if column is None:
            continue  # row_count: BROKEN_ROWS is below its minimum
        values = columns[column]
        if kind == "not_null":
            values[0] = None
        elif kind == "between":
            values[0] = args["max"] * 10
        elif kind == "in_set":
            values[1] = "zz"
        elif kind == "unique":
            values[2] = values[3]
        else:
            values[4] = "not an address"
    return columns


def validation_frame(columns: Mapping[str, Any], kind: str) -> Any:
    """A DataFrame of ``columns``: strings as pandas' default ``str`` dtype (Arrow-backed)
    for ``arrow_str``, or as numpy ``object`` arrays for ``object_str``.
    """
    import pandas as pd

    if kind == "arrow_str":
        return pd.DataFrame({name: pd.Series(values) for name, values in columns.items()})
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object if name in STRING_COLUMNS else None)
            for name, values in columns.items()
        }
    )


def mloop_suite() -> Any:
    from mloop.data import Expectation, ExpectationSuite

    return ExpectationSuite(
        "bench", [Expectation(kind, column=column, **args) for kind, column, args in CHECKS]
    )


def _gx_expectation(gx: Any, kind: str, column: str | None, args: Mapping[str, Any]) -> Any:
    ex = gx.expectations
    if kind == "row_count":
        return ex.ExpectTableRowCountToBeBetween(min_value=args["min"], max_value=args["max"])
    if kind == "not_null":
        return ex.ExpectColumnValuesToNotBeNull(column=column)
    if kind == "between":
        return ex.ExpectColumnValuesToBeBetween(
            column=column, min_value=args["min"], max_value=args["max"]
        )
    if kind == "in_set":
        return ex.ExpectColumnValuesToBeInSet(column=column, value_set=args["values"])
    if kind == "unique":
        return ex.ExpectColumnValuesToBeUnique(column=column)
    return ex.ExpectColumnValuesToMatchRegex(column=column, regex=args["pattern"])


def gx_validation(gx: Any) -> Any:
    """Great Expectations 1.x: an ephemeral context with the suite and a validation definition."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # No progress bars: they would be drawn inside the timing, to a pipe nobody reads.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset("table")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    for kind, column, args in CHECKS:
        suite.add_expectation(_gx_expectation(gx, kind, column, args))
    definition = gx.ValidationDefinition(data=batch_definition, suite=suite, name="bench")
    return context.validation_definitions.add(definition)


def hand_validate(frame: Any) -> list[tuple[str, bool, int]]:
    """The 20 checks written by hand with vectorised pandas: (label, success, unexpected count).

    Nulls are left to not_null, as on the other sides; ``unique`` counts the
    non-null values that repeat an earlier one.
    """
    results = []
    for kind, column, args in CHECKS:
        if column is None:
            ok = args["min"] <= len(frame) <= args["max"]
            results.append((f"{kind}()", ok, 0))  # a count of the table: no row is unexpected
            continue
        values = frame[column]
        if kind == "not_null":
            bad = int(values.isna().sum())
        elif kind == "between":
            bad = int(((values < args["min"]) | (values > args["max"])).sum())
        elif kind == "in_set":
            bad = int((~values.isin(args["values"]) & values.notna()).sum())
        elif kind == "unique":
            bad = int(values.count() - values.nunique())
        else:
            matches = values.str.contains(args["pattern"], regex=True, na=True)
            bad = int((~matches.astype(bool)).sum())
        results.append((f"{kind}({column})", bad == 0, bad))
    return results


def _gx_pandas_is(pandas: Any) -> bool:
    """Whether GX's pandas execution engine works with this very pandas module."""
    from great_expectations.execution_engine import pandas_execution_engine

    return getattr(pandas_execution_engine, "pd", None) is pandas


def _validators(sides: Sequence[str]) -> tuple[dict[str, Callable[[Any], Any]], dict[str, Any]]:
    """Per side, a function of a DataFrame that validates it, and facts about the side."""
    import pandas as pd

    runners: dict[str, Callable[[Any], Any]] = {}
    facts: dict[str, Any] = {}
    if "mloop" in sides:
        seconds, _ = _timed(lambda: importlib.import_module("mloop.data.validation"))
        import mloop

        suite = mloop_suite()
        runners["mloop"] = lambda frame: mloop.data.validate(frame, suite)
        facts["mloop"] = {"version": mloop.__version__, "import_seconds": seconds}
    if "gx" in sides:
        seconds, gx = _timed(lambda: importlib.import_module("great_expectations"))
        setup_seconds, validation = _timed(lambda: gx_validation(gx))
        runners["gx"] = lambda frame: validation.run(batch_parameters={"dataframe": frame})
        facts["gx"] = {
            "version": gx.__version__,
            "import_seconds": seconds,  # pandas is loaded already
            "setup_seconds": setup_seconds,
            "same_pandas": _gx_pandas_is(pd),
        }
    if "pandas" in sides:
        runners["pandas"] = hand_validate
        facts["pandas"] = {"version": pd.__version__}
    return runners, facts


def _outcomes(side: str, result: Any) -> list[tuple[bool, int | None]]:
    """(success, unexpected count) of each of the 20 checks, in order, whatever the side."""
    if side == "mloop":
        return [(r.success, r.unexpected_count) for r in result.results]
    if side == "gx":
        return [(r.success, r.result.get("unexpected_count")) for r in result.results]
    return [(ok, bad) for _, ok, bad in result]


def _interleaved(
    runners: Mapping[str, Callable[[Any], Any]], frames: Mapping[str, Any], rounds: int
) -> tuple[
    dict[str, dict[str, list[float]]], dict[str, dict[str, list[float]]], dict[str, dict[str, Any]]
]:
    """``rounds`` rounds; in each, every side validates every frame in turn.

    An untimed first round warms every side up. The order of the sides turns
    by one each round, and garbage is collected before each timing. Returns
    the wall times, the CPU times (of every thread of the process: a figure
    that other work on the machine disturbs less) and the last result, per
    side and frame kind.
    """
    timings: dict[str, dict[str, list[float]]] = {s: {} for s in runners}
    cpu: dict[str, dict[str, list[float]]] = {s: {} for s in runners}
    last: dict[str, dict[str, Any]] = {s: {} for s in runners}
    sides = list(runners)
    for round_ in range(rounds + 1):
        # Each round starts with the next side, so no side always follows the same one.
        order = sides[round_ % len(sides) :] + sides[: round_ % len(sides)]
        for kind, frame in frames.items():
            for side in order:
                if side == "mloop_arrow_table" and kind != "arrow_str":
                    continue  # one Arrow table, whatever the DataFrame's string dtype
                run = runners[side]
                gc.collect()  # the garbage of the side before is not collected inside a timing
                cpu_start = time.process_time()
                seconds, last[side][kind] = _timed(lambda run=run, frame=frame: run(frame))
                if round_:
                    timings[side].setdefault(kind, []).append(seconds)
                    cpu[side].setdefault(kind, []).append(time.process_time() - cpu_start)
    return timings, cpu, last


def case_validate(ctx: Context) -> dict[str, Any]:
    """Case 4: the 20 checks over the hard table, every side in one process, interleaved.

    Every side gets the same DataFrames (strings Arrow-backed, then as numpy
    objects), built before the timing; mloop also gets the Arrow table.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    sides = [s for s in os.environ.get("BENCH_VALIDATE_SIDES", "").split(",") if s]
    sizes = ctx.sizes
    columns = validation_columns(sizes.rows)
    frames = {kind: validation_frame(columns, kind) for kind in FRAME_KINDS}
    runners, facts = _validators(sides or VALIDATE_SIDES)
    problems = []
    if "gx" in facts and not facts["gx"]["same_pandas"]:
        problems.append("GX's pandas execution engine does not use the pandas module measured")
    if "mloop" in runners:
        table = pa.Table.from_pandas(frames["arrow_str"], preserve_index=False)
        runners = {**runners, "mloop_arrow_table": lambda _: runners["mloop"](table)}
    load_before = os.getloadavg()
    timings, cpu, last = _interleaved(runners, frames, sizes.rounds)
    out: dict[str, Any] = {
        "versions": {
            "pandas": pd.__version__,
            "pyarrow": pa.__version__,
            "numpy": np.__version__,
            **{side: fact["version"] for side, fact in facts.items() if side != "pandas"},
        },
        "dtypes": {k: sorted({str(d) for d in f.dtypes}) for k, f in frames.items()},
        # The machine's load (1, 5 and 15 minutes) around the timings: above the number
        # of cores, other work was competing for them.
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "sides": {},
    }
    broken = broken_validation_columns()
    for side, per_kind in timings.items():
        name = "mloop" if side == "mloop_arrow_table" else side
        summary: dict[str, Any] = {**facts.get(side, {}), "kinds": {}}
        for kind, values in per_kind.items():
            outcomes = _outcomes(name, last[side][kind])
            failed = [CHECKS[i][:2] for i, (ok, _) in enumerate(outcomes) if not ok]
            if failed:
                problems.append(f"{side} on {kind}: failed checks {failed}")
            summary["kinds"][kind] = {
                "median_seconds": statistics.median(values),
                "all_seconds": values,
                "median_cpu_seconds": statistics.median(cpu[side][kind]),
                "checks": len(outcomes),
            }
        if side in facts:
            frame = validation_frame(broken, "arrow_str")
            outcomes = _outcomes(side, runners[side](frame))
            summary["broken_failed"] = sum(1 for ok, _ in outcomes if not ok)
            summary["broken_counts"] = [count for _, count in outcomes]
            if summary["broken_failed"] != len(CHECKS):
                problems.append(
                    f"{side}: on a table built to fail every check,"
                    f" {summary['broken_failed']} of {len(CHECKS)} checks failed"
                )
        out["sides"][side] = summary
    mloop_counts = out["sides"].get("mloop", {}).get("broken_counts")
    hand_counts = out["sides"].get("pandas", {}).get("broken_counts")
    if mloop_counts and hand_counts and mloop_counts != hand_counts:
        problems.append(f"unexpected counts differ: mloop {mloop_counts}, by hand {hand_counts}")
    out["problems"] = problems
    return out


# --------------------------------------------------------------------------- profile


def case_profile(ctx: Context) -> dict[str, Any]:
    """Case 5: profile the big table (rows, schema and statistics of every column)."""
    from mloop.data.profile import profile_table

    table = as_arrow(table_columns(ctx.sizes))
    timings, profile = _median_runs(ctx.sizes.repeats, lambda: profile_table(table))
    problems = []
    if profile.get("rows") != ctx.sizes.rows:
        problems.append(f"profile counted {profile.get('rows')} rows")
    expected = ctx.sizes.float_columns + ctx.sizes.string_columns
    if len(profile.get("columns", [])) != expected:
        problems.append(f"profile has {len(profile.get('columns', []))} columns")
    return {
        "median_seconds": statistics.median(timings),
        "first_seconds": timings[0],
        "all_seconds": timings,
        "problems": problems,
    }


CASES: Final[Mapping[str, Callable[[Context], dict[str, Any]]]] = {
    "add_file": case_add_file,
    "add_folder": case_add_folder,
    "validate": case_validate,
    "profile": case_profile,
}
CASE_PEERS: Final[Mapping[str, tuple[str, ...]]] = {
    "add_file": ("dvc",),
    "add_folder": ("dvc",),
    "validate": ("gx", "pandas"),
    "profile": (),
}


# --------------------------------------------------------------------------- worker


def _import(lib: str) -> tuple[float, str]:
    """Import what ``lib``'s side of a case needs; (seconds, version)."""
    if lib == "dvc":  # run as a command: nothing to import
        return 0.0, "unknown"
    start = time.perf_counter()
    if lib == "mloop":
        module = importlib.import_module("mloop")
        importlib.import_module("mloop.data.validation")  # pyarrow and numpy
    elif lib == "gx":
        module = importlib.import_module("great_expectations")
    else:
        module = importlib.import_module("pandas")
    return time.perf_counter() - start, getattr(module, "__version__", "unknown")


def run_worker(lib: str, case: str, workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Import ``lib`` and run one case; called in a child process.

    The validate case runs every side in one process and times the imports itself.
    """
    if case == "validate":
        return {**case_validate(Context(lib, workdir, sizes)), "peak_rss_mb": peak_rss_mb()}
    import_seconds, version = _import(lib)
    result = CASES[case](Context(lib=lib, workdir=workdir, sizes=sizes))
    result["import_seconds"] = import_seconds
    result.setdefault("version", version)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def _environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    # Bytecode caches as a user has them (pip writes them for every installed package,
    # the peers' included): without them each command would compile its sources anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["MLOOP_HOME"] = str(workdir / "home")
    # No network calls from any library while it is being timed.
    env["DO_NOT_TRACK"] = "true"
    env["DVC_NO_ANALYTICS"] = "1"
    env["GX_ANALYTICS_ENABLED"] = "false"
    return env


def spawn_worker(
    lib: str, case: str, sizes: Sizes, timeout: float, sides: Sequence[str] = ()
) -> dict[str, Any]:
    """Run one case of one library (or, for validate, of ``sides``) in a child process."""

    def environment(workdir: Path) -> dict[str, str]:
        return {**_environment(workdir), "BENCH_VALIDATE_SIDES": ",".join(sides)}

    return harness.spawn_worker(
        __file__, lib, case, dataclasses.asdict(sizes), timeout, environment, "bench-data"
    )


def run_validate_case(
    sides: Sequence[str], sizes: Sizes, timeout: float
) -> dict[str, dict[str, Any]]:
    """The validate case: one worker runs every side, interleaved; a result per side."""
    print(f"[{'all':>6}] validate   {', '.join(sides)} ...", end="", flush=True, file=sys.stderr)
    result = spawn_worker("mloop", "validate", sizes, timeout, sides)
    outcome = "FAILED" if "error" in result else f"{result['worker_wall_seconds']:.1f} s"
    print(f" {outcome}", file=sys.stderr)
    if "error" in result:
        return {"mloop": result}
    per_side = {
        side: {**result["sides"][side], "problems": []} for side in sides if side != "mloop"
    }
    return {"mloop": result, **per_side}


def combine_repeats(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One result from several workers of the same add case: the median of each timing."""
    failed = [run for run in runs if "error" in run]
    if failed:
        return failed[0]
    combined = dict(runs[0])
    for key in ADD_TIMINGS:
        values = [run[key] for run in runs if run.get(key) is not None]
        combined[key] = statistics.median(values) if values else None
        combined[f"all_{key}"] = values
    combined["problems"] = [problem for run in runs for problem in run.get("problems", [])]
    combined["worker_wall_seconds"] = sum(run["worker_wall_seconds"] for run in runs)
    combined["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return combined


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
    reference: float | None = None

    def ratio(self) -> tuple[float | None, bool]:
        """time(peer) / time(mloop), and whether it came from the reference figure."""
        other, from_reference = self.peer, False
        if other is None and self.reference is not None:
            other, from_reference = self.reference, True
        if self.mloop is None or other is None or self.mloop <= 0 or other <= 0:
            return None, from_reference
        return other / self.mloop, from_reference

    def goal_text(self) -> str:
        if self.goal_ratio is not None:
            text = f">= {self.goal_ratio:g}x"
            return text + " (no slower)" if self.goal_ratio == 1 else text
        if self.goal_max is not None:
            return f"mloop < {self.goal_max:g} s"
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


def _size_text(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"


def build_rows(results: Mapping[str, Mapping[str, Any]], sizes: Sizes) -> list[Row]:
    """Turn the workers' results into table rows.

    The reference figures (DVC 3.x and Great Expectations 1.x on this machine type)
    are used only at the full sizes, where they were measured.
    """
    file_ref = sizes.file_mib == FULL_SIZES.file_mib
    folder_ref = (sizes.folder_files, sizes.folder_file_kib) == (
        FULL_SIZES.folder_files,
        FULL_SIZES.folder_file_kib,
    )

    def get(lib: str, case: str, *path: str) -> Any:
        return _get(results, lib, case, *path)

    file_text = _size_text(sizes.file_mib)
    folder_text = f"{sizes.folder_files:,} files of {sizes.folder_file_kib} KiB"
    rows: list[Row] = []
    for case, what, first_goal, first_ref, ref_ok in (
        ("add_file", f"a {file_text} file", 4, 7.3, file_ref),
        ("add_folder", f"a folder of {folder_text}", 3, 4.9, folder_ref),
    ):
        first = get("mloop", case, "first_seconds")
        second = get("mloop", case, "second_seconds")
        dvc_second = get("dvc", case, "second_seconds")
        rows += [
            Row(
                case,
                f"version {what}",
                first,
                "dvc add",
                get("dvc", case, "first_seconds"),
                goal_ratio=first_goal,
                reference=first_ref if ref_ok else None,
            ),
            Row(
                case,
                "  re-add it unchanged",
                second,
                "dvc add, again",
                dvc_second,
                goal_ratio=5,
                reference=1.5 if ref_ok and case == "add_file" else None,
            ),
            Row(
                case,
                "  re-add it unchanged",
                second,
                "mloop's first add",
                first,
                goal_ratio=20,
            ),
            Row(
                case,
                "  as commands: `mloop data add` (new process)",
                get("mloop", case, "cli_first_seconds"),
                "dvc add",
                get("dvc", case, "first_seconds"),
                goal_ratio=first_goal,
            ),
            Row(
                case,
                "  as commands: `mloop data add` again",
                get("mloop", case, "cli_second_seconds"),
                "dvc add, again",
                dvc_second,
                goal_ratio=5,
            ),
        ]
    table_text = f"{sizes.rows:,} rows x {sizes.float_columns + sizes.string_columns} columns"

    def median(side: str, kind: str) -> Any:
        return get("mloop", "validate", "sides", side, "kinds", kind, "median_seconds")

    for kind, what in (("arrow_str", "Arrow-backed str"), ("object_str", "object strings")):
        rows += [
            Row(
                "validate",
                f"validate {sizes.rows:,} rows x 20 columns, 20 checks, {what}",
                median("mloop", kind),
                "Great Expectations",
                median("gx", kind),
                goal_ratio=4,
            ),
            Row(
                "validate",
                "  the same",
                median("mloop", kind),
                "pandas by hand",
                median("pandas", kind),
                goal_ratio=1,
            ),
        ]
    rows += [
        Row(
            "validate",
            "  mloop given the Arrow table",
            median("mloop_arrow_table", "arrow_str"),
            "pandas by hand (str)",
            median("pandas", "arrow_str"),
        ),
        Row(
            "validate",
            "  import (pandas and pyarrow already loaded)",
            get("mloop", "validate", "sides", "mloop", "import_seconds"),
            "Great Expectations",
            get("mloop", "validate", "sides", "gx", "import_seconds"),
        ),
        Row(
            "profile",
            f"profile_table, {table_text}",
            get("mloop", "profile", "median_seconds"),
            "",
            None,
            goal_max=2,
        ),
    ]
    return rows


def check_notes(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Failed workers and failed sanity checks; empty when all is well."""
    return worker_notes(results)


def validate_facts(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The validate case's versions, time ratios and spread, as lines for the report."""
    found = _get(results, "mloop", "validate", "sides")
    if not found:
        return []
    versions = _get(results, "mloop", "validate", "versions") or {}
    same = _get(results, "mloop", "validate", "sides", "gx", "same_pandas")
    lines = [
        "Versions: "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + ("; GX's pandas engine uses that same pandas" if same else "")
    ]
    for kind in FRAME_KINDS:
        medians = {
            side: summary["kinds"][kind]["median_seconds"]
            for side, summary in found.items()
            if kind in summary["kinds"]
        }
        spread = ", ".join(
            f"{side} {min(v):.3f}-{max(v):.3f} s"
            for side, summary in found.items()
            if kind in summary["kinds"]
            for v in [summary["kinds"][kind]["all_seconds"]]
        )
        ratios = [
            f"mloop/{peer} = {medians['mloop'] / medians[peer]:.2f}"
            for peer in ("gx", "pandas")
            if "mloop" in medians and peer in medians and medians[peer] > 0
        ]
        cpu = ", ".join(
            f"{side} {summary['kinds'][kind]['median_cpu_seconds']:.3f} s"
            for side, summary in found.items()
            if kind in summary["kinds"]
        )
        lines.append(f"{kind}: time {'; '.join(ratios) or '-'} (rounds: {spread}; CPU: {cpu})")
    load = _get(results, "mloop", "validate", "load_average") or {}
    if load:
        before, after = load["before"][0], load["after"][0]
        lines.append(f"Load average (1 min) before and after: {before:.1f}, {after:.1f}")
    return lines


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
    validate_lines: Sequence[str] = (),
) -> None:
    """Print the table (Rich if installed, plain text otherwise) and the notes."""
    lines = harness.result_lines(rows, _ratio_text)
    adds_text = (
        f"the median of {sizes.add_repeats} workers per side, each with"
        if sizes.add_repeats > 1
        else "one worker per side, with"
    )
    footer = [
        f"Sizes: one file of {_size_text(sizes.file_mib)}; {sizes.folder_files:,} files of"
        f" {sizes.folder_file_kib} KiB.",
        f"Adds: {adds_text} fresh data and a fresh store"
        " (mloop.data.add in an imported library; dvc add as a command, in a git + dvc"
        " repository). Data written and synced to disk before each timing.",
        f"Validation: a table of {sizes.rows:,} rows x 20 columns (3 ints, 8 floats, 2 of them"
        " with nulls, 4 low-cardinality strings, one with nulls, and 3 strings of"
        f" {sizes.rows:,} distinct values); checks: row_count, 5 not_null, 6 between,"
        " 4 in_set, 3 unique (an int and two distinct-string columns) and a regex on e-mail"
        " addresses. Every side validates the same DataFrame (built before the timing), in"
        f" one process, interleaved: {sizes.rounds} rounds after an untimed one, medians.",
        *validate_lines,
        f"Profile: median of {sizes.repeats} calls over {sizes.rows:,} rows"
        f" ({sizes.float_columns} normal floats, {sizes.string_columns} strings from a/b/c/d).",
        "Ratios: time(peer) / time(mloop), so higher is better for mloop.",
    ]
    if list(libs) == ["mloop"]:
        footer.append("(ref): against the peers' reference figures for this machine type.")
    footer += [f"NOTE: {note}" for note in notes]
    footer.append(f"Total wall time: {total_seconds:.1f} s")
    harness.print_table(
        "mloop vs DVC and Great Expectations: data versioning and validation", lines, footer
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark mloop's data versioning and validation against DVC and GX.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument(
        "--only", choices=("mloop", "peer"), help="run mloop only, or the peers only"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all results as JSON")
    parser.add_argument(
        "--case",
        action="append",
        choices=list(CASES),
        help="run only this case (repeatable; default: all)",
    )
    parser.add_argument("--file-mib", type=int, help="size of the file for add_file, in MiB")
    parser.add_argument("--files", type=int, help="number of files for add_folder")
    parser.add_argument("--rows", type=int, help="rows of the table for validate and profile")
    parser.add_argument(
        "--add-repeats", type=int, help="workers per add case, each with a fresh store (median)"
    )
    harness.add_worker_arguments(parser, LIBRARIES)
    return parser.parse_args(argv)


def sizes_from_args(args: argparse.Namespace) -> Sizes:
    if args.sizes:
        return Sizes(**json.loads(args.sizes))
    overrides = {
        "file_mib": args.file_mib,
        "folder_files": args.files,
        "rows": args.rows,
        "add_repeats": args.add_repeats,
    }
    base = QUICK_SIZES if args.quick else FULL_SIZES
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def run_add_case(
    case: str, sides: Sequence[str], sizes: Sizes, timeout: float
) -> dict[str, dict[str, Any]]:
    """An add case: ``add_repeats`` rounds, each a fresh worker (and store) per side in turn.

    The sides interleave (mloop, DVC, mloop, DVC, ...), so a disk that slows down for a
    while slows both alike; each figure is the median over the rounds.
    """
    runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in sides}
    for round_ in range(sizes.add_repeats):
        for lib in sides:
            if runs[lib] and "error" in runs[lib][-1]:
                continue
            print(f"[{lib:>6}] {case:<10} {round_ + 1} ...", end="", flush=True, file=sys.stderr)
            result = spawn_worker(lib, case, sizes, timeout)
            runs[lib].append(result)
            outcome = "FAILED" if "error" in result else f"{result['worker_wall_seconds']:.1f} s"
            print(f" {outcome}", file=sys.stderr)
    return {lib: combine_repeats(found) for lib, found in runs.items()}


def select_libraries(only: str | None, cases: Sequence[str]) -> list[str] | None:
    """The libraries to run, or None (after explaining why) if one is missing."""
    peers = [lib for lib in LIBRARIES[1:] if any(lib in CASE_PEERS[c] for c in cases)]
    libs = ["mloop"] if only == "mloop" else peers if only == "peer" else ["mloop", *peers]
    missing = []
    if "mloop" in libs and importlib.util.find_spec("mloop") is None:
        missing.append("mloop (pip install -e . from the repository root)")
    if "dvc" in libs and _executable("dvc") is None:
        missing.append("dvc")
    if "gx" in libs and importlib.util.find_spec("great_expectations") is None:
        missing.append("great-expectations")
    if "pandas" in libs and importlib.util.find_spec("pandas") is None:
        missing.append("pandas")
    if missing:
        print(
            f"Not installed for {sys.executable}: {', '.join(missing)}.\n"
            f"Install the benchmark's dependencies with `{REQUIREMENTS_HINT}`,\n"
            "or run `python bench/data.py --only mloop` to skip the peers.",
            file=sys.stderr,
        )
        return None
    return libs


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sizes_from_args(args)
    if args.worker:
        return harness.run_as_worker(args, run_worker, sizes)

    cases = args.case or list(CASES)
    libs = select_libraries(args.only, cases)
    if libs is None:
        return 2
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {lib: {} for lib in libs}
    for case in cases:
        sides = [lib for lib in ("mloop", *CASE_PEERS[case]) if lib in libs]
        if case in ADD_CASES:
            for lib, result in run_add_case(case, sides, sizes, args.timeout).items():
                results[lib][case] = result
            continue
        if case == "validate":
            # The floor needs only pandas, which every side's DataFrame needs anyway.
            sides = [s for s in VALIDATE_SIDES if s in sides or s == "pandas"]
            for lib, result in run_validate_case(sides, sizes, args.timeout).items():
                results.setdefault(lib, {})[case] = result
            continue
        for lib in sides:
            print(f"[{lib:>6}] {case:<10} ...", end="", flush=True, file=sys.stderr)
            result = spawn_worker(lib, case, sizes, args.timeout)
            results[lib][case] = result
            outcome = "FAILED" if "error" in result else f"{result['worker_wall_seconds']:.1f} s"
            print(f" {outcome}", file=sys.stderr)
    total_seconds = time.perf_counter() - started

    rows = [row for row in build_rows(results, sizes) if row.case in cases]
    notes = check_notes(results)
    print_report(rows, sizes, notes, libs, total_seconds, validate_facts(results))

    if args.json:
        meta = {
            "quick": args.quick,
            "sizes": dataclasses.asdict(sizes),
            "checks": [[kind, column, dict(a)] for kind, column, a in CHECKS],
            "total_seconds": total_seconds,
        }
        harness.write_results(args.json, results, rows, notes, meta)
    return 1 if any("error" in r for cases_ in results.values() for r in cases_.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
