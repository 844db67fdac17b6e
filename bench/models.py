"""Side-by-side benchmark of mloop's model packages against MLflow's, for a scikit-learn model.

Usage (from the repository root, in an environment that has both libraries)::

    python bench/models.py                      # full run, both libraries
    python bench/models.py --quick              # small sizes: a smoke test, under a minute
    python bench/models.py --only mloop         # skip MLflow (e.g. when it is not installed)
    python bench/models.py --json results.json  # also write every figure as JSON
    python bench/models.py --profile            # also profile the cached load and predict

Setting up the environment::

    python3 -m venv .bench-venv
    .bench-venv/bin/pip install -r bench/requirements.txt -e .
    .bench-venv/bin/python bench/models.py

Each library runs in its own child process (this same script, started with
``--worker``), in a fresh temporary directory with its own SQLite database and local
artifacts, so the two never share import state or caches. Both train the same
LogisticRegression on the same seeded 10-column DataFrame (float and int columns), then:

1. ``log_model`` with an input example, each time into a new run (median of 5): mloop's
   ``mloop.models.log_model`` (then ``mloop.flush()``, inside the timing), MLflow's
   ``mlflow.sklearn.log_model``. For information.
2. ``load``, the first load of each logged model (cold; median of 5): mloop's
   ``mloop.models.load``, MLflow's ``mlflow.pyfunc.load_model``. For information.
3. ``load`` of a model already loaded in the process (median of many): mloop serves it
   from its per-digest cache; MLflow has no cache, so its repeated load is its load.
   Both for the URI ``log_model`` returned and for ``models:/NAME/1`` after registering
   it (untimed). Goal: mloop under 1 ms.
4. 1-row ``predict`` on a DataFrame: 2,000 calls through the loaded wrapper (signature
   enforcement included) and, in the same process, 2,000 calls of the raw estimator
   inside it, interleaved, every call on a DataFrame of its own built before the timing
   (rows rotate through 100 distinct rows). Overhead = median(wrapper) - median(raw).
   Goals: mloop's overhead under 50 us per call and at least 20x less than MLflow's.
5. The same with 1,000-row DataFrames (200 calls each). For information.

Ratios are "how many times better mloop does": time(MLflow) / time(mloop). With
``--only mloop``, the overhead ratio is taken against the figure the issue quotes for
MLflow 3.17 on this machine type (1.2 ms: pyfunc 2.2 ms, raw 1.0 ms), marked "(ref)".
Predictions of both wrappers and raw estimators are checked against the trained model's
outside the timing; a mismatch prints a NOTE.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import hashlib
import importlib
import importlib.util
import io
import json
import os
import pstats
import statistics
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import harness
from harness import peak_rss_mb, settle, worker_notes

LIBRARIES: Final = ("mloop", "mlflow")
CASE: Final = "sklearn"
EXPERIMENT: Final = "bench"
REGISTERED_NAME: Final = "bench-model"
# What each side imports to log, load and predict (the import time row).
IMPORTS: Final = {"mloop": ("mloop.models",), "mlflow": ("mlflow.pyfunc", "mlflow.sklearn")}
SEED: Final = 20_240_601
REQUIREMENTS_HINT: Final = "pip install -r bench/requirements.txt -e ."
# The figures for MLflow 3.17 on this machine type: pyfunc 2.2 ms, raw 1.0 ms per row.
MLFLOW_REFERENCE_OVERHEAD: Final = 1.2e-3


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much work the worker does (``profile_top``: hot spots to record, 0 for none)."""

    rows: int = 5_000
    columns: int = 10
    log_repeats: int = 5
    cached_loads: int = 1_000
    mlflow_loads: int = 30
    predict_calls: int = 2_000
    distinct_rows: int = 100
    warmup_calls: int = 200
    batch_rows: int = 1_000
    batch_calls: int = 200
    profile_top: int = 0


FULL_SIZES: Final = Sizes()
QUICK_SIZES: Final = Sizes(
    log_repeats=2,
    cached_loads=100,
    mlflow_loads=3,
    predict_calls=300,
    warmup_calls=50,
    batch_calls=5,
)


# --------------------------------------------------------------------------- the two sides


class MloopSide:
    """mloop's model API: ``log_model``, ``load`` (cached per digest), ``LoadedModel``."""

    def __init__(self, workdir: Path) -> None:
        import mloop

        self.lib = mloop
        mloop.set_tracking_uri(f"sqlite:///{workdir / 'mloop.db'}")
        mloop.set_experiment(EXPERIMENT)

    def log(self, model: Any, example: Any) -> tuple[float, str]:
        """Log ``model`` into a new run; (seconds, the URI ``log_model`` returned)."""
        with self.lib.start_run():
            settle()
            start = time.perf_counter()
            info = self.lib.models.log_model(model, "model", input_example=example)
            self.lib.flush()
            seconds = time.perf_counter() - start
        return seconds, info.model_uri

    def load(self, uri: str) -> Any:
        return self.lib.models.load(uri)

    def raw(self, loaded: Any) -> Any:
        return loaded.model

    def register(self, uri: str) -> str:
        return str(self.lib.models.register(uri, REGISTERED_NAME).uri)


class MlflowSide:
    """MLflow's: ``mlflow.sklearn.log_model``, ``mlflow.pyfunc.load_model``, ``PyFuncModel``."""

    def __init__(self, workdir: Path) -> None:
        import mlflow
        import mlflow.pyfunc
        import mlflow.sklearn

        self.lib = mlflow
        mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
        mlflow.create_experiment(EXPERIMENT, artifact_location=(workdir / "mlartifacts").as_uri())
        mlflow.set_experiment(EXPERIMENT)

    def log(self, model: Any, example: Any) -> tuple[float, str]:
        """Log ``model`` into a new run; (seconds, the URI ``log_model`` returned)."""
        with self.lib.start_run():
            settle()
            start = time.perf_counter()
            info = self.lib.sklearn.log_model(model, name="model", input_example=example)
            seconds = time.perf_counter() - start
        return seconds, str(info.model_uri)

    def load(self, uri: str) -> Any:
        return self.lib.pyfunc.load_model(uri)

    def raw(self, loaded: Any) -> Any:
        return loaded.get_raw_model()

    def register(self, uri: str) -> str:
        version = self.lib.register_model(uri, REGISTERED_NAME)
        return f"models:/{REGISTERED_NAME}/{version.version}"


# --------------------------------------------------------------------------- data and timing


def make_data(sizes: Sizes) -> tuple[Any, Any]:
    """A seeded table (float64 and int64 columns, alternating) and a binary target."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    columns = {}
    for j in range(sizes.columns):
        if j % 2 == 0:
            columns[f"x{j}"] = rng.normal(0.0, 1.0, sizes.rows)
        else:
            columns[f"n{j}"] = rng.integers(0, 100, sizes.rows)
    frame = pd.DataFrame(columns)
    scaled = ((frame - frame.mean()) / frame.std()).to_numpy()
    target = (scaled @ rng.normal(size=sizes.columns) + rng.normal(0.0, 0.5, sizes.rows)) > 0
    return frame, target.astype(np.int64)


def one_row_frames(frame: Any, count: int, distinct: int) -> list[Any]:
    """``count`` new 1-row DataFrames (rows rotate through the first ``distinct``), dtypes kept."""
    import pandas as pd

    columns = {name: frame[name].to_numpy() for name in frame.columns}
    return [
        pd.DataFrame(
            {name: values[i % distinct : i % distinct + 1] for name, values in columns.items()}
        )
        for i in range(count)
    ]


def batch_frames(frame: Any, count: int, rows: int) -> list[Any]:
    """``count`` new copies of the first ``rows`` rows."""
    return [frame.iloc[:rows].copy() for _ in range(count)]


def _timed_calls(function: Callable[[], Any], count: int) -> list[int]:
    """Nanoseconds of ``count`` calls, with the garbage collector off."""
    clock = time.perf_counter_ns
    samples = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            start = clock()
            function()
            samples.append(clock() - start)
    finally:
        gc.enable()
    return samples


def _paired_calls(
    raw: Callable[[Any], Any],
    wrapped: Callable[[Any], Any],
    raw_inputs: Sequence[Any],
    wrapped_inputs: Sequence[Any],
) -> tuple[list[int], list[int]]:
    """Nanoseconds of interleaved raw and wrapped calls, each on its own input, gc off.

    The two go first in turn, so neither always finds the caches warmed by the other.
    """
    clock = time.perf_counter_ns
    raw_ns, wrapped_ns = [], []
    gc.collect()
    gc.disable()
    try:
        for i, (a, b) in enumerate(zip(raw_inputs, wrapped_inputs, strict=True)):
            if i % 2:
                t0 = clock()
                raw(a)
                t1 = clock()
                wrapped(b)
                t2 = clock()
                raw_ns.append(t1 - t0)
                wrapped_ns.append(t2 - t1)
            else:
                t0 = clock()
                wrapped(b)
                t1 = clock()
                raw(a)
                t2 = clock()
                wrapped_ns.append(t1 - t0)
                raw_ns.append(t2 - t1)
    finally:
        gc.enable()
    return raw_ns, wrapped_ns


def _summary(samples_ns: Sequence[int]) -> dict[str, Any]:
    """Median, 10th and 90th percentiles and mean of nanosecond samples, in seconds."""
    ordered = sorted(samples_ns)
    n = len(ordered)
    return {
        "median": statistics.median(ordered) / 1e9,
        "p10": ordered[n // 10] / 1e9,
        "p90": ordered[min(n - 1, n * 9 // 10)] / 1e9,
        "mean": statistics.fmean(ordered) / 1e9,
        "calls": n,
    }


def _predict_figures(
    raw: Any, loaded: Any, raw_inputs: Sequence[Any], wrapped_inputs: Sequence[Any]
) -> dict[str, Any]:
    raw_ns, wrapped_ns = _paired_calls(raw.predict, loaded.predict, raw_inputs, wrapped_inputs)
    raw_stats, wrapped_stats = _summary(raw_ns), _summary(wrapped_ns)
    return {
        "raw": raw_stats,
        "wrapper": wrapped_stats,
        "overhead": wrapped_stats["median"] - raw_stats["median"],
        "overhead_paired": statistics.median(
            [w - r for r, w in zip(raw_ns, wrapped_ns, strict=True)]
        )
        / 1e9,
    }


def _same(predicted: Any, expected: Any) -> bool:
    import numpy as np

    return bool(np.array_equal(np.asarray(predicted).ravel(), np.asarray(expected).ravel()))


def _check_predictions(
    model: Any, raw: Any, loaded: Any, frame: Any, sizes: Sizes, who: str
) -> list[str]:
    """Wrapper and raw estimator against the trained model, row by row and in a batch."""
    problems = []
    rows = one_row_frames(frame, sizes.distinct_rows, sizes.distinct_rows)
    expected = model.predict(frame.iloc[: sizes.distinct_rows])
    for label, predict in (("wrapper", loaded.predict), ("raw estimator", raw.predict)):
        wrong = sum(not _same(predict(row), expected[i : i + 1]) for i, row in enumerate(rows))
        if wrong:
            problems.append(f"{who} {label}: {wrong} of {len(rows)} 1-row predictions differ")
        batch = frame.iloc[: sizes.batch_rows].copy()
        if not _same(predict(batch), model.predict(batch)):
            problems.append(f"{who} {label}: the {sizes.batch_rows:,}-row prediction differs")
    return problems


def _profile(function: Callable[[], Any], count: int, top: int) -> str:
    """The ``top`` hot spots of ``count`` calls: by own time, by cumulative time, mloop's own."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        function()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumtime").print_stats(top)
    print("mloop's own functions:", file=out)
    stats.sort_stats("tottime").print_stats(f"{os.sep}mloop{os.sep}", top)
    text = out.getvalue()
    for prefix in (sysconfig.get_paths()["purelib"], str(Path(__file__).resolve().parents[1])):
        text = text.replace(prefix + os.sep, "")
    return "\n".join(line for line in text.splitlines() if line.strip())


# --------------------------------------------------------------------------- worker


def case_sklearn(lib: str, workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """log_model, cold and cached load, 1-row and batch predict, for one library."""
    from sklearn.linear_model import LogisticRegression

    frame, target = make_data(sizes)
    model = LogisticRegression(max_iter=1_000).fit(frame, target)
    example = frame.iloc[:5]
    predictions = model.predict(frame)
    side = MloopSide(workdir) if lib == "mloop" else MlflowSide(workdir)

    # Warm-up, untimed: the first log and load import and set up what they need.
    _, uri = side.log(model, example)
    loaded = side.load(uri)
    loaded.predict(frame.iloc[:1])

    log_seconds, uris = [], []
    for _ in range(sizes.log_repeats):
        seconds, uri = side.log(model, example)
        log_seconds.append(seconds)
        uris.append(uri)
    cold_seconds = []
    for uri in uris:
        start = time.perf_counter()
        loaded = side.load(uri)
        cold_seconds.append(time.perf_counter() - start)
    uri = uris[-1]
    loads = sizes.cached_loads if lib == "mloop" else sizes.mlflow_loads
    cached = _summary(_timed_calls(lambda: side.load(uri), loads))
    registered_uri = side.register(uri)
    side.load(registered_uri)
    registered = _summary(_timed_calls(lambda: side.load(registered_uri), loads))

    loaded = side.load(uri)
    raw = side.raw(loaded)
    warm = one_row_frames(frame, 2 * sizes.warmup_calls, sizes.distinct_rows)
    _paired_calls(raw.predict, loaded.predict, warm[0::2], warm[1::2])
    ones = one_row_frames(frame, 2 * sizes.predict_calls, sizes.distinct_rows)
    one_row = _predict_figures(raw, loaded, ones[0::2], ones[1::2])
    del ones, warm
    batches = batch_frames(frame, 2 * sizes.batch_calls + 2, sizes.batch_rows)
    _paired_calls(raw.predict, loaded.predict, batches[:1], batches[1:2])
    batch = _predict_figures(raw, loaded, batches[2::2], batches[3::2])
    del batches

    problems = _check_predictions(model, raw, loaded, frame, sizes, lib)
    result: dict[str, Any] = {
        "model": f"{type(model).__name__}, {sizes.rows:,} rows x {sizes.columns} columns",
        "uri": uri,
        "registered_uri": registered_uri,
        "log_model": {"median": statistics.median(log_seconds), "all": log_seconds},
        "load_cold": {"median": statistics.median(cold_seconds), "all": cold_seconds},
        "load_cached": cached,
        "load_cached_registered": registered,
        "predict_1_row": one_row,
        "predict_batch": batch,
        "predictions_digest": hashlib.sha256(predictions.tobytes()).hexdigest()[:16],
        "problems": problems,
    }
    if sizes.profile_top:
        fresh = iter(one_row_frames(frame, sizes.predict_calls, sizes.distinct_rows))
        result["profile"] = {
            "load, cached": _profile(lambda: side.load(uri), loads, sizes.profile_top),
            "1-row predict": _profile(
                lambda: loaded.predict(next(fresh)), sizes.predict_calls, sizes.profile_top
            ),
        }
    return result


def run_worker(lib: str, case: str, workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Import ``lib`` and run the case (there is one: ``case``); called in a child process."""
    assert case == CASE, case
    for name in ("pandas", "sklearn.linear_model"):  # both sides' data and model, untimed
        importlib.import_module(name)
    start = time.perf_counter()
    module = importlib.import_module(lib)
    for name in IMPORTS[lib]:
        importlib.import_module(name)
    import_seconds = time.perf_counter() - start
    result = case_sklearn(lib, workdir, sizes)
    result["import_seconds"] = import_seconds
    result["version"] = getattr(module, "__version__", "unknown")
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def _environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOOP_", "MLFLOW_"))}
    env["MLOOP_HOME"] = str(workdir / "home")
    # No network calls from either library while it is being timed.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    return env


def spawn_worker(lib: str, sizes: Sizes, timeout: float) -> dict[str, Any]:
    """Run the case of one library in a child process and return its JSON result."""
    return harness.spawn_worker(
        __file__, lib, CASE, dataclasses.asdict(sizes), timeout, _environment, "bench-models"
    )


# --------------------------------------------------------------------------- report

_SCALE: Final = {"s": 1.0, "ms": 1e3, "µs": 1e6, "MB": 1.0}


def _value_text(value: float | None, unit: str) -> str:
    """A figure (seconds, or MB) in ``unit``."""
    if value is None:
        return "-"
    scaled = value * _SCALE[unit]
    if unit == "s":
        return harness.seconds_text(value)
    if abs(scaled) >= 100:
        return f"{scaled:,.0f} {unit}"
    return f"{scaled:.3g} {unit}"


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table: mloop's figure against MLflow's (seconds, or MB)."""

    label: str
    unit: str
    mloop: float | None
    mlflow: float | None
    goal_ratio: float | None = None
    goal_max: float | None = None
    compare: bool = True
    reference: float | None = None

    def ratio(self) -> tuple[float | None, bool]:
        """time(MLflow) / time(mloop), and whether it came from the reference figure."""
        other, from_reference = self.mlflow, False
        if other is None and self.reference is not None:
            other, from_reference = self.reference, True
        if not self.compare or self.mloop is None or other is None:
            return None, from_reference
        if self.mloop <= 0 or other <= 0:
            return None, from_reference
        return other / self.mloop, from_reference

    def goal_text(self) -> str:
        if self.goal_ratio is not None:
            return f">= {self.goal_ratio:g}x"
        if self.goal_max is not None:
            return f"mloop < {self.goal_max * _SCALE[self.unit]:g} {self.unit}"
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


def _get(results: Mapping[str, Mapping[str, Any]], lib: str, *path: str) -> Any:
    node: Any = results.get(lib, {}).get(CASE)
    for key in path:
        if not isinstance(node, Mapping) or "error" in node or key not in node:
            return None
        node = node[key]
    return node


def build_rows(results: Mapping[str, Mapping[str, Any]], sizes: Sizes) -> list[Row]:
    """Turn the workers' results into table rows."""

    def both(*path: str) -> tuple[Any, Any]:
        return _get(results, "mloop", *path), _get(results, "mlflow", *path)

    batch = f"{sizes.batch_rows:,}-row"
    return [
        Row(f"log_model (median of {sizes.log_repeats})", "s", *both("log_model", "median")),
        Row("load, first after logging (cold)", "ms", *both("load_cold", "median")),
        Row("load again, runs:/ URI (cached)", "ms", *both("load_cached", "median"), goal_max=1e-3),
        Row(
            "load again, models:/NAME/1 (cached)",
            "ms",
            *both("load_cached_registered", "median"),
            goal_max=1e-3,
        ),
        Row(
            "1-row predict, raw estimator",
            "ms",
            *both("predict_1_row", "raw", "median"),
            compare=False,
        ),
        Row(
            "1-row predict, through the wrapper", "ms", *both("predict_1_row", "wrapper", "median")
        ),
        Row(
            "1-row predict, overhead (wrapper - raw)",
            "µs",
            *both("predict_1_row", "overhead"),
            goal_ratio=20,
            reference=MLFLOW_REFERENCE_OVERHEAD,
        ),
        Row(
            "1-row predict, overhead: mloop's goal",
            "µs",
            _get(results, "mloop", "predict_1_row", "overhead"),
            None,
            goal_max=50e-6,
            compare=False,
        ),
        Row(
            f"{batch} predict, raw estimator",
            "ms",
            *both("predict_batch", "raw", "median"),
            compare=False,
        ),
        Row(
            f"{batch} predict, through the wrapper",
            "ms",
            *both("predict_batch", "wrapper", "median"),
        ),
        Row(f"{batch} predict, overhead (wrapper - raw)", "µs", *both("predict_batch", "overhead")),
        Row("import time (pandas and sklearn already imported)", "s", *both("import_seconds")),
        Row("peak RSS of the worker", "MB", *both("peak_rss_mb")),
    ]


def check_notes(results: Mapping[str, Mapping[str, Any]], load: tuple[float, float]) -> list[str]:
    """Failed workers, wrong predictions, different models and a busy machine."""
    notes = worker_notes(results)
    digests = {lib: _get(results, lib, "predictions_digest") for lib in results}
    if None not in digests.values() and len(set(digests.values())) > 1:
        notes.append(f"the two sides trained different models (prediction digests {digests})")
    overhead = _get(results, "mloop", "predict_1_row", "overhead")
    if overhead is not None and overhead <= 0:
        notes.append("mloop's measured overhead is not above zero: noise, run it again")
    cpus = os.cpu_count() or 1
    if load[0] > cpus / 2 or load[1] > cpus / 2 + 1:  # a worker accounts for about 1
        notes.append(
            f"the machine was busy (1-minute load average {load[0]:.1f} before the run,"
            f" {load[1]:.1f} after, on {cpus} CPUs): the figures may be noisier and slower"
            " than on an idle machine"
        )
    return notes


def _ratio_text(row: Row) -> str:
    value, from_reference = row.ratio()
    if value is None:
        return "-"
    text = f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"
    return text + " (ref)" if from_reference else text


def print_report(
    rows: Sequence[Row],
    results: Mapping[str, Mapping[str, Any]],
    sizes: Sizes,
    notes: Sequence[str],
    total_seconds: float,
) -> None:
    """Print the table (Rich if installed, plain text otherwise), the notes and any profiles."""
    lines = [
        (
            row.label,
            _value_text(row.mloop, row.unit),
            "MLflow",
            _value_text(row.mlflow, row.unit),
            _ratio_text(row),
            row.goal_text(),
            row.status(),
        )
        for row in rows
    ]
    model = _get(results, "mloop", "model") or _get(results, "mlflow", "model") or "-"
    footer = [
        f"Model: scikit-learn {model} (float64 and int64 columns), seeded; SQLite + local"
        " artifacts, each library in a fresh process and folder.",
        f"log_model: median of {sizes.log_repeats}, each into a new run (mloop: then flush())."
        f" Cold load: the first load of each of those models. Cached load: median of"
        f" {sizes.cached_loads:,} (mloop) / {sizes.mlflow_loads:,} (MLflow, no cache) repeated"
        " loads of one URI.",
        f"Predict: {sizes.predict_calls:,} 1-row and {sizes.batch_calls} {sizes.batch_rows:,}-row"
        " calls of the wrapper and of the raw estimator inside it, interleaved, each call on a"
        " DataFrame of its own built before the timing, gc off; overhead = median(wrapper) -"
        " median(raw), within one process.",
        "Raw estimator times vary between processes by up to about 1.5x, so they are not"
        " compared across libraries.",
        "Ratios: time(MLflow) / time(mloop), so higher is better for mloop.",
    ]
    if "mlflow" not in results:
        footer.append(
            "(ref): against the issue's MLflow 3.17 overhead (pyfunc 2.2 ms - raw 1.0 ms per row)."
        )
    footer += [f"NOTE: {note}" for note in notes]
    footer.append(f"Total wall time: {total_seconds:.1f} s")
    harness.print_table(
        "mloop vs MLflow: log, load and predict a scikit-learn model", lines, footer
    )
    for lib in results:
        for what, text in (_get(results, lib, "profile") or {}).items():
            print(f"\n== {lib} profile: {what} ==\n{text}")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark mloop's model log, load and predict against MLflow's.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--only", choices=LIBRARIES, help="run one library only")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all results as JSON")
    parser.add_argument("--predict-calls", type=int, help="1-row predict calls (default 2,000)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the cached load and the 1-row predict (after the timing)",
    )
    harness.add_worker_arguments(parser, LIBRARIES)
    # One case only; the worker is told it like the other scripts' workers.
    parser.add_argument("--case", action="append", choices=[CASE], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def sizes_from_args(args: argparse.Namespace) -> Sizes:
    if args.sizes:
        return Sizes(**json.loads(args.sizes))
    base = QUICK_SIZES if args.quick else FULL_SIZES
    overrides = {
        "predict_calls": args.predict_calls,
        "profile_top": 20 if args.profile else None,
    }
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def select_libraries(only: str | None) -> list[str] | None:
    """The libraries to run, or None (after explaining why) if one is missing."""
    libs = [only] if only else list(LIBRARIES)
    needed = {"mloop": ("mloop", "sklearn", "skops"), "mlflow": ("mlflow", "sklearn")}
    missing = sorted(
        {name for lib in libs for name in needed[lib] if importlib.util.find_spec(name) is None}
    )
    if missing:
        other = "mlflow" if "mlflow" not in missing else "mloop"
        print(
            f"Not importable from {sys.executable}: {', '.join(missing)}.\n"
            f"Install the benchmark's dependencies with `{REQUIREMENTS_HINT}`,\n"
            f"or run `python bench/models.py --only {other}` for one side alone.",
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
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {lib: {} for lib in libs}
    for lib in libs:
        print(f"[{lib:>6}] {CASE:<8} ...", end="", flush=True, file=sys.stderr)
        result = spawn_worker(lib, sizes, args.timeout)
        results[lib][CASE] = result
        outcome = "FAILED" if "error" in result else f"{result['worker_wall_seconds']:.1f} s"
        print(f" {outcome}", file=sys.stderr)
    total_seconds = time.perf_counter() - started
    load = (load_before, os.getloadavg()[0])

    rows = build_rows(results, sizes)
    notes = check_notes(results, load)
    print_report(rows, results, sizes, notes, total_seconds)

    if args.json:
        meta = {
            "quick": args.quick,
            "sizes": dataclasses.asdict(sizes),
            "total_seconds": total_seconds,
            "load_average_before_after": list(load),
        }
        harness.write_results(args.json, results, rows, notes, meta)
    return 1 if any("error" in r for cases in results.values() for r in cases.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
